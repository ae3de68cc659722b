"""'Download my data' as a zip: `index.html` to read (offline, no scripts,
every conversation with its messages, dates and reasons in words),
`data.json` (the /api/me/export document, indented) and `README.txt`
(what each field of data.json means).

Built into a SpooledTemporaryFile (in memory up to SPOOL_BYTES, on disk
beyond), each member written as the export's rows stream from the database,
so memory stays bounded whatever the size of the history; the view then
streams the file out. Every value in index.html is escaped: it is the
user's own text, opened by their browser from disk."""

import tempfile
import zipfile
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from html import escape
from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import AccountType, ConsentSource, Plan, User
from accounts.roles import StaffRole
from dashboard.export import WITHHELD, Rows, export_chunks, export_sections
from dashboard.presentation import LAW_CAVEAT, date_text
from retention.models import ConversationKind, FeedbackKind, MessageRole, Rule
from retention.policy.article import quotes_for
from retention.selectors.settings import policy_durations
from staff.models import DataKind

SPOOL_BYTES = 8 * 1024 * 1024
WRITE_BYTES = 64 * 1024  # what one member write gathers before compressing it

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1,h2,h3{line-height:1.25}section.conversation{border-top:1px solid #ccc;padding-top:1rem}
.message{margin:.5rem 0;padding:.5rem .75rem;border-left:3px solid #0b5394;background:#f4f6f8}
.message.assistant{border-left-color:#777}.message p{white-space:pre-wrap;margin:.25rem 0 0}
.meta{color:#4a4a4a}blockquote{margin:.25rem 0 .5rem 1rem;font-style:italic}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _when(iso: str | None) -> str:
    """An ISO 8601 time from the document, in words (UTC)."""
    if not iso:
        return _("no date")
    return date_text(datetime.fromisoformat(iso))


def _label(choices, value: str | None) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


@cache
def _reason_quotes(rule: str) -> tuple[str, ...]:
    topic = rule if rule in {r.value for r in Rule} else "general"
    return tuple(q.text for q in quotes_for(topic, policy_durations()))


def _kept_until(until: str | None, is_commercial: bool) -> str:
    if is_commercial:
        return _("Your organisation's commercial terms decide how long it is kept.")
    if until is None:
        return _("No removal date applies.")
    return _("Kept until %(date)s, %(caveat)s.") % {"date": _when(until), "caveat": LAW_CAVEAT}


def _conversation_html(c: dict, is_commercial: bool) -> str:
    runs = ", ".join(_e(name) for name in c["training_runs"])
    parts = [
        f'<section class="conversation" id="c-{_e(c["id"])}">',
        f"<h3>{_e(c['title']) or _e(_('(untitled)'))}</h3>",
        '<p class="meta">'
        + _e(
            _("%(kind)s, started %(start)s, last active %(last)s.")
            % {
                "kind": _label(ConversationKind, c["kind"]),
                "start": _when(c["created_at"]),
                "last": _when(c["last_activity_at"]),
            }
        )
        + "</p>",
        "<p>"
        + _e(_kept_until(c["retain_until"], is_commercial))
        + " "
        + _e(_("Why: %(rule)s.") % {"rule": _label(Rule, c["rule"])})
        + "</p>",
    ]
    if not is_commercial:
        parts += [f"<blockquote>{_e(text)}</blockquote>" for text in _reason_quotes(c["rule"])]
    if c["flagged_at"]:
        parts.append(
            "<p>"
            + _e(
                _("Flagged by our trust and safety classifiers on %(date)s.")
                % {"date": _when(c["flagged_at"])}
            )
            + "</p>"
        )
    parts.append(
        "<p>"
        + (
            _e(_("Used by training runs: ")) + runs
            if runs
            else _e(
                _("Shared for model training.")
                if c["shared_for_training"]
                else _("Not shared for model training.")
            )
        )
        + "</p>"
    )
    for m in c["messages"]:
        parts.append(
            f'<div class="message {_e(m["role"])}"><span class="meta">'
            + _e(
                _("%(role)s, %(date)s")
                % {"role": _label(MessageRole, m["role"]), "date": _when(m["sent_at"])}
            )
            + f"</span><p>{_e(m['content'])}</p></div>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def _table(headings: list[str], rows: Iterator[list[str]], empty: str) -> Iterator[str]:
    started = False
    for row in rows:
        if not started:
            started = True
            yield (
                "<table><thead><tr>"
                + "".join(f'<th scope="col">{_e(h)}</th>' for h in headings)
                + "</tr></thead><tbody>"
            )
        yield "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>"
    yield "</tbody></table>" if started else f"<p>{_e(empty)}</p>"


def index_html(*, user: User, now: datetime) -> Iterator[str]:
    """The export as one readable page, section by section."""
    commercial = user.is_commercial
    yield (
        f'<!doctype html>\n<html lang="{_e(get_language() or "en")}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(_('Your data from the privacy portal'))}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{_e(_('Your data from the privacy portal'))}</h1>"
    )
    for name, value in export_sections(user=user, now=now):
        rows = value.items if isinstance(value, Rows) else None
        if name == "exported_at":
            yield f"<p>{_e(_('Exported on %(date)s.') % {'date': _when(value)})}</p>"
        elif name == "note":
            yield f"<p>{_e(value)}</p>"
        elif name == "account":
            yield f"<h2>{_e(_('Your account'))}</h2><dl>"
            for label, shown in (
                (_("Email"), value["email"]),
                (_("Account id"), value["id"]),
                (_("Account type"), _label(AccountType, value["account_type"])),
                (_("Plan"), _label(Plan, value["plan"])),
                (_("Joined"), _when(value["joined_at"])),
            ):
                yield f"<dt>{_e(label)}</dt><dd>{_e(shown)}</dd>"
            yield "</dl>"
        elif name == "consent_history":
            yield f"<h2>{_e(_('Your model-training consent, oldest first'))}</h2>"
            yield from _table(
                [_("From"), _("Setting"), _("Where")],
                (
                    [
                        _when(c["effective_at"]),
                        _("Allowed") if c["allowed"] else _("Not allowed"),
                        _label(ConsentSource, c["source"]),
                    ]
                    for c in rows
                ),
                _("You never changed this setting: training use was not allowed."),
            )
        elif name == "conversations":
            yield f"<h2>{_e(_('Your conversations, most recent first'))}</h2>"
            count = 0
            for c in rows:
                count += 1
                yield _conversation_html(c, commercial)
            if not count:
                yield f"<p>{_e(_('There are no conversations in your history.'))}</p>"
        elif name == "deleted_awaiting_purge":
            yield f"<h2>{_e(_('Conversations you deleted, still stored until their date'))}</h2>"
            yield from _table(
                [_("Conversation"), _("Kind"), _("Deleted"), _("Removed by")],
                (
                    [
                        d["id"],
                        _label(ConversationKind, d["kind"]),
                        _when(d["deleted_at"]),
                        _when(d["retain_until"]) if d["retain_until"] else "-",
                    ]
                    for d in rows
                ),
                _("None."),
            )
        elif name == "flags":
            yield f"<h2>{_e(_('Trust and safety flags'))}</h2>"
            yield from _table(
                [_("Conversation"), _("Flagged"), _("Scores kept until")],
                (
                    [
                        f["conversation_id"],
                        _when(f["flagged_at"]),
                        _when(f["scores_retain_until"]) if f["scores_retain_until"] else "-",
                    ]
                    for f in rows
                ),
                _("None of your conversations was flagged."),
            )
        elif name == "feedback":
            yield f"<h2>{_e(_('Your feedback'))}</h2>"
            yield from _table(
                [_("Sent"), _("Kind"), _("Comment"), _("Excerpt"), _("Kept until")],
                (
                    [
                        _when(f["submitted_at"]),
                        _label(FeedbackKind, f["kind"]),
                        f["comment"],
                        f["excerpt"],
                        _when(f["retain_until"]) if f["retain_until"] else "-",
                    ]
                    for f in rows
                ),
                _("You sent no feedback."),
            )
        elif name == "deletion_receipts":
            yield f"<h2>{_e(_('Receipts of conversations removed from our storage'))}</h2>"
            yield from _table(
                [_("Conversation"), _("Kind"), _("Deleted"), _("Removed")],
                (
                    [
                        r["conversation_id"],
                        _label(ConversationKind, r["kind"]),
                        _when(r["deleted_at"]) if r["deleted_at"] else "-",
                        _when(r["purged_at"]),
                    ]
                    for r in rows
                ),
                _("None yet."),
            )
        elif name == "training_runs":
            yield f"<h2>{_e(_('Training runs that used your conversations'))}</h2>"
            yield from _table(
                [_("Run"), _("Started"), _("Conversation")],
                ([t["run"], _when(t["started_at"]), t["conversation_id"]] for t in rows),
                _("No training run used your conversations."),
            )
        elif name == "policy_notices_read":
            yield f"<h2>{_e(_('Policy changes you dismissed'))}</h2>"
            yield from _table(
                [_("Policy version of"), _("Dismissed")],
                ([_when(p["effective_at"]), _when(p["read_at"])] for p in rows),
                _("None."),
            )
        elif name == "staff_access":
            yield f"<h2>{_e(_('Staff who looked at your account'))}</h2>"
            yield from _table(
                [_("When"), _("Role"), _("Reason"), _("What they saw")],
                (
                    [
                        _when(a["at"]),
                        _label(StaffRole, a["role"]),
                        a["reason"],
                        _label(DataKind, a["data_kind"]),
                    ]
                    for a in rows
                ),
                _("Nobody."),
            )
        elif name == "withheld":
            yield f"<h2>{_e(_('What this export leaves out, and why'))}</h2><ul>"
            for item in value:
                yield f"<li><strong>{_e(item['what'])}</strong>: {_e(item['why'])}</li>"
            yield "</ul>"
    yield "</body></html>\n"


def readme_text() -> str:
    return render_to_string("dashboard/export/README.txt", {"withheld": WITHHELD})


class _Buffered:
    """Gathers small chunks into writes of about WRITE_BYTES."""

    def __init__(self, out) -> None:
        self.out, self.parts, self.size = out, [], 0

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self.parts.append(data)
        self.size += len(data)
        if self.size >= WRITE_BYTES:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.out.write(b"".join(self.parts))
            self.parts, self.size = [], 0


def _member(archive: zipfile.ZipFile, name: str, chunks: Iterator[str]) -> None:
    with archive.open(name, "w", force_zip64=True) as out:
        buffered = _Buffered(out)
        for chunk in chunks:
            buffered.write(chunk)
        buffered.flush()


def export_zip(*, user: User, now: datetime) -> tempfile.SpooledTemporaryFile:
    """The zip, rewound, ready to stream; the caller closes it."""
    # Not a context manager: the response owns the file and closes it once sent.
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    try:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _member(archive, "index.html", index_html(user=user, now=now))
            _member(archive, "data.json", export_chunks(user=user, now=now, indent=2))
            archive.writestr("README.txt", readme_text())
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool
