"""Pure presentation helpers of the dashboard: how a date, a deadline, a
timeline, a page cursor and the article's markdown body are shown.

Nothing here touches the database, so every wording and every coordinate is
testable with plain values. Views and selectors call these; templates only
print what they return.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Every retention date shown to a user carries this: a legal hold is never
# revealed, so the date is always "unless retention is required by law".
LAW_CAVEAT = "unless retention is required by law"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _whole_months(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + (later.month - earlier.month)
    return months - 1 if later.day < earlier.day else months


def relative_text(target: datetime, now: datetime) -> str:
    """'in 29 days', 'today', '3 days ago', 'in 5 years': calendar days,
    months and years in UTC (5 calendar years read "5 years", not 4.99)."""
    target_day, today = target.astimezone(UTC).date(), now.astimezone(UTC).date()
    days = (target_day - today).days
    if days == 0:
        return "today"
    n = abs(days)
    if n < 60:
        amount = _plural(n, "day")
    else:
        months = _whole_months(*sorted((target_day, today)))
        amount = _plural(months, "month") if months < 24 else _plural(months // 12, "year")
    return f"in {amount}" if days > 0 else f"{amount} ago"


def date_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%-d %B %Y")


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as the JSON API promises."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Timeline:
    """Coordinates of the small SVG bar, in a 0..100 wide viewBox."""

    today_x: float
    past: bool  # today is after the end: purge is due
    label: str

    @property
    def x(self) -> str:
        # Pre-formatted: SVG coordinates must not go through number localisation.
        return f"{self.today_x:.1f}"


@dataclass(frozen=True)
class ShownDate:
    at: datetime
    text: str  # "2 February 2026"
    relative: str  # "in 29 days"
    iso: str

    @property
    def caveat(self) -> str:
        return LAW_CAVEAT


def shown_date(moment: datetime | None, now: datetime) -> ShownDate | None:
    if moment is None:
        return None
    return ShownDate(moment, date_text(moment), relative_text(moment, now), iso_utc(moment) or "")


def timeline(start: datetime, end: datetime | None, now: datetime) -> Timeline | None:
    """The bar runs from last activity (x=0) to retain-until (x=100); the
    'today' marker sits where now falls, clamped to the bar."""
    if end is None:
        return None
    span = (end - start).total_seconds()
    x = 100.0 if span <= 0 else (now - start).total_seconds() / span * 100
    x = round(min(max(x, 0.0), 100.0), 1)
    past = now >= end
    label = f"Timeline from last activity on {date_text(start)} to {date_text(end)}; " + (
        "the date has passed, removal is due" if past else f"today is {x:.0f}% of the way"
    )
    return Timeline(today_x=x, past=past, label=label)


def erasure_text(purged_at: datetime, systems: list[tuple[str, datetime | None]]) -> str:
    """What became of a purged conversation elsewhere, in words: "Erased from
    the portal on 3 May 2026; confirmed by Chat history on 4 May 2026;
    waiting for Warehouse since 3 May 2026." """
    parts = [f"Erased from the portal on {date_text(purged_at)}"]
    parts += [f"confirmed by {name} on {date_text(at)}" for name, at in systems if at]
    parts += [f"waiting for {name} since {date_text(purged_at)}" for name, at in systems if not at]
    return "; ".join(parts) + "."


class BadCursor(ValueError):
    """A page cursor that this site did not make."""


