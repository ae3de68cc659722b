"""When a failed delivery is tried again, and when it stops being tried: a
pure rule (no database), so its tests need no clock but their own."""

from datetime import datetime, timedelta

FIRST_DELAY = timedelta(seconds=10)
LONGEST_DELAY = timedelta(hours=6)


def retry_delay(*, attempts: int, jitter: float) -> timedelta:
    """Exponential backoff after `attempts` failures (10 s, 20 s, 40 s, ...
    up to 6 h), scaled by `jitter` in [0, 1) to between half and all of it,
    so systems that failed together do not all come back at the same second."""
    delay = min(FIRST_DELAY * 2 ** max(attempts - 1, 0), LONGEST_DELAY)
    return delay * (0.5 + jitter / 2)


def is_dead(*, first_due: datetime, now: datetime, retry_window: timedelta) -> bool:
    """A delivery still failing `retry_window` after it was first due is given up."""
    return now >= first_due + retry_window
