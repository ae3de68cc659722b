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

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

# Every retention date shown to a user carries this: a legal hold is never
# revealed, so the date is always "unless retention is required by law".
LAW_CAVEAT = gettext_lazy("unless retention is required by law")

# Day month year in words, in the active language ("2 February 2026",
# "2 février 2026"); the UTC title adds the time.
DAY_FORMAT = "j F Y"
UTC_FORMAT = "j F Y, H:i"


def _whole_months(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + (later.month - earlier.month)
    return months - 1 if later.day < earlier.day else months


def _local_day(moment: datetime) -> date:
    """The calendar day of `moment` in the active time zone (the person's,
    set by privacy_portal.http.TimeZoneMiddleware; UTC when none)."""
    return timezone.localtime(moment).date()


def relative_text(target: datetime, now: datetime) -> str:
    """'in 29 days', 'today', '3 days ago', 'in 5 years': calendar days,
    months and years in the person's time zone (5 calendar years read
    "5 years", not 4.99)."""
    target_day, today = _local_day(target), _local_day(now)
    days = (target_day - today).days
    if days == 0:
        return _("today")
    n = abs(days)
    if n < 60:
        amount = ngettext("%(n)d day", "%(n)d days", n) % {"n": n}
    else:
        months = _whole_months(*sorted((target_day, today)))
        if months < 24:
            amount = ngettext("%(n)d month", "%(n)d months", months) % {"n": months}
        else:
            years = months // 12
            amount = ngettext("%(n)d year", "%(n)d years", years) % {"n": years}
    if days > 0:
        return _("in %(amount)s") % {"amount": amount}
    return _("%(amount)s ago") % {"amount": amount}


def date_text(moment: datetime) -> str:
    """The day, in words, in the person's time zone and language."""
    return date_format(timezone.localtime(moment), DAY_FORMAT)


def utc_text(moment: datetime) -> str:
    """The moment in UTC, to the minute: what a date's hover title says."""
    return _("%(moment)s UTC") % {"moment": date_format(moment.astimezone(UTC), UTC_FORMAT)}


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as the JSON API promises."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def time_html(moment: datetime) -> SafeString:
    """A <time>: the day in the person's zone, ISO UTC in `datetime`, the UTC
    time in `title` (shown on hover)."""
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        iso_utc(moment),
        utc_text(moment),
        date_text(moment),
    )


@dataclass(frozen=True)
class Timeline:
    """The retention timeline of one thing: from its start (x=0, last activity
    or submission) to its removal date (x=100), with today at `today_x`.
    `bar` is the compact bar of a list row; templates/dashboard/_timeline.html
    draws the full one with an axis (start, today, end) and a legend."""

    today_x: float
    past: bool  # today is after the end: removal is due
    label: str
    start: datetime | None = None
    end: datetime | None = None
    now: datetime | None = None

    @property
    def x(self) -> str:
        # Pre-formatted: SVG coordinates must not go through number localisation.
        return f"{self.today_x:.1f}"

    @property
    def step(self) -> int:
        """Today's position in steps of 5 (0..100): the CSS class `at-<step>`
        places the "Today" label (no inline style under the CSP)."""
        return int(round(self.today_x / 5) * 5)

    @property
    def today_anchor(self) -> str:
        # The "today" label stays inside the drawing near either end.
        if self.today_x < 15:
            return "start"
        return "end" if self.today_x > 85 else "middle"

    @property
    def start_text(self) -> str:
        return date_text(self.start) if self.start else ""

    @property
    def end_text(self) -> str:
        return date_text(self.end) if self.end else ""

    @property
    def start_time(self) -> SafeString:
        return time_html(self.start) if self.start else mark_safe("")

    @property
    def end_time(self) -> SafeString:
        return time_html(self.end) if self.end else mark_safe("")

    @property
    def remaining(self) -> str:
        if self.past or self.end is None or self.now is None:
            return _("none: removal is due")
        return relative_text(self.end, self.now)

    @property
    def bar(self) -> SafeString:
        """The compact bar (list rows): kept so far, remaining, today."""
        return format_html(
            '<svg class="timeline" viewBox="0 0 100 12" width="120" height="14" role="img" '
            'aria-label="{label}" focusable="false"><title>{label}</title>'
            '<line class="tl-track" x1="0" y1="6" x2="100" y2="6" stroke-width="2"/>'
            '<line class="tl-kept" x1="0" y1="6" x2="{x}" y2="6" stroke-width="4"/>'
            '<line class="tl-now" x1="{x}" y1="0" x2="{x}" y2="12" stroke-width="2.5"/></svg>',
            label=self.label,
            x=self.x,
        )


@dataclass(frozen=True)
class ShownDate:
    at: datetime
    text: str  # "2 February 2026", in the person's time zone
    relative: str  # "in 29 days"
    iso: str  # ISO 8601 UTC
    title: str = ""  # "2 February 2026, 09:00 UTC"

    @property
    def caveat(self) -> str:
        return LAW_CAVEAT

    @property
    def html(self) -> SafeString:
        """The date's markup wherever a date is shown (templates/dashboard/
        _date.html prints this, list rows print it directly)."""
        return format_html(
            '<time datetime="{}" title="{}">{}</time> <span class="relative">({})</span>',
            self.iso,
            self.title,
            self.text,
            self.relative,
        )


def shown_date(moment: datetime | None, now: datetime) -> ShownDate | None:
    if moment is None:
        return None
    return ShownDate(
        moment,
        date_text(moment),
        relative_text(moment, now),
        iso_utc(moment) or "",
        utc_text(moment),
    )


def timeline(start: datetime, end: datetime | None, now: datetime) -> Timeline | None:
    """The bar runs from last activity (x=0) to retain-until (x=100); the
    'today' marker sits where now falls, clamped to the bar."""
    if end is None:
        return None
    span = (end - start).total_seconds()
    x = 100.0 if span <= 0 else (now - start).total_seconds() / span * 100
    x = round(min(max(x, 0.0), 100.0), 1)
    past = now >= end
    if past:
        label = _("Timeline from %(start)s to %(end)s; the date has passed, removal is due") % {
            "start": date_text(start),
            "end": date_text(end),
        }
    else:
        label = _("Timeline from %(start)s to %(end)s; today is %(percent)s%% of the way") % {
            "start": date_text(start),
            "end": date_text(end),
            "percent": f"{x:.0f}",
        }
    return Timeline(today_x=x, past=past, label=label, start=start, end=end, now=now)


def erasure_text(purged_at: datetime, systems: list[tuple[str, datetime | None]]) -> str:
    """What became of a purged conversation elsewhere, in words: "Erased from
    the portal on 3 May 2026; confirmed by Chat history on 4 May 2026;
    waiting for Warehouse since 3 May 2026." """
    parts = [_("Erased from the portal on %(date)s") % {"date": date_text(purged_at)}]
    parts += [
        _("confirmed by %(system)s on %(date)s") % {"system": name, "date": date_text(at)}
        for name, at in systems
        if at
    ]
    parts += [
        _("waiting for %(system)s since %(date)s") % {"system": name, "date": date_text(purged_at)}
        for name, at in systems
        if not at
    ]
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
