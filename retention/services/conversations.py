"""Writes of conversations, messages, flags and feedback.

Each service records a fact and then rewrites the deadlines of exactly the rows
whose facts changed (retention.services.deadlines).
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.data_version import data_version_bump
from accounts.models import User
from accounts.selectors import consent_ledgers
from connected.events import CONVERSATION_DELETED, iso_utc
from connected.services.outbox import OutboxItem, outbox_record_many
from retention.models import Conversation, DeletionReceipt, Feedback, Flag, Message, Rule

# NewMessage, MessageRefused and Refusal are part of this module's interface
# too (ingest.services takes them from here).
from retention.policy.message_plan import (
    ConversationState,
    MessageFacts,
    MessagePlan,
    MessageRefused,
    NewMessage,
    Refusal,
    StoredMessage,
    plan_messages,
)
from retention.selectors.conversations import owned_conversations
from retention.services.deadlines import (
    refresh_conversation_deadlines,
    refresh_feedback_deadlines,
    refresh_flag_deadlines,
)


class ConversationPurged(Exception):
    """The conversation's content was already purged; it cannot be revived."""


_MOVED_FIELDS = ["created_at", "last_activity_at", "shared_for_training", "title"]


@transaction.atomic
def messages_add_many(*, messages: Sequence[NewMessage]) -> list[Message]:
    """Messages in order, set-based: a few queries and one deadline rewrite
    for the whole list, leaving the same rows as the messages one by one
    (tests/ingest/test_message_runs.py holds the two to the same outcome).
    The first message of a conversation creates it; a later one resumes it
    (activity, the basis at that time, the title if given); an older one is
    stored without moving the activity back, only the start.

    Checked against the rows stored and the messages earlier in the list: a
    message whose id is already stored with the same conversation, role,
    content and time is a redelivery and is skipped; a different one under
    that id, a conversation of another account, or a purged conversation
    raises MessageRefused for the first such message, before anything is
    written. Returns the messages stored.

    Three steps: load the state (_messages_load), decide on plain values
    (retention.policy.message_plan.plan_messages, where the rules live),
    write the plan (_messages_write)."""
    if not messages:
        return []
    locked, facts = _messages_load(messages)
    plan = plan_messages(facts, messages)
    if not plan.to_store:
        return []
    return _messages_write(plan, locked)


def _messages_load(
    messages: Sequence[NewMessage],
) -> tuple[dict[str, Conversation], MessageFacts]:
    """The conversations the list names, locked (as rows, for the write), and
    the facts the plan checks the list against."""
    conversation_ids = {m.conversation_external_id for m in messages}
    # Locked in primary key order, so concurrent lists lock in the same order.
    locked = {
        conversation.external_id: conversation
        for conversation in Conversation.objects.select_for_update(no_key=True)
        .filter(external_id__in=conversation_ids)
        .order_by("pk")
    }
    unknown = conversation_ids - locked.keys()
    purged = frozenset(
        DeletionReceipt.objects.filter(conversation_external_id__in=unknown).values_list(
            "conversation_external_id", flat=True
        )
        if unknown
        else ()
    )
    # External ids are unique, so a message's conversation's external id,
    # role, content and time stand for its row.
    known = {
        external_id: StoredMessage(conversation, role, content, sent_at)
        for external_id, conversation, role, content, sent_at in Message.objects.filter(
            external_id__in={m.message_external_id for m in messages}
        ).values_list("external_id", "conversation__external_id", "role", "content", "sent_at")
    }
    facts = MessageFacts(
        conversations={
            external_id: ConversationState(
                user_id=row.user_id,
                kind=row.kind,
                title=row.title,
                created_at=row.created_at,
                last_activity_at=row.last_activity_at,
                shared_for_training=row.shared_for_training,
            )
            for external_id, row in locked.items()
        },
        purged=purged,
        known=known,
        ledgers=consent_ledgers(user_ids={m.user_id for m in messages}),
    )
    return locked, facts


