"""Reads: a key's system, the change feed, erasure confirmations and the
figures deletion health and the admin list show."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import Count, Min, Q, QuerySet

from connected import credentials
from connected.events import CONVERSATION_PURGED, ERASURE_TYPES, iso_utc
from connected.models import ApiKey, ConnectedSystem, Delivery, DeliveryState

_CURSOR_SALT = "connected.changes"


class BadCursor(ValueError):
    """The cursor was not issued by this portal for this system."""


def api_key_find(*, key: str) -> ApiKey | None:
    """The unrevoked key row matching `key` (compared in constant time), with
    its system, or None. The system may be disabled: the caller decides."""
    if not credentials.looks_like_api_key(key) or len(key) > 200:
        return None
    candidates = ApiKey.objects.filter(
        prefix=credentials.api_key_lookup(key), revoked_at__isnull=True
    ).select_related("system")
    found = None
    for candidate in candidates:  # every candidate compared: no early exit
        if credentials.api_key_matches(key, candidate.key_hash):
            found = candidate
    return found


def _cursor_encode(system: ConnectedSystem, seq: int) -> str:
    return signing.dumps([system.pk, seq], salt=_CURSOR_SALT, compress=False)


def _cursor_decode(system: ConnectedSystem, cursor: str) -> int:
    try:
        system_pk, seq = signing.loads(cursor, salt=_CURSOR_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise BadCursor("not a cursor this API issued") from None
    if system_pk != system.pk or not isinstance(seq, int):
        raise BadCursor("this cursor belongs to another system")
    return seq


def changes_page(
    *, system: ConnectedSystem, after: str | None, limit: int
) -> tuple[list[dict], str | None]:
    """The events `system` subscribed to, in commit order, after the cursor
    `after` (from the start without one): the same events and ids its
    webhooks carry. `next` is the cursor after the last event returned, or
    None for an empty page (poll again with the same cursor).
    Raises BadCursor."""
    after_seq = _cursor_decode(system, after) if after else 0
    rows = list(
        Delivery.objects.filter(system=system, seq__gt=after_seq)
        .order_by("seq")
        .values_list("seq", "event__public_id", "event__type", "event__created_at", "event__data")[
            :limit
        ]
    )
    events = [
        {"id": public_id, "type": type_, "timestamp": iso_utc(created_at), "data": data}
        for _, public_id, type_, created_at, data in rows
    ]
    return events, (_cursor_encode(system, rows[-1][0]) if rows else None)


def erasure_delivery(*, system: ConnectedSystem, event_id: str) -> Delivery | None:
    """The delivery of erasure event `event_id` to `system`, if it was sent
    (or offered in its feed) to that system."""
    return (
        Delivery.objects.filter(
            system=system, event__public_id=event_id, event__type__in=ERASURE_TYPES
        )
        .select_related("event")
        .first()
    )


@dataclass(frozen=True)
class SystemConfirmation:
    name: str
    confirmed_at: datetime | None


def erasure_confirmations(
    *, account: str, conversations: Iterable[str]
) -> dict[str, list[SystemConfirmation]]:
    """For each conversation (external id) of `account` that was purged: the
    systems that must confirm its conversation.purged event, each with its
    confirmation time or None. Conversations without such an event are left
    out. Two queries whatever the number of conversations."""
    wanted = list(dict.fromkeys(conversations))
    result: dict[str, list[SystemConfirmation]] = {}
    if not wanted:
        return result
    rows = (
        Delivery.objects.filter(
            event__account=account,
            event__type=CONVERSATION_PURGED,
            event__subject__in=wanted,
            system__confirms_erasure=True,
        )
        .order_by("event__subject", "system__name")
        .values_list("event__subject", "system__name", "confirmed_at")
    )
    for subject, name, confirmed_at in rows:
        result.setdefault(subject, []).append(SystemConfirmation(name, confirmed_at))
    return result


def _unconfirmed() -> QuerySet[Delivery]:
    return Delivery.objects.filter(
        event__type__in=ERASURE_TYPES,
        system__confirms_erasure=True,
        system__enabled=True,
        confirmed_at__isnull=True,
    )


def unconfirmed_erasures(*, now: datetime) -> tuple[int, datetime | None]:
    """Erasures sent to enabled systems that must confirm them and not yet
    confirmed, up to `now`: how many, and when the oldest was decided."""
    figures = (
        _unconfirmed()
        .filter(created_at__lte=now)
        .aggregate(count=Count("pk"), oldest=Min("created_at"))
    )
    return figures["count"], figures["oldest"]


def systems_with_backlog() -> QuerySet[ConnectedSystem]:
    """Systems with `backlog` (pending deliveries), `oldest_pending` (when
    the oldest was decided) and `dead_letters` annotated."""
    pending = Q(deliveries__state=DeliveryState.PENDING)
    return ConnectedSystem.objects.annotate(
        backlog=Count("deliveries", filter=pending),
        oldest_pending=Min("deliveries__created_at", filter=pending),
        dead_letters=Count("deliveries", filter=Q(deliveries__state=DeliveryState.DEAD)),
    )


def subscribed_types() -> frozenset[str]:
    """The event types some enabled system subscribes to (a few rows: the
    subscriptions are read in Python, as SQLite has no JSON containment)."""
    types: set[str] = set()
    for events in ConnectedSystem.objects.filter(enabled=True).values_list("events", flat=True):
        types.update(events)
    return frozenset(types)


def erasure_confirmers() -> list[str]:
    """Names of the enabled systems that must confirm a conversation's
    erasure: registered to confirm and subscribed to conversation.purged."""
    return [
        name
        for name, events in ConnectedSystem.objects.filter(enabled=True, confirms_erasure=True)
        .order_by("name")
        .values_list("name", "events")
        if CONVERSATION_PURGED in events
    ]
