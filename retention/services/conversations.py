"""Writes of conversations, messages, flags and feedback.

Each service records a fact and then rewrites the deadlines of exactly the rows
whose facts changed (retention.services.deadlines).
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import consent_allowed
from retention.models import Conversation, DeletionReceipt, Feedback, Flag, Message, Rule
from retention.services.deadlines import (
    refresh_conversation_deadlines,
    refresh_feedback_deadlines,
    refresh_flag_deadlines,
)


class ConversationPurged(Exception):
    """The conversation's content was already purged; it cannot be revived."""


@transaction.atomic
def message_add(
    *,
    user: User,
    conversation_external_id: str,
    kind: str,
    title: str,
    message_external_id: str,
    role: str,
    content: str,
    sent_at: datetime,
) -> Message:
    """The first message creates the conversation (new); a later one resumes it.
    A message older than the last activity is stored but does not move the
    activity (or the basis) back."""
    conversation = (
        Conversation.objects.select_for_update()
        .filter(external_id=conversation_external_id)
        .first()
    )
    if conversation is None:
        if DeletionReceipt.objects.filter(
            conversation_external_id=conversation_external_id
        ).exists():
            raise ConversationPurged(conversation_external_id)
        conversation = Conversation.objects.create(
            user=user,
            external_id=conversation_external_id,
            kind=kind,
            title=title,
            created_at=sent_at,
            last_activity_at=sent_at,
            shared_for_training=consent_allowed(user_id=user.pk, at=sent_at),
            rule=Rule.NOT_SHARED,
            public_rule=Rule.NOT_SHARED,
        )
    elif sent_at > conversation.last_activity_at:
        conversation.last_activity_at = sent_at
        conversation.shared_for_training = consent_allowed(user_id=user.pk, at=sent_at)
        if title:
            conversation.title = title
        conversation.save(update_fields=["last_activity_at", "shared_for_training", "title"])
    elif sent_at < conversation.created_at:
        conversation.created_at = sent_at
        conversation.save(update_fields=["created_at"])
    message = Message.objects.create(
        conversation=conversation,
        external_id=message_external_id,
        role=role,
        content=content,
        sent_at=sent_at,
    )
    refresh_conversation_deadlines(Conversation.objects.filter(pk=conversation.pk))
    return message


def conversations_delete(
    *, user: User, conversations: QuerySet[Conversation], deleted_at: datetime | None = None
) -> int:
    """Delete conversations of `user`: they leave the history at once and their
    content is purged by the deadline the rules give. Deleting again changes
    nothing. Returns how many were newly deleted."""
    deleted_at = deleted_at or timezone.now()
    with transaction.atomic():
        targets = conversations.filter(user=user, deleted_at__isnull=True)
        ids = list(targets.values_list("pk", flat=True))
        if not ids:
            return 0
        Conversation.objects.filter(pk__in=ids).update(deleted_at=deleted_at)
        refresh_conversation_deadlines(Conversation.objects.filter(pk__in=ids))
    return len(ids)


@transaction.atomic
def conversation_flag(
    *, conversation: Conversation, flagged_at: datetime, scores: dict[str, float]
) -> Flag:
    flag = Flag.objects.create(
        user_id=conversation.user_id,
        conversation=conversation,
        conversation_external_id=conversation.external_id,
        flagged_at=flagged_at,
        scores=scores,
    )
    # The latest flag governs: never a deadline earlier than a flag allows.
    if conversation.flagged_at is None or flagged_at > conversation.flagged_at:
        Conversation.objects.filter(pk=conversation.pk).update(flagged_at=flagged_at)
    refresh_conversation_deadlines(Conversation.objects.filter(pk=conversation.pk))
    refresh_flag_deadlines(Flag.objects.filter(pk=flag.pk))
    return flag


@transaction.atomic
def feedback_submit(
    *,
    user: User,
    external_id: str,
    kind: str,
    comment: str,
    excerpt: str,
    submitted_at: datetime,
    conversation_external_id: str = "",
) -> Feedback:
    """Store a feedback submission with its own copy of the excerpt, so it
    outlives the conversation (kept 5 years from submission)."""
    conversation = (
        Conversation.objects.filter(external_id=conversation_external_id, user=user).first()
        if conversation_external_id
        else None
    )
    feedback = Feedback.objects.create(
        user=user,
        external_id=external_id,
        kind=kind,
        comment=comment,
        excerpt=excerpt,
        conversation=conversation,
        conversation_external_id=conversation_external_id,
        submitted_at=submitted_at,
        public_retain_until=submitted_at,  # rewritten just below
    )
    refresh_feedback_deadlines(Feedback.objects.filter(pk=feedback.pk))
    feedback.refresh_from_db()
    return feedback


def conversation_ids_of(user: User, external_ids: Iterable[str]) -> QuerySet[Conversation]:
    return Conversation.objects.filter(user=user, external_id__in=list(external_ids))
