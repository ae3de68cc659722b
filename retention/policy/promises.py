"""The deletion promise ("Deleted from our back-end storage systems within 30
days") as plain values, and durations in words.

A deleted conversation must be gone by deleted_at + the deleted_days setting.
The purge runs on a schedule, so an item removed within one schedule interval
of that moment was removed by the run that was due; later than that, the
promise was broken, and deletion health and the item's receipt say by how
long. Pure: no database.
"""

from datetime import datetime, timedelta

from django.utils.translation import ngettext

from retention.policy.dates import add_days


def deletion_promise(deleted_at: datetime, deleted_days: int) -> datetime:
    """The latest moment a deleted conversation may still be stored."""
    return add_days(deleted_at, deleted_days)


def late_by(
    *, deleted_at: datetime | None, purged_at: datetime, deleted_days: int, tolerance: timedelta
) -> timedelta | None:
    """How long after the promise a deleted item was removed, when that is
    more than `tolerance` (one schedule interval); None when on time or not
    deleted by the user."""
    if deleted_at is None:
        return None
    late = purged_at - deletion_promise(deleted_at, deleted_days)
    return late if late > tolerance else None


def receipt_late_by(
    *,
    rule: str,
    deleted_at: datetime | None,
    retain_until: datetime,
    purged_at: datetime,
    deleted_days: int,
    tolerance: timedelta,
) -> timedelta | None:
    """late_by for a deletion receipt: only a conversation purged under the
    `deleted` rule was under the deletion promise (flagged content is kept 2
    years from the flag, deletion included). Measured from the later of the
    promise in force and the receipt's own deadline, so shortening
    deleted_days does not make removals that kept the deadline of their day
    late after the fact. Deletion health's SQL (retention.purge.health) is
    the twin of this."""
    if rule != "deleted" or deleted_at is None:
        return None
    late = purged_at - max(deletion_promise(deleted_at, deleted_days), retain_until)
    return late if late > tolerance else None


_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def _amount(n: int, unit: str) -> str:
    # One literal per unit, so the words can be translated.
    if unit == "day":
        text = ngettext("%(n)d day", "%(n)d days", n)
    elif unit == "hour":
        text = ngettext("%(n)d hour", "%(n)d hours", n)
    elif unit == "minute":
        text = ngettext("%(n)d minute", "%(n)d minutes", n)
    else:
        text = ngettext("%(n)d second", "%(n)d seconds", n)
    return text % {"n": n}


def duration_text(duration: timedelta | float | None) -> str:
    """A duration in words, its two largest units: "2 hours 5 minutes",
    "15 days", "40 seconds" (never "7500.0")."""
    if duration is None:
        return ""
    seconds = round(duration.total_seconds() if isinstance(duration, timedelta) else duration)
    if seconds <= 0:
        return _amount(0, "second")
    for index, (unit, size) in enumerate(_UNITS):
        if seconds >= size:
            words = [_amount(seconds // size, unit)]
            if index + 1 < len(_UNITS):
                next_unit, next_size = _UNITS[index + 1]
                rest = seconds % size // next_size
                if rest:
                    words.append(_amount(rest, next_unit))
            return " ".join(words)
    return _amount(0, "second")
