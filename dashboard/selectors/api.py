"""The shapes of /api/me/: conversations and deleted items."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from itertools import batched
from typing import Any

from accounts.models import User
from accounts.selectors import consent_allowed
from connected.selectors import erasure_confirmations, erasure_confirmers
from dashboard.presentation import iso_utc
from dashboard.selectors.common import PAGE_SIZE, keyset
from retention.models import DeletionReceipt, TrainingRunConversation
from retention.selectors.conversations import owned_conversations, visible_conversations
from retention.selectors.decisions import decision_for_user
from retention.selectors.settings import policy_durations


def api_conversation_page(
    *, user: User, now: datetime, cursor: str | None = None
) -> dict[str, Any]:
    """The /api/me/conversations shape: a page of the history with the runs,
    the future-training answer and the quoted explanation of each row, in a
    fixed number of queries. Raises BadCursor."""
    qs = visible_conversations(user_id=user.pk)
    rows, next_cursor = keyset(qs, "last_activity_at", cursor, PAGE_SIZE)
    runs_by_conversation: dict[int, list[str]] = defaultdict(list)
    for conversation_id, name in (
        TrainingRunConversation.objects.filter(conversation_id__in=[c.pk for c in rows])
        .order_by("run__started_at", "run__pk")
        .values_list("conversation_id", "run__name")
    ):
        runs_by_conversation[conversation_id].append(name)
    consent_now = consent_allowed(user_id=user.pk, at=now)
    durations = policy_durations()
    items = []
    for c in rows:
        decision = decision_for_user(
            c,
            owner=user,
            consent_now=consent_now,
            durations=durations,
        )
        items.append(
            {
                "id": c.external_id,
                "title": c.title,
                "kind": c.kind,
                "last_activity_at": iso_utc(c.last_activity_at),
                "rule": c.public_rule,
                "retain_until": iso_utc(c.public_retain_until),
                "shared_for_training": c.shared_for_training,
                "training_runs": runs_by_conversation[c.pk],
                "future_training": decision.future_training,
                "flagged": c.flagged_at is not None,
                "explanation": [
                    {"section": q.section, "quote": q.text} for q in decision.explanation
                ],
            }
        )
    return {"conversations": items, "next": next_cursor}


CHUNK = 1000


def api_deleted(*, user: User) -> Iterable[dict[str, Any]]:
    """Deleted conversations awaiting purge, then purge receipts: ids and
    times only, never titles or content."""
    # Awaiting purge: the systems that will have to confirm its erasure,
    # none of them yet.
    waiting = [{"name": name, "confirmed_at": None} for name in erasure_confirmers()]
    pending = (
        owned_conversations(user_id=user.pk)
        .filter(deleted_at__isnull=False)
        .order_by("-deleted_at", "-pk")
        .values_list("external_id", "deleted_at", "public_retain_until")
    )
    for external_id, deleted_at, retain_until in pending.iterator(chunk_size=CHUNK):
        yield {
            "id": external_id,
            "deleted_at": iso_utc(deleted_at),
            "retain_until": None if user.is_commercial else iso_utc(retain_until),
            "purged_at": None,
            "systems": waiting,
        }
    receipts = (
        DeletionReceipt.objects.filter(user=user)
        .order_by("-purged_at", "-pk")
        .values_list("conversation_external_id", "deleted_at", "retain_until", "purged_at")
    )
    for chunk in batched(receipts.iterator(chunk_size=CHUNK), CHUNK):
        confirmations = erasure_confirmations(
            account=user.external_id or "", conversations=[row[0] for row in chunk]
        )
        for external_id, deleted_at, retain_until, purged_at in chunk:
            yield {
                "id": external_id,
                "deleted_at": iso_utc(deleted_at),
                "retain_until": iso_utc(retain_until),
                "purged_at": iso_utc(purged_at),
                "systems": [
                    {"name": system.name, "confirmed_at": iso_utc(system.confirmed_at)}
                    for system in confirmations.get(external_id, ())
                ],
            }
