"""What a list of new messages does to the conversations it touches: which to
create, which stored ones move, which messages to store, or which message is
refused first. Plain values in and out, no database: the service
`retention.services.conversations.messages_add_many` loads the state, calls
plan_messages and writes the plan.

The rules (docs/retention-rules.md, "Activity" and "Basis"): the first message
of a conversation creates it; a later one resumes it (activity, the basis at
that time, the title if given); an older one moves only the start. A message id
names one message for good: the same message again is a redelivery (skipped),
a different one under that id is refused. A conversation of another account,
or one whose content was purged, is refused.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

# From the package, not its modules: `retention.policy` is where these stay.
from retention.policy import ConsentEntry, consent_at


@dataclass(frozen=True)
class NewMessage:
    """One message for messages_add_many: message_add's arguments, the
    account by id."""

    user_id: int
    conversation_external_id: str
    kind: str
    title: str
    message_external_id: str
    role: str
    content: str
    sent_at: datetime


class Refusal(StrEnum):
    ANOTHER_ACCOUNT = "the conversation belongs to another account"
    PURGED = "the conversation's content was already purged"
    ID_TAKEN = "a different message with this id is already stored"


class MessageRefused(Exception):
    """messages_add_many: the message at `index` cannot be added."""

    def __init__(self, index: int, refusal: Refusal):
        super().__init__(f"message {index}: {refusal}")
        self.index, self.refusal = index, refusal


@dataclass(frozen=True)
class ConversationState:
    """A conversation's fields that messages create or move."""

    user_id: int
    kind: str
    title: str
    created_at: datetime
    last_activity_at: datetime
    shared_for_training: bool  # the basis: consent at last_activity_at


@dataclass(frozen=True)
class StoredMessage:
    """What makes a stored message the same message: a redelivery matches it."""

    conversation_external_id: str
    role: str
    content: str
    sent_at: datetime


@dataclass(frozen=True)
class MessageFacts:
    """The stored state a list of messages is checked against, by external id."""

    conversations: Mapping[str, ConversationState]  # stored ones the list names
    purged: frozenset[str]  # conversations with a deletion receipt and no row
    known: Mapping[str, StoredMessage]  # stored messages under the list's ids
    ledgers: Mapping[int, Sequence[ConsentEntry]]  # consent ledgers by account id


@dataclass(frozen=True)
class MessagePlan:
    """What to write, in the order one by one would write it."""

    created: dict[str, ConversationState]  # in order of their first message
    changed: dict[str, ConversationState]  # stored conversations, their new fields
    to_store: list[NewMessage]  # in list order, redeliveries left out


def plan_messages(facts: MessageFacts, messages: Sequence[NewMessage]) -> MessagePlan:
    """Walk `messages` in order, each checked against `facts` and the messages
    before it. Raises MessageRefused for the first refused message, so a plan
    is only returned when every message has passed. `facts` is not changed."""
    conversations = dict(facts.conversations)
    known = dict(facts.known)
    created: dict[str, ConversationState] = {}
    changed: dict[str, ConversationState] = {}
    to_store: list[NewMessage] = []
    for index, m in enumerate(messages):
        external_id = m.conversation_external_id
        conversation = conversations.get(external_id)
        if conversation is not None and conversation.user_id != m.user_id:
            raise MessageRefused(index, Refusal.ANOTHER_ACCOUNT)
        this = StoredMessage(external_id, m.role, m.content, m.sent_at)
        earlier = known.get(m.message_external_id)
        if earlier is not None:
            if earlier == this:
                continue
            raise MessageRefused(index, Refusal.ID_TAKEN)
        moved: ConversationState | None = None
        if conversation is None:
            if external_id in facts.purged:
                raise MessageRefused(index, Refusal.PURGED)
            moved = ConversationState(
                user_id=m.user_id,
                kind=m.kind,
                title=m.title,
                created_at=m.sent_at,
                last_activity_at=m.sent_at,
                shared_for_training=consent_at(facts.ledgers.get(m.user_id, ()), m.sent_at),
            )
        elif m.sent_at > conversation.last_activity_at:
            moved = replace(
                conversation,
                last_activity_at=m.sent_at,
                shared_for_training=consent_at(facts.ledgers.get(m.user_id, ()), m.sent_at),
                title=m.title or conversation.title,
            )
        elif m.sent_at < conversation.created_at:
            moved = replace(conversation, created_at=m.sent_at)
        if moved is not None:
            conversations[external_id] = moved
            if external_id in facts.conversations:
                changed[external_id] = moved
            else:
                created[external_id] = moved
        known[m.message_external_id] = this
        to_store.append(m)
    return MessagePlan(created=created, changed=changed, to_store=to_store)
