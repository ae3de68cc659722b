"""One scheduled purge run at a time: a lease row, on every database.

The lease (`retention.models.PurgeLock`) is claimed with one atomic
UPDATE ... WHERE locked_until < now, renewed after a batch once a tenth of
the lease has gone by, and released in a finally, each in its own short
transaction. Nothing is held by a database session between statements, so
the lock works behind a transaction-mode pooler (PgBouncer): the
session-level advisory lock used before stayed held by whichever pooled
server connection had taken it, and every later run was skipped for good.
A holder that dies leaves its lease to run out (RETENTION_PURGE_LEASE_SECONDS,
by default CELERY_TASK_TIME_LIMIT + 60 s, so a crash delays at most one
scheduled run); deletion health reports a lease still held past its expiry
or for longer than a run may live.

The lock only saves duplicate work: two runs at once would still claim
disjoint rows (SKIP LOCKED), so a lease that lapses under a very slow batch
is harmless.
"""

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from retention.models import PurgeLock

logger = logging.getLogger(__name__)

LEASE_NAME = "retention.purge"
# A run renews its lease once this share of the lease has gone by (checked
# after every batch).
RENEW_FRACTION = 0.1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TABLE = PurgeLock._meta.db_table


def lease_length() -> timedelta:
    # RETENTION_PURGE_LEASE_SECONDS (default: longer than a task may live, so
    # a live run never loses its lease between two renewals; short enough
    # that a crash blocks the schedule for at most one interval).
    return timedelta(seconds=settings.RETENTION_PURGE_LEASE_SECONDS)


class RunLock:
    def __init__(self) -> None:
        self.acquired = False
        self._token = uuid.uuid4().hex
        self._renewed = 0.0  # time.monotonic() of the last renewal
        self._guard = threading.Lock()

    def acquire(self) -> bool:
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {_TABLE} (name, holder, locked_until, acquired_at) "
                "VALUES (%s, '', %s, NULL) ON CONFLICT (name) DO NOTHING",
                [LEASE_NAME, _EPOCH],
            )
            cursor.execute(
                f"UPDATE {_TABLE} SET holder = %s, locked_until = %s, acquired_at = %s "
                "WHERE name = %s AND locked_until < %s",
                [self._token, now + lease_length(), now, LEASE_NAME, now],
            )
            self.acquired = cursor.rowcount == 1
        self._renewed = time.monotonic()
        return self.acquired

    def renew(self) -> None:
        """Extend the lease, at most once per RENEW_FRACTION of its length:
        each renewal is a commit of its own (a WAL flush), which after every
        batch cost as much as a batch's statistics. Renewed that often, a
        lease still never runs out under a live run whose batches take less
        than the rest of it."""
        if not self.acquired:
            return
        with self._guard:
            now = time.monotonic()
            if now - self._renewed < lease_length().total_seconds() * RENEW_FRACTION:
                return
            self._renewed = now
        # Called from the batch threads too: each has its own connection.
        PurgeLock.objects.filter(name=LEASE_NAME, holder=self._token).update(
            locked_until=timezone.now() + lease_length()
        )

    def release(self) -> None:
        if not self.acquired:
            return
        self.acquired = False
        try:
            PurgeLock.objects.filter(name=LEASE_NAME, holder=self._token).update(
                locked_until=_EPOCH, holder="", acquired_at=None
            )
        except DatabaseError:
            # A lost connection: the lease runs out by itself.
            logger.warning("purge run lock could not be released explicitly", exc_info=True)


@contextmanager
def run_lock() -> Iterator[RunLock]:
    lock = RunLock()
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()


@dataclass(frozen=True)
class StaleLease:
    holder: str
    acquired_at: datetime | None
    locked_until: datetime
    reason: str


def stale_lease(*, now: datetime) -> StaleLease | None:
    """The run lock when it is held but cannot belong to a healthy run: its
    lease ran out without being released (the holder died), or it was taken
    longer ago than Celery's hard time limit lets a task live (a run that
    hangs, or one started by hand that never ends). None otherwise."""
    lease = PurgeLock.objects.filter(name=LEASE_NAME).exclude(holder="").first()
    if lease is None:
        return None
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    if lease.locked_until < now:
        reason = "expired without being released (the run holding it stopped)"
    elif lease.acquired_at is not None and lease.acquired_at < now - limit:
        reason = f"held for longer than a run may live ({limit})"
    else:
        return None
    return StaleLease(lease.holder, lease.acquired_at, lease.locked_until, reason)
