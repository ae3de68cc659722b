"""The transactional outbox: decisions other systems must act on, written in
the same transaction as the decision (so none is lost and none is sent for a
decision that rolled back).

Callers are the domain services (deletions, consent, the purge); they call
these inside their own transaction. One INSERT per call (the events); the
fan-out to systems happens later in the dispatcher, so a "delete all" of
10,000 conversations pays one bulk INSERT here and nothing per system.
Delivery is queued with on_commit, once per transaction.
"""

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from connected import tasks as connected_tasks
from connected.events import event_subject, event_validate
from connected.models import OutboxEvent
from connected.selectors import subscribed_types


@dataclass(frozen=True)
class OutboxItem:
    type: str
    account: str
    data: dict
    origin_system_id: int | None = None


def event_public_ids(count: int) -> list[str]:
    """`evt_` + 32 hex digits: 48 bits of milliseconds then 80 random bits
    (a ULID's layout, in hex because that is built in C): unique, and
    sortable by creation time. A "delete all" asks for 10,000 at once."""
    millis = (time.time_ns() // 1_000_000).to_bytes(6)
    random = os.urandom(10 * count)
    return ["evt_" + (millis + random[10 * n : 10 * n + 10]).hex() for n in range(count)]


def _deliver_after_commit() -> None:
    connected_tasks.deliver_events.delay()


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_record must be called inside the caller's transaction")


def _schedule_delivery() -> None:
    current = transaction.get_connection()
    # One task per transaction, however many events it wrote. Looked up in
    # the pending callbacks rather than flagged, because a rolled-back
    # savepoint drops its callbacks and a later event must queue again.
    if any(func is _deliver_after_commit for _, func, _ in current.run_on_commit):
        return
    transaction.on_commit(_deliver_after_commit)


def outbox_record_many(*, events: Sequence[OutboxItem]) -> None:
    """Write `events` in the caller's transaction (one INSERT statement) and
    queue their delivery for after the commit; only events of types some
    enabled system subscribes to. Raises connected.events.InvalidEvent
    (nothing written) for an unknown type or data of the wrong shape;
    RuntimeError outside a
    transaction."""
    if not events:
        return
    _require_transaction()
    for item in events:
        event_validate(type=item.type, account=item.account, data=item.data)
    # An event no system subscribes to would reach nobody, not even a feed
    # (a system reads the events since it registered): not written, so a
    # portal without connected systems pays one small query per decision.
    wanted = subscribed_types()
    events = [item for item in events if item.type in wanted]
    if not events:
        return
    _schedule_delivery()
    _insert(events, created_at=timezone.now())


_COLUMNS = "public_id, type, account, subject, data, origin_system_id, created_at"


def _insert(events: Sequence[OutboxItem], *, created_at) -> None:
    # Raw SQL: Django's bulk_create spends ~0.2 ms per row compiling the
    # statement, which alone is most of a "delete all" of 10,000 items.
    table = OutboxEvent._meta.db_table
    created_at = connection.ops.adapt_datetimefield_value(created_at)
    rows = [
        (
            public_id,
            item.type,
            item.account,
            event_subject(item.data),
            item.data,
            item.origin_system_id,
        )
        for public_id, item in zip(event_public_ids(len(events)), events, strict=True)
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement and one parameter whatever the count: the rows as
            # a JSON array (psycopg would adapt list parameters item by item).
            keys = ("p", "t", "a", "s", "d", "o")
            cursor.execute(
                f"INSERT INTO {table} ({_COLUMNS}) "  # noqa: S608 (table name from _meta)
                "SELECT p, t, a, s, d, o, %s FROM jsonb_to_recordset(%s::jsonb) "
                "AS r(p text, t text, a text, s text, d jsonb, o bigint)",
                [created_at, json.dumps([dict(zip(keys, row, strict=True)) for row in rows])],
            )
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
                [(p, t, a, s, json.dumps(d), o, created_at) for p, t, a, s, d, o in rows],
            )


def outbox_record(
    *, type: str, account: str, data: dict, origin_system_id: int | None = None
) -> None:
    """One event; see outbox_record_many."""
    outbox_record_many(
        events=[
            OutboxItem(type=type, account=account, data=data, origin_system_id=origin_system_id)
        ]
    )
