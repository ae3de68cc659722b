"""'Download my data': everything the portal holds about one user, as JSON
produced in chunks so a history of any size streams in bounded memory.

The export shows what the user may see: their account, consent history,
visible conversations with their messages and the training runs that used
them, deleted conversations awaiting purge (no titles or content: they left
the history), trust-and-safety flags (when and until when, not the scores),
feedback, deletion receipts, every training run that used any of their
conversations, the policy notices they dismissed and staff accesses to the
account; `withheld` says in words what is left out and why. Deadlines are
the public ones: a legal hold is never revealed.

One document, two spellings: compact for /api/me/export, indented for the
zip of /export/ (dashboard/export_zip.py); both stream in bounded memory.
"""

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from itertools import batched
from typing import Any

from accounts.models import AutoDeleteChange, ConsentChange, User
from accounts.selectors import consent_allowed
from dashboard.presentation import LAW_CAVEAT, iso_utc
from retention.models import (
    DeletionReceipt,
    Feedback,
    Flag,
    Message,
    PolicyNoticeRead,
    TrainingRunConversation,
)
from retention.policy import Durations
from retention.policy.dates import add_years
from retention.selectors.conversations import owned_conversations, visible_conversations
from retention.selectors.decisions import decision_for_user
from retention.selectors.settings import policy_durations
from staff.selectors import access_log_for_user

CHUNK = 500


class Rows:
    """A section that is a list, produced item by item."""

    def __init__(self, items: Iterator[dict[str, Any]]) -> None:
        self.items = items


# What the export leaves out, and why: shown in data.json, index.html and README.txt.
WITHHELD = (
    {
        "what": "Trust and safety classification scores (the classifiers' values)",
        "why": "They are kept to detect abuse of the service; showing them would help evade "
        "the classifiers. The export says when each conversation was flagged and until when "
        "its scores are kept.",
    },
    {
        "what": "Titles and messages of conversations you deleted",
        "why": "A deleted conversation leaves your history at once, as the article promises; "
        "its content is stored only until its purge date, listed under "
        "deleted_awaiting_purge.",
    },
    {
        "what": "Which staff member looked at your account, and legal holds",
        "why": "The staff access list gives the role, time, reason and kind of data of each "
        "access, not the person. A legal hold is never disclosed while it lasts.",
    },
    {
        "what": "Security records: your password hash, session keys and failed sign-ins",
        "why": "They protect your account and mean nothing outside the portal.",
    },
)


def _dumps(value: Any, indent: int | None = None) -> str:
    if indent is None:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _nested(text: str, prefix: str) -> str:
    """Indent every line but the first (the first follows its key)."""
    return text.replace("\n", "\n" + prefix)


def _serialise(sections: Iterator[tuple[str, Any]], indent: int | None) -> Iterator[str]:
    """The sections as one JSON object: compact, or laid out exactly as
    json.dumps(document, indent=indent) would."""
    pad = "" if indent is None else " " * indent
    inner = pad * 2
    newline = "" if indent is None else "\n"
    colon = ":" if indent is None else ": "
    yield "{"
    for n, (name, value) in enumerate(sections):
        yield ("," if n else "") + newline + pad + _dumps(name) + colon
        if not isinstance(value, Rows):
            yield _nested(_dumps(value, indent), pad)
            continue
        empty = True
        for i, item in enumerate(value.items):
            empty = False
            yield ("[" if i == 0 else ",") + newline + inner + _nested(_dumps(item, indent), inner)
        yield "[]" if empty else newline + pad + "]"
    yield newline + "}"


def _conversations(user: User, durations: Durations, now: datetime) -> Iterator[dict[str, Any]]:
    """Visible conversations with their messages and runs, CHUNK at a time:
    one query for the rows and one each for the chunk's messages and runs.
    Plain values rather than prefetch_related: a prefetched message points
    back at its conversation, a cycle that only the garbage collector's
    rare full passes free, so memory grew with the history."""
    qs = visible_conversations(user_id=user.pk).order_by("-last_activity_at", "-pk")
    consent_now = consent_allowed(user_id=user.pk, at=now)
    for chunk in batched(qs.iterator(chunk_size=CHUNK), CHUNK):
        ids = [c.pk for c in chunk]
        messages: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for conversation_id, external_id, role, content, sent_at in (
            Message.objects.filter(conversation_id__in=ids)
            .order_by("conversation_id", "sent_at", "pk")
            .values_list("conversation_id", "external_id", "role", "content", "sent_at")
        ):
            messages[conversation_id].append(
                {"id": external_id, "role": role, "content": content, "sent_at": iso_utc(sent_at)}
            )
        runs: dict[int, list[str]] = defaultdict(list)
        for conversation_id, name in (
            TrainingRunConversation.objects.filter(conversation_id__in=ids)
            .order_by("run__started_at", "pk")
            .values_list("conversation_id", "run__name")
        ):
            runs[conversation_id].append(name)
        for c in chunk:
            decision = decision_for_user(
                c,
                owner=user,
                consent_now=consent_now,
                durations=durations,
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
                "training_runs": runs.pop(c.pk, []),
                "messages": messages.pop(c.pk, []),
            }


