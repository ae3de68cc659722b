"""The dispatcher: puts committed outbox events in commit order (`seq`) and
fans each out to the systems that must hear it (one Delivery row each).

It runs in its own short transaction, one at a time (an advisory lock on
PostgreSQL; SQLite has a single writer), so `seq` only grows in the order
events became visible: a feed cursor over it never skips an event that
committed late. Safe to run any number of times: it only takes events
without a `seq`.
"""

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from connected.models import ConnectedSystem, Delivery, DeliveryState, OutboxEvent

DISPATCH_CHUNK = 5_000
# pg_advisory_xact_lock key: "conn" "disp" as two ASCII words.
_LOCK_KEY = 0x636F6E6E64697370


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _targets(event: dict, systems: list[ConnectedSystem]) -> list[ConnectedSystem]:
    """Who hears an event: enabled systems subscribed to its type, registered
    by the time it happened, except the system it came from."""
    return [
        system
        for system in systems
        if event["type"] in system.events
        and system.pk != event["origin_system_id"]
        and event["created_at"] >= system.created_at
    ]


def outbox_dispatch_chunk(*, limit: int = DISPATCH_CHUNK) -> int:
    """Sequence and fan out up to `limit` events; returns how many."""
    with transaction.atomic():
        _lock()
        events = list(
            OutboxEvent.objects.filter(seq__isnull=True)
            .order_by("id")
            .values("id", "type", "account", "origin_system_id", "created_at")[:limit]
        )
        if not events:
            return 0
        top = OutboxEvent.objects.aggregate(top=Max("seq"))["top"] or 0
        rows = [OutboxEvent(id=e["id"], seq=top + n) for n, e in enumerate(events, 1)]
        OutboxEvent.objects.bulk_update(rows, ["seq"], batch_size=1_000)
        systems = list(ConnectedSystem.objects.filter(enabled=True))
        now = timezone.now()
        Delivery.objects.bulk_create(
            [
                Delivery(
                    event_id=event["id"],
                    system=system,
                    seq=row.seq,
                    account=event["account"],
                    state=DeliveryState.PENDING if system.url else DeliveryState.FEED,
                    next_attempt_at=now,
                    created_at=event["created_at"],
                )
                for event, row in zip(events, rows, strict=True)
                for system in _targets(event, systems)
            ],
            batch_size=2_000,
        )
        return len(events)


def outbox_dispatch() -> int:
    """Everything waiting, chunk by chunk (each its own transaction)."""
    total = 0
    while count := outbox_dispatch_chunk():
        total += count
    return total
