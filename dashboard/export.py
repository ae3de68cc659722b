"""'Download my data': everything the portal holds about one user, as JSON
produced in chunks so a history of any size streams in bounded memory.

The export shows what the user may see: their account, consent history,
visible conversations with their messages and the training runs that used
them, deleted conversations awaiting purge (no titles or content: they left
the history), feedback, deletion receipts and staff accesses to the account.
Deadlines are the public ones: a legal hold is never revealed.
"""

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import Prefetch

from accounts.models import AutoDeleteChange, ConsentChange, User
from accounts.selectors import consent_allowed
from dashboard.presentation import LAW_CAVEAT, iso_utc
from retention.models import DeletionReceipt, Feedback, Message, TrainingRunConversation
from retention.policy import Durations
from retention.selectors.conversations import owned_conversations, visible_conversations
from retention.selectors.decisions import decision_for_user
from retention.selectors.settings import policy_durations
from staff.selectors import access_log_for_user

CHUNK = 500


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _array(name: str, items: Iterator[dict[str, Any]], *, first: bool = False) -> Iterator[str]:
    yield ("" if first else ",") + _dumps(name) + ":["
    for i, item in enumerate(items):
        yield ("," if i else "") + _dumps(item)
    yield "]"


def _conversations(user: User, durations: Durations, now: datetime) -> Iterator[dict[str, Any]]:
    messages = Prefetch(
        "messages",
        queryset=Message.objects.order_by("sent_at", "pk").only(
            "conversation_id", "external_id", "role", "content", "sent_at"
        ),
    )
    runs = Prefetch(
        "training_uses",
        queryset=TrainingRunConversation.objects.select_related("run").order_by("run__started_at"),
    )
    qs = (
        visible_conversations(user_id=user.pk)
        .order_by("-last_activity_at", "-pk")
        .prefetch_related(messages, runs)
    )
    consent_now = consent_allowed(user_id=user.pk, at=now)
    for c in qs.iterator(chunk_size=CHUNK):
        decision = decision_for_user(
            c,
            is_commercial=user.is_commercial,
            consent_now=consent_now,
            durations=durations,
            auto_delete_months=user.auto_delete_months,
        )
        yield {
            "id": c.external_id,
            "kind": c.kind,
            "title": c.title,
            "created_at": iso_utc(c.created_at),
            "last_activity_at": iso_utc(c.last_activity_at),
            "shared_for_training": c.shared_for_training,
            "flagged_at": iso_utc(c.flagged_at),
            "rule": c.public_rule,
            "retain_until": None if user.is_commercial else iso_utc(c.public_retain_until),
            "scores_retain_until": iso_utc(decision.scores_retain_until),
            "training_runs": [use.run.name for use in c.training_uses.all()],
            "messages": [
                {
                    "id": m.external_id,
                    "role": m.role,
                    "content": m.content,
                    "sent_at": iso_utc(m.sent_at),
                }
                for m in c.messages.all()
            ],
        }


def export_chunks(*, user: User, now: datetime) -> Iterator[str]:
    """The export document, piece by piece; joined, it is one JSON object."""
    durations = policy_durations()
    yield "{" + _dumps("exported_at") + ":" + _dumps(iso_utc(now))
    yield (
        ","
        + _dumps("note")
        + ":"
        + _dumps(
            f"Every retain-until date in this file applies {LAW_CAVEAT}."
            + (
                " Your account is a commercial account: the consumer retention policy does not "
                "govern its data, so no consumer dates are given."
                if user.is_commercial
                else ""
            )
        )
    )
    yield (
        ","
        + _dumps("account")
        + ":"
        + _dumps(
            {
                "email": user.email,
                "id": user.external_id,
                "account_type": user.account_type,
                "plan": user.plan,
                "joined_at": iso_utc(user.date_joined),
                # Months after last activity, or null: off.
                "auto_delete_after_months": user.auto_delete_months,
            }
        )
    )
    yield from _array(
        "consent_history",
        (
            {
                "allowed": c.allowed,
                "effective_at": iso_utc(c.effective_at),
                "recorded_at": iso_utc(c.recorded_at),
                "source": c.source,
                "article_version": c.article_version,
            }
            for c in ConsentChange.objects.filter(user=user)
            .order_by("effective_at", "id")
            .iterator()
        ),
    )
    yield from _array(
        "auto_delete_history",
        (
            {
                "after_months": c.after_months,
                "recorded_at": iso_utc(c.recorded_at),
                "source": c.source,
            }
            for c in AutoDeleteChange.objects.filter(user=user)
            .order_by("recorded_at", "id")
            .iterator()
        ),
    )
    yield from _array("conversations", _conversations(user, durations, now))
    yield from _array(
        "deleted_awaiting_purge",
        (
            {
                "id": external_id,
                "kind": kind,
                "deleted_at": iso_utc(deleted_at),
                "retain_until": None if user.is_commercial else iso_utc(until),
            }
            for external_id, kind, deleted_at, until in owned_conversations(user_id=user.pk)
            .filter(deleted_at__isnull=False)
            .order_by("-deleted_at", "-pk")
            .values_list("external_id", "kind", "deleted_at", "public_retain_until")
            .iterator(chunk_size=CHUNK)
        ),
    )
    yield from _array(
        "feedback",
        (
            {
                "id": f.external_id,
                "kind": f.kind,
                "comment": f.comment,
                "excerpt": f.excerpt,
                "conversation_id": f.conversation_external_id or None,
                "submitted_at": iso_utc(f.submitted_at),
                "retain_until": None if user.is_commercial else iso_utc(f.public_retain_until),
            }
            for f in Feedback.objects.filter(user=user)
            .order_by("-submitted_at", "-pk")
            .iterator(chunk_size=CHUNK)
        ),
    )
    yield from _array(
        "deletion_receipts",
        (
            {
                "conversation_id": r.conversation_external_id,
                "kind": r.kind,
                "deleted_at": iso_utc(r.deleted_at),
                "purged_at": iso_utc(r.purged_at),
                "receipt_hash": r.receipt_hash,
            }
            for r in DeletionReceipt.objects.filter(user=user)
            .order_by("-purged_at", "-pk")
            .iterator(chunk_size=CHUNK)
        ),
    )
    yield from _array(
        "staff_access",
        (
            {
                "role": access.role,
                "at": iso_utc(access.at),
                "reason": access.reason,
                "data_kind": access.data_kind,
            }
            for access in access_log_for_user(user, limit=None)
        ),
    )
    yield "}"
