"""One scheduled purge run at a time.

PostgreSQL: a session-level advisory lock on a dedicated key, tried (never
waited for) and released in a finally; if the process dies the session ends
and PostgreSQL drops the lock. SQLite: a lease row claimed with one atomic
UPDATE ... WHERE locked_until < now, renewed after each batch, released in a
finally; a dead holder's lease runs out. Both work across processes.
"""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from retention.models import PurgeLock
from retention.purge.sql import is_postgresql

logger = logging.getLogger(__name__)

RUN_LOCK_KEY = 7_310_421_000
LEASE_NAME = "retention.purge"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TABLE = PurgeLock._meta.db_table


def _lease_length() -> timedelta:
    return timedelta(seconds=settings.RETENTION_PURGE_LEASE_SECONDS)


class RunLock:
    def __init__(self) -> None:
        self.acquired = False
        self._token = uuid.uuid4().hex

    def acquire(self) -> bool:
        if is_postgresql():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK_KEY])
                self.acquired = bool(cursor.fetchone()[0])
            return self.acquired
        now = timezone.now()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {_TABLE} (name, holder, locked_until) VALUES (%s, '', %s) "
                "ON CONFLICT (name) DO NOTHING",
                [LEASE_NAME, _EPOCH],
            )
            cursor.execute(
                f"UPDATE {_TABLE} SET holder = %s, locked_until = %s "
                "WHERE name = %s AND locked_until < %s",
                [self._token, now + _lease_length(), LEASE_NAME, now],
            )
            self.acquired = cursor.rowcount == 1
        return self.acquired

    def renew(self) -> None:
        if not self.acquired or is_postgresql():
            return
        PurgeLock.objects.filter(name=LEASE_NAME, holder=self._token).update(
            locked_until=timezone.now() + _lease_length()
        )

    def release(self) -> None:
        if not self.acquired:
            return
        self.acquired = False
        try:
            if is_postgresql():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK_KEY])
            else:
                PurgeLock.objects.filter(name=LEASE_NAME, holder=self._token).update(
                    locked_until=_EPOCH, holder=""
                )
        except DatabaseError:
            # A lost connection took a PostgreSQL lock with it; a SQLite lease
            # runs out by itself. Neither needs more than a note.
            logger.warning("purge run lock could not be released explicitly", exc_info=True)


@contextmanager
def run_lock() -> Iterator[RunLock]:
    lock = RunLock()
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