def _messages_write(plan: MessagePlan, locked: dict[str, Conversation]) -> list[Message]:
    """Write `plan`: new conversations, the moved fields of the locked rows,
    the messages, then their conversations' deadlines."""
    created = [
        Conversation(
            external_id=external_id,
            user_id=state.user_id,
            kind=state.kind,
            title=state.title,
            created_at=state.created_at,
            last_activity_at=state.last_activity_at,
            shared_for_training=state.shared_for_training,
            rule=Rule.NOT_SHARED,  # rewritten with the deadlines below
            public_rule=Rule.NOT_SHARED,
        )
        for external_id, state in plan.created.items()
    ]
    # In order of first message, as one by one would number them. Two lists
    # creating the same conversation (or message) at once: the second insert
    # waits for the first transaction and fails on the unique external id;
    # the caller retries (ingest.services.events_ingest).
    Conversation.objects.bulk_create(created)
    if plan.changed:
        changed = []
        for external_id, state in plan.changed.items():
            row = locked[external_id]
            row.created_at = state.created_at
            row.last_activity_at = state.last_activity_at
            row.shared_for_training = state.shared_for_training
            row.title = state.title
            changed.append(row)
        # Rows locked by the load: nobody else changed them since they were read.
        Conversation.objects.bulk_update(changed, _MOVED_FIELDS)
    rows = locked | {conversation.external_id: conversation for conversation in created}
    stored = Message.objects.bulk_create(
        Message(
            conversation_id=rows[m.conversation_external_id].pk,
            external_id=m.message_external_id,
            role=m.role,
            content=m.content,
            sent_at=m.sent_at,
        )
        for m in plan.to_store
    )
    refresh_conversation_deadlines(
        Conversation.objects.filter(
            pk__in={rows[m.conversation_external_id].pk for m in plan.to_store}
        )
    )
    data_version_bump(user_ids={m.user_id for m in plan.to_store})
    return stored


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
    """One message (messages_add_many of one): the first creates the
    conversation, a later one resumes it, an older one is stored without
    moving the activity (or the basis) back. Raises ConversationPurged when
    the conversation's content was purged, MessageRefused for a conversation
    of another account or a different message under a stored id; an
    identical redelivery returns the stored message."""
    message = NewMessage(
        user_id=user.pk,
        conversation_external_id=conversation_external_id,
        kind=kind,
        title=title,
        message_external_id=message_external_id,
        role=role,
        content=content,
        sent_at=sent_at,
    )
    try:
        stored = messages_add_many(messages=[message])
    except MessageRefused as exc:
        if exc.refusal is Refusal.PURGED:
            raise ConversationPurged(conversation_external_id) from None
        raise
    return stored[0] if stored else Message.objects.get(external_id=message_external_id)


class ConversationNotFound(LookupError):
    """An id that is not one of the user's conversations: another account's
    and an unknown one get the same answer."""


def conversations_delete_by_id(
    *, user: User, external_ids: Iterable[str], deleted_at: datetime | None = None
) -> int:
    """Delete the user's conversations of these ids, all or nothing: one id
    that is not theirs raises ConversationNotFound and nothing is deleted.
    Deleting again changes nothing. Returns how many were newly deleted."""
    wanted = set(external_ids)
    with transaction.atomic():
        targets = owned_conversations(user_id=user.pk, external_ids=wanted)
        if targets.count() != len(wanted):
            raise ConversationNotFound
        return conversations_delete(user=user, conversations=targets, deleted_at=deleted_at)


def conversations_delete_all(*, user: User) -> int:
    """Every conversation of the user leaves the history now."""
    return conversations_delete(user=user, conversations=owned_conversations(user_id=user.pk))


def conversations_delete(
    *,
    user: User,
    conversations: QuerySet[Conversation],
    deleted_at: datetime | None = None,
    origin_system_id: int | None = None,
) -> int:
    """Delete conversations of `user`: they leave the history at once and their
    content is purged by the deadline the rules give. Every connected system
    subscribed hears of each deletion (the outbox, same transaction), except
    `origin_system_id`, the system that reported it. Deleting again changes
    nothing. Returns how many were newly deleted."""
    deleted_at = deleted_at or timezone.now()
    with transaction.atomic():
        targets = conversations.filter(user=user, deleted_at__isnull=True)
        ids = list(targets.values_list("pk", flat=True))
        if not ids:
            return 0
        Conversation.objects.filter(pk__in=ids).update(deleted_at=deleted_at)
        refresh_conversation_deadlines(Conversation.objects.filter(pk__in=ids))
        data_version_bump(user_ids=[user.pk])
        if user.external_id:
            outbox_record_many(
                events=[
                    OutboxItem(
                        type=CONVERSATION_DELETED,
                        account=user.external_id,
                        data={
                            "account": user.external_id,
                            "conversation": external_id,
                            "deleted_at": iso_utc(deleted_at),
                            "purge_by": iso_utc(purge_by) if purge_by else None,
                        },
                        origin_system_id=origin_system_id,
                    )
                    for external_id, purge_by in Conversation.objects.filter(pk__in=ids)
                    .order_by("pk")
                    .values_list("external_id", "public_retain_until")
                ]
            )
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
    data_version_bump(user_ids=[conversation.user_id])
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
        owned_conversations(user_id=user.pk, external_ids=[conversation_external_id]).first()
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
    data_version_bump(user_ids=[user.pk])
    return feedback