def export_chunks(*, user: User, now: datetime, indent: int | None = None) -> Iterator[str]:
    """The export document, piece by piece; joined, it is one JSON object
    (indented by `indent` spaces, compact when None)."""
    return _serialise(export_sections(user=user, now=now), indent)


def export_sections(*, user: User, now: datetime) -> Iterator[tuple[str, Any]]:
    """(name, value) of each top-level field, in order; a list is Rows."""
    durations = policy_durations()
    consumer = not user.is_commercial
    yield "exported_at", iso_utc(now)
    yield (
        "note",
        f"Every retain-until date in this file applies {LAW_CAVEAT}."
        + (
            ""
            if consumer
            else " Your account is a commercial account: the consumer retention policy does not "
            "govern its data, so no consumer dates are given."
        ),
    )
    yield (
        "account",
        {
            "email": user.email,
            "id": user.external_id,
            "account_type": user.account_type,
            "plan": user.plan,
            "joined_at": iso_utc(user.date_joined),
            # Months after last activity, or null: off.
            "auto_delete_after_months": user.auto_delete_months,
        },
    )
    yield (
        "consent_history",
        Rows(
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
    yield (
        "auto_delete_history",
        Rows(
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
    yield "conversations", Rows(_conversations(user, durations, now))
    yield (
        "deleted_awaiting_purge",
        Rows(
            {
                "id": external_id,
                "kind": kind,
                "deleted_at": iso_utc(deleted_at),
                "retain_until": iso_utc(until) if consumer else None,
            }
            for external_id, kind, deleted_at, until in owned_conversations(user_id=user.pk)
            .filter(deleted_at__isnull=False)
            .order_by("-deleted_at", "-pk")
            .values_list("external_id", "kind", "deleted_at", "public_retain_until")
            .iterator(chunk_size=CHUNK)
        ),
    )
    yield (
        "flags",
        Rows(
            {
                "conversation_id": external_id,
                "flagged_at": iso_utc(flagged_at),
                "scores_retain_until": (
                    iso_utc(add_years(flagged_at, durations.flagged_scores_years))
                    if consumer
                    else None
                ),
            }
            for external_id, flagged_at in Flag.objects.filter(user=user)
            .order_by("-flagged_at", "-pk")
            .values_list("conversation_external_id", "flagged_at")
            .iterator(chunk_size=CHUNK)
        ),
    )
    yield (
        "feedback",
        Rows(
            {
                "id": f.external_id,
                "kind": f.kind,
                "comment": f.comment,
                "excerpt": f.excerpt,
                "conversation_id": f.conversation_external_id or None,
                "submitted_at": iso_utc(f.submitted_at),
                "retain_until": iso_utc(f.public_retain_until) if consumer else None,
            }
            for f in Feedback.objects.filter(user=user)
            .order_by("-submitted_at", "-pk")
            .iterator(chunk_size=CHUNK)
        ),
    )
    yield (
        "deletion_receipts",
        Rows(
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
    yield (
        "training_runs",
        Rows(
            {"run": run, "started_at": iso_utc(started_at), "conversation_id": conversation}
            for run, started_at, conversation in TrainingRunConversation.objects.filter(
                user_id=user.pk
            )
            .order_by("-run__started_at", "run_id", "conversation_external_id")
            .values_list("run__name", "run__started_at", "conversation_external_id")
            .iterator(chunk_size=CHUNK)
        ),
    )
    yield (
        "policy_notices_read",
        Rows(
            {"version": version, "effective_at": iso_utc(effective_at), "read_at": iso_utc(at)}
            for version, effective_at, at in PolicyNoticeRead.objects.filter(user_id=user.pk)
            .order_by("-read_at", "-pk")
            .values_list("document__version", "document__effective_at", "read_at")
        ),
    )
    yield (
        "staff_access",
        Rows(
            {
                "role": access.role,
                "at": iso_utc(access.at),
                "reason": access.reason,
                "data_kind": access.data_kind,
            }
            for access in access_log_for_user(user, limit=None)
        ),
    )
    yield "withheld", list(WITHHELD)
