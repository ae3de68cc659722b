"""Whose conversation is this: the one ownership lookup. Pages, the API,
ingest and the services ask it; another account's conversation is simply not
in the answer, exactly like an unknown id."""

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from retention.models import Conversation, DeletionReceipt, Message


def owned_conversations(
    *, user_id: int, external_ids: Iterable[str] | None = None
) -> QuerySet[Conversation]:
    """The conversations of `user_id`, deleted ones included; only those of
    `external_ids` when given."""
    conversations = Conversation.objects.filter(user_id=user_id)
    if external_ids is not None:
        conversations = conversations.filter(external_id__in=list(external_ids))
    return conversations


def visible_conversations(*, user_id: int) -> QuerySet[Conversation]:
    """The user's history: deleted conversations leave it at once."""
    return owned_conversations(user_id=user_id).filter(deleted_at__isnull=True)


def conversations_matching(
    conversations: QuerySet[Conversation], *, user_id: int, text: str
) -> QuerySet[Conversation]:
    """Those of `conversations` whose title or any message contains `text`
    (case-insensitive substring). On PostgreSQL both sides are answered by the
    trigram indexes of migration 0009 (`UPPER(col) gin_trgm_ops`, the
    expression `icontains` compiles to); elsewhere they are scans."""
    titled = Conversation.objects.filter(user_id=user_id, title__icontains=text).values("pk")
    said = Message.objects.filter(conversation__user_id=user_id, content__icontains=text).values(
        "conversation_id"
    )
    return conversations.filter(Q(pk__in=titled) | Q(pk__in=said))


def conversation_owner_id(*, external_id: str) -> int | None:
    """The account a stored conversation belongs to, whoever asks (ingest
    tells "another account's" from "unknown" with it)."""
    return (
        Conversation.objects.filter(external_id=external_id)
        .values_list("user_id", flat=True)
        .first()
    )


def purged_conversation_owner_ids(*, external_id: str) -> set[int]:
    """The accounts whose conversation of this id was purged (its receipts)."""
    return set(
        DeletionReceipt.objects.filter(conversation_external_id=external_id).values_list(
            "user_id", flat=True
        )
    )