def cursor_encode(moment: datetime, pk: int) -> str:
    raw = f"{moment.astimezone(UTC).isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    """The (moment, id) a cursor points after. Raises BadCursor on anything else."""
    if not cursor or len(cursor) > 200:
        raise BadCursor("empty or too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment_text, pk_text = raw.split("|")
        moment = datetime.fromisoformat(moment_text)
        pk = int(pk_text)
        if moment.tzinfo is None or pk < 1:
            raise BadCursor("not a cursor of this site")
        # In UTC here: a moment at the edge of the calendar (year 1 at +05:00)
        # overflows there, and would otherwise overflow in the database adapter.
        moment = moment.astimezone(UTC)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError) as exc:
        raise BadCursor(str(exc)) from exc
    return moment, pk


def render_article_body(body: str) -> SafeString:
    """The article's markdown subset, escaped: blank lines separate blocks, a
    block of '- ' lines is a list, anything else a paragraph. No raw HTML, no
    links: the text is escaped before any tag is added."""
    blocks: list[str] = []
    items: list[str] = []  # bullets separated by blank lines still form one list
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = [line.strip() for line in block.strip().splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.startswith("- ") for line in lines):
            items.extend(f"<li>{escape(line[2:].strip())}</li>" for line in lines)
            continue
        if items:
            blocks.append(f"<ul>{''.join(items)}</ul>")
            items = []
        blocks.append(f"<p>{escape(' '.join(lines))}</p>")
    if items:
        blocks.append(f"<ul>{''.join(items)}</ul>")
    return mark_safe("\n".join(blocks))  # noqa: S308 - every piece of text was escaped above


# What a row says about its removal and why: one wording for every page
# (overview, deleted, feedback). A date that has passed while the item is
# still held is "due for removal", never "removed by the next purge run": the
# product cannot promise when a run happens, nor that the law allows it.


@dataclass(frozen=True)
class Removal:
    date: ShownDate
    due: bool  # the date has passed and the item is still held


def removal(moment: datetime | None, now: datetime) -> Removal | None:
    shown = shown_date(moment, now)
    if shown is None:
        return None
    return Removal(shown, moment <= now)


def deadline_reason(
    *,
    decided_by: str,
    durations,
    last_activity_at: datetime | None = None,
    deleted_at: datetime | None = None,
    flagged_at: datetime | None = None,
    auto_delete_months: int | None = None,
) -> str:
    """Why an item's removal date is what it is, in words, from the rule that
    set it (retention.policy's `decided_by`): "You deleted it on 5 May 2026:
    deleted conversations are removed from our systems within 30 days." """
    deleted = (
        _("You deleted it on %(date)s. ") % {"date": date_text(deleted_at)} if deleted_at else ""
    )
    if decided_by == "flagged" and flagged_at is not None:
        years = durations.flagged_content_years
        text = ngettext(
            "Our trust and safety classifiers flagged it on %(date)s: flagged content is kept "
            "up to %(n)d year from the flag",
            "Our trust and safety classifiers flagged it on %(date)s: flagged content is kept "
            "up to %(n)d years from the flag",
            years,
        ) % {"date": date_text(flagged_at), "n": years}
        if deleted_at:
            text += _(", even after you delete it")
        scores = durations.flagged_scores_years
        text += ngettext(
            "; its classification scores are kept %(n)d year.",
            "; its classification scores are kept %(n)d years.",
            scores,
        ) % {"n": scores}
        return deleted + text
    if decided_by == "deleted":
        days = durations.deleted_days
        return deleted + ngettext(
            "Deleted conversations are removed from our systems within %(n)d day.",
            "Deleted conversations are removed from our systems within %(n)d days.",
            days,
        ) % {"n": days}
    own_date = (
        _("Its own date came first: ") if deleted_at is not None and decided_by in BASIS else ""
    )
    if decided_by == "shared_training":
        years = durations.shared_training_years
        return deleted + capfirst(
            own_date
            + ngettext(
                "conversations shared for model training are kept up to %(n)d year after their "
                "last activity (%(date)s).",
                "conversations shared for model training are kept up to %(n)d years after their "
                "last activity (%(date)s).",
                years,
            )
            % {"n": years, "date": date_text(last_activity_at)}
        )
    if decided_by == "not_shared":
        days = durations.not_shared_days
        return deleted + capfirst(
            own_date
            + ngettext(
                "conversations not shared for model training are kept up to %(n)d day after their "
                "last activity (%(date)s).",
                "conversations not shared for model training are kept up to %(n)d days after their "
                "last activity (%(date)s).",
                days,
            )
            % {"n": days, "date": date_text(last_activity_at)}
        )
    if decided_by == "auto_delete" and auto_delete_months:
        return deleted + ngettext(
            "Your auto-delete setting removes conversations %(n)d month after their last "
            "activity (%(date)s), within the %(days)d days deleted conversations take to go.",
            "Your auto-delete setting removes conversations %(n)d months after their last "
            "activity (%(date)s), within the %(days)d days deleted conversations take to go.",
            auto_delete_months,
        ) % {
            "n": auto_delete_months,
            "date": date_text(last_activity_at),
            "days": durations.deleted_days,
        }
    if decided_by == "commercial":
        return _("Your organisation's commercial terms decide how long it is kept.")
    return deleted


BASIS = ("shared_training", "not_shared")


def days_after_text(earlier: datetime, later: datetime) -> str:
    """'29 days' between two moments, in whole calendar days (UTC)."""
    days = (later.astimezone(UTC).date() - earlier.astimezone(UTC).date()).days
    return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
