"""The auto-delete page: the setting in force, what a choice would do (real
counts and the conversations it reaches first), and the history of choices.
A fixed number of queries whatever the size of the history."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.auto_delete import AUTO_DELETE_MONTHS
from accounts.models import ConsentSource, User
from accounts.selectors import auto_delete_history
from dashboard.presentation import ShownDate, shown_date
from dashboard.selectors.common import id_url
from retention.selectors.conversations import visible_conversations
from retention.selectors.settings import policy_durations
from retention.services.auto_delete import auto_delete_change_preview, auto_delete_moments

SAMPLE = 5  # conversations named in a preview, per list


def period_text(after_months: int | None) -> str:
    """ "Off" or "After 18 months"."""
    if after_months is None:
        return _("Off")
    return ngettext("After %(n)d month", "After %(n)d months", after_months) % {"n": after_months}


def period_choices() -> list[tuple[str, str]]:
    """The radio buttons: (value, label)."""
    return [("off", period_text(None))] + [(str(n), period_text(n)) for n in AUTO_DELETE_MONTHS]


def period_value(after_months: int | None) -> str:
    return "off" if after_months is None else str(after_months)


@dataclass(frozen=True)
class AutoDeleteHistoryRow:
    setting: str
    at: ShownDate
    source: str


@dataclass(frozen=True)
class AutoDeleteState:
    after_months: int | None
    value: str  # the radio value in force
    text: str  # "Off", "After 3 months"
    since: ShownDate | None  # None: never chosen (off)
    history: list[AutoDeleteHistoryRow]
    window_days: int  # deletion to purge


def auto_delete_state(*, user: User, now: datetime) -> AutoDeleteState:
    """The setting in force (the account row) and its history (one query)."""
    sources = dict(ConsentSource.choices)
    history = [
        AutoDeleteHistoryRow(
            period_text(c.after_months),
            shown_date(c.recorded_at, now),
            sources.get(c.source, c.source),
        )
        for c in auto_delete_history(user_id=user.pk)
    ]
    months = user.auto_delete_months
    return AutoDeleteState(
        after_months=months,
        value=period_value(months),
        text=period_text(months),
        since=history[0].at if history else None,
        history=history,
        window_days=policy_durations().deleted_days,
    )


@dataclass(frozen=True)
class PreviewRow:
    title: str
    url: str
    last_activity: ShownDate
    deleted_at: ShownDate  # its auto-delete moment (now, for those already past it)


@dataclass(frozen=True)
class AutoDeletePreview:
    after_months: int | None
    value: str
    text: str
    is_current: bool  # previewing the setting in force: nothing to confirm
    due_now: int
    due_now_rows: list[PreviewRow]  # the most recent of them
    upcoming: list[PreviewRow]  # the next ones after now, soonest first
    earlier: int
    later: int
    window_days: int  # deletion to purge

    @property
    def due_now_more(self) -> int:
        return self.due_now - len(self.due_now_rows)


def auto_delete_preview(
    *, user: User, after_months: int | None, now: datetime
) -> AutoDeletePreview:
    """What choosing `after_months` would do, with real counts: one aggregate
    and two short lists (three queries), whatever the history's size."""
    counts = auto_delete_change_preview(user_id=user.pk, after_months=after_months, now=now)
    due_rows: list[PreviewRow] = []
    upcoming: list[PreviewRow] = []
    if after_months is not None:
        url = id_url("dashboard:conversation")
        moments = auto_delete_moments(
            visible_conversations(user_id=user.pk), after_months=after_months
        ).only("external_id", "title", "last_activity_at")

        def row(c, at: datetime) -> PreviewRow:
            return PreviewRow(
                c.title or _("Untitled conversation"),
                url(c.external_id),
                shown_date(c.last_activity_at, now),
                shown_date(at, now),
            )

        due_rows = [
            row(c, now)
            for c in moments.filter(auto_delete_at__lte=now).order_by("-last_activity_at", "-pk")[
                :SAMPLE
            ]
        ]
        upcoming = [
            row(c, c.auto_delete_at)
            for c in moments.filter(auto_delete_at__gt=now).order_by("last_activity_at", "pk")[
                :SAMPLE
            ]
        ]
    return AutoDeletePreview(
        after_months=after_months,
        value=period_value(after_months),
        text=period_text(after_months),
        is_current=after_months == user.auto_delete_months,
        due_now=counts.due_now,
        due_now_rows=due_rows,
        upcoming=upcoming,
        earlier=counts.earlier,
        later=counts.later,
        window_days=policy_durations().deleted_days,
    )
