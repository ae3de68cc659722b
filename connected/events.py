"""The events the portal tells connected systems about: the one list of types,
and the rule of what an event's data may carry (docs/connected-systems.md).

Data carries external ids and times only: never a title, message, comment,
excerpt or email, because a copy sent to another system is a copy we can no
longer delete.
"""

from datetime import UTC, datetime

CONVERSATION_DELETED = "conversation.deleted"
CONSENT_CHANGED = "consent.changed"
CONVERSATION_PURGED = "conversation.purged"
SCORES_PURGED = "scores.purged"
FEEDBACK_PURGED = "feedback.purged"

# type -> the keys its data has, exactly.
EVENT_FIELDS: dict[str, frozenset[str]] = {
    CONVERSATION_DELETED: frozenset({"account", "conversation", "deleted_at", "purge_by"}),
    CONSENT_CHANGED: frozenset({"account", "allowed", "at"}),
    CONVERSATION_PURGED: frozenset({"account", "conversation", "purged_at", "receipt"}),
    SCORES_PURGED: frozenset({"account", "conversation", "purged_at"}),
    FEEDBACK_PURGED: frozenset({"account", "feedback", "purged_at"}),
}
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_FIELDS)

# Erasures: a system registered to confirm erasures confirms each of these.
ERASURE_TYPES: frozenset[str] = frozenset(t for t in EVENT_TYPES if t.endswith(".purged"))


class InvalidEvent(ValueError):
    """An event the outbox refuses: unknown type or data of the wrong shape."""


def event_validate(*, type: str, account: str, data: dict) -> None:
    """Raises InvalidEvent unless `data` has exactly the keys of `type` and
    names `account`. Values are not inspected beyond that: the callers are
    the portal's own services."""
    fields = EVENT_FIELDS.get(type)
    if fields is None:
        raise InvalidEvent(f"unknown event type {type!r}; known: {', '.join(EVENT_TYPES)}")
    if not isinstance(data, dict) or set(data) != fields:
        got = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise InvalidEvent(f"{type} data must have exactly {sorted(fields)}, got {got}")
    if data["account"] != account:
        raise InvalidEvent(f"{type} data names account {data['account']!r}, not {account!r}")


def event_subject(data: dict) -> str:
    """The item an event is about (a conversation or feedback id; '' for consent)."""
    return str(data.get("conversation") or data.get("feedback") or "")


def iso_utc(value: datetime) -> str:
    """ISO 8601 in UTC with a Z, the one time format of every event."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
