"""Auto-delete, the user's own rule: with it on (3, 18 or 36 months), a
conversation is deleted automatically N calendar months after its last
activity, exactly as if the user had deleted it then; its content then goes
by the deletion rule (docs/retention-rules.md, `auto_delete`).

So every date the user sees is at most last activity + N months + the
deletion window (`deleted_days`), and never later than without auto-delete:
`retention.policy.decide` takes the earlier of the two. Flagged content keeps
its own date (the article keeps it "whatever the rules below give, deletion
included"), and a legal hold keeps everything; commercial accounts cannot set
it.
"""

from datetime import datetime

from retention.policy.dates import add_days, add_months


def auto_delete_at(last_activity_at: datetime, after_months: int | None) -> datetime | None:
    """The moment the conversation leaves the history (None: auto-delete off)."""
    if after_months is None:
        return None
    return add_months(last_activity_at, after_months)


def auto_delete_until(
    last_activity_at: datetime, after_months: int | None, deleted_days: int
) -> datetime | None:
    """The latest its content may exist under auto-delete: deleted at
    auto_delete_at, then the deletion window."""
    moment = auto_delete_at(last_activity_at, after_months)
    return None if moment is None else add_days(moment, deleted_days)


def auto_delete_due(last_activity_at: datetime, after_months: int | None, now: datetime) -> bool:
    """Due at its moment, never a microsecond before."""
    moment = auto_delete_at(last_activity_at, after_months)
    return moment is not None and moment <= now
