"""A batch of events applied set-based: read once, decide in memory, write once.

The per-event path (ingest.services, `_apply_per_event`) looks up and writes
each event's rows in turn, about ten statements an event; nearly all of the
batch's time went to those round trips and to Django compiling them. Here a
batch costs a fixed number of statements whatever its length:

1. load: every row the batch names, in one query per table (accounts and
   conversations locked, in primary-key order); a concurrent batch that
   commits between two of these reads sends the batch back to be retried
   (`_refuse_a_torn_read`);
2. walk the events in order over that state held in memory, with the same
   checks and the same first error as the per-event path (message runs go
   through the same pure `plan_messages`);
3. write: one statement per table (new rows with their final values, changed
   rows by one bulk update), then one deadline rewrite per table.

The outcome (answers, errors, rows, outbox events in order) is the per-event
path's: tests/ingest/test_message_runs.py and tests/ingest/test_batch.py hold
the two to the same result over random batches. Two facts are derived here as
the per-event path derives them in SQL: the basis of a conversation after a
late consent change (accounts.consent.consent_at, the pure twin of the
selectors' `consent_allowed_at`; the SQL rederive still runs, once per
account, for the conversations the batch did not load) and the deletion
date a `conversation.deleted` outbox event announces (the pure policy,
retention.policy.decide_conversation, the twin of the SQL rewrite; a legal
hold is masked there as on every user-facing date).
"""

from bisect import bisect_right
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import count

from django.contrib.auth.hashers import make_password
from django.db.models import OuterRef, Q

from accounts.backends import users_forget
from accounts.consent import ConsentEntry
from accounts.data_version import data_version_bump
from accounts.models import AccountType, ConsentChange, ConsentSource, User
from accounts.selectors import consent_allowed_at, consent_ledgers
from connected.events import CONSENT_CHANGED, CONVERSATION_DELETED, iso_utc
from connected.services.outbox import OutboxItem, outbox_record_many
from ingest.models import AccountUpsertMark
from ingest.schemas import (
    AccountUpserted,
    AnyEvent,
    ConsentChanged,
    ConversationDeleted,
    ConversationFlagged,
    FeedbackSubmitted,
    MessageAdded,
)
from retention.models import Conversation, DeletionReceipt, Feedback, Flag, Message, Rule
from retention.policy import ConversationFacts, Durations, decide_conversation
from retention.policy.message_plan import (
    ConversationState,
    MessageFacts,
    MessageRefused,
    NewMessage,
    Refusal,
    StoredMessage,
    plan_messages,
)
from retention.selectors.documents import current_article_version
from retention.selectors.settings import policy_durations
from retention.services.deadlines import (
    refresh_conversation_deadlines,
    refresh_feedback_deadlines,
    refresh_flag_deadlines,
)


class Raced(Exception):
    """A concurrent batch committed rows this batch read in part; nothing is
    written, and the caller retries with a fresh read."""


class Rejected(Exception):
    """The event at `index` is refused (field, error as the per-event path
    words them); nothing of the batch is written."""

    def __init__(self, index: int, field: str | None, error: str):
        super().__init__(error)
        self.index, self.field, self.error = index, field, error


@dataclass
class _Account:
    key: int  # the row's pk, or a negative stand-in for an account created here
    external_id: str | None
    email: str
    account_type: str
    plan: str
    row: User | None  # the stored row; None for one created here
    changed: bool = False
    type_changed: bool = False

    @property
    def takes_new_data(self) -> bool:
        return self.row is None or self.row.takes_new_data


@dataclass
class _Conversation:
    state: ConversationState
    deleted_at: datetime | None
    flagged_at: datetime | None
    row: Conversation | None  # the stored row; None for one created here
    changed: bool = False


@dataclass
class _Batch:
    """The state the events walk over, and what they leave to write."""

    accounts: dict[str, _Account]  # by external id
    emails: dict[str, list[_Account | None]]  # holders of each email (None: not ours)
    marks: dict[str, datetime]
    conversations: dict[str, _Conversation]
    purged: dict[str, set[int]]  # conversation external id -> owners of its receipts
    known: dict[str, StoredMessage]
    ledgers: dict[int, list[ConsentEntry]]
    feedback: dict[str, tuple]  # external id -> (user key, kind, comment, excerpt, submitted_at)
    article_version: str | None
    durations: Durations = field(default_factory=Durations)
    stand_ins: count = field(default_factory=lambda: count(-1, -1))
    new_accounts: list[_Account] = field(default_factory=list)
    marks_applied: dict[str, datetime] = field(default_factory=dict)
    consents: list[tuple[int, bool, datetime]] = field(default_factory=list)
    rederive: dict[int, datetime] = field(default_factory=dict)  # account key -> since
    new_conversations: list[str] = field(default_factory=list)
    messages: list[NewMessage] = field(default_factory=list)
    flags: list[tuple[str, datetime, dict]] = field(default_factory=list)
    new_feedback: list[tuple[int, FeedbackSubmitted]] = field(default_factory=list)
    outbox: list[tuple] = field(default_factory=list)  # in event order


def _named(events: list[AnyEvent]) -> tuple[set[str], set[str], set[str], set[str], set[str]]:
    accounts, emails, conversations, messages, feedback = set(), set(), set(), set(), set()
    for event in events:
        if isinstance(event, AccountUpserted):
            accounts.add(event.account.id)
            emails.add(User.objects.normalize_email(event.account.email).lower())
            continue
        accounts.add(event.account)
        if isinstance(event, MessageAdded):
            conversations.add(event.conversation.id)
            messages.add(event.message.id)
        elif isinstance(event, ConversationDeleted | ConversationFlagged):
            conversations.add(event.conversation)
        elif isinstance(event, FeedbackSubmitted):
            feedback.add(event.feedback.id)
            if event.feedback.conversation is not None:
                conversations.add(event.feedback.conversation)
    return accounts, emails, conversations, messages, feedback


def _load(events: list[AnyEvent]) -> _Batch:
    account_ids, emails, conversation_ids, message_ids, feedback_ids = _named(events)
    # FOR NO KEY UPDATE (here and on the conversations below): it serialises
    # the writers of an account as FOR UPDATE would, without blocking the
    # foreign-key checks of rows that refer to it. With FOR UPDATE, a
    # deletion of one of the account's conversations (whose commit checks the
    # conversation's key to the account: it updates the row twice) waited
    # for this batch while this batch waited for that conversation: a
    # deadlock (tests/reliability/test_concurrent_traffic.py).
    users = list(
        User.objects.select_for_update(no_key=True)
        .filter(Q(external_id__in=account_ids) | Q(email__in=emails))
        .order_by("pk")
    )
    accounts: dict[str, _Account] = {}
    holders: dict[str, list[_Account | None]] = {}
    for user in users:
        account = _Account(
            user.pk, user.external_id, user.email, user.account_type, user.plan, user
        )
        if user.external_id in account_ids:
            accounts[user.external_id] = account
        holders.setdefault(user.email, []).append(account if user.external_id else None)
    upserted = {e.account.id for e in events if isinstance(e, AccountUpserted)}
    marks = dict(
        AccountUpsertMark.objects.select_for_update()
        .filter(pk__in=upserted)
        .order_by("pk")
        .values_list("account_external_id", "upserted_at")
        if upserted
        else ()
    )
    rows = {
        row.external_id: row
        for row in Conversation.objects.select_for_update(no_key=True)
        .filter(external_id__in=conversation_ids)
        .order_by("pk")
    }
    conversations = {
        external_id: _Conversation(
            ConversationState(
                user_id=row.user_id,
                kind=row.kind,
                title=row.title,
                created_at=row.created_at,
                last_activity_at=row.last_activity_at,
                shared_for_training=row.shared_for_training,
            ),
            row.deleted_at,
            row.flagged_at,
            row,
        )
        for external_id, row in rows.items()
    }
    purged: dict[str, set[int]] = {}
    unknown = conversation_ids - rows.keys()
    if unknown:
        for external_id, user_id in DeletionReceipt.objects.filter(
            conversation_external_id__in=unknown
        ).values_list("conversation_external_id", "user_id"):
            purged.setdefault(external_id, set()).add(user_id)
    known = (
        {
            external_id: StoredMessage(conversation, role, content, sent_at)
            for external_id, conversation, role, content, sent_at in Message.objects.filter(
                external_id__in=message_ids
            ).values_list("external_id", "conversation__external_id", "role", "content", "sent_at")
        }
        if message_ids
        else {}
    )
    ledgers = {
        user_id: list(entries)
        for user_id, entries in consent_ledgers(user_ids=[a.key for a in accounts.values()]).items()
    }
    feedback = (
        {
            row[0]: row[1:]
            for row in Feedback.objects.filter(external_id__in=feedback_ids).values_list(
                "external_id", "user_id", "kind", "comment", "excerpt", "submitted_at"
            )
        }
        if feedback_ids
        else {}
    )
    owners = (
        {row.user_id for row in rows.values()}
        | {owner for holders in purged.values() for owner in holders}
        | {stored[0] for stored in feedback.values()}
    )
    _refuse_a_torn_read(
        unseen_owners=owners - {user.pk for user in users},
        marked_unseen=marks.keys() - accounts.keys(),
        account_ids=account_ids,
        emails=emails,
    )
    consent = any(isinstance(e, ConsentChanged) for e in events)
    return _Batch(
        accounts=accounts,
        emails=holders,
        marks=marks,
        conversations=conversations,
        purged=purged,
        known=known,
        ledgers=ledgers,
        feedback=feedback,
        article_version=current_article_version() if consent else None,
    )


def _refuse_a_torn_read(
    *, unseen_owners: set[int], marked_unseen: set[str], account_ids: set[str], emails: set[str]
) -> None:
    """Raise Raced if an account the batch names was committed by another
    batch after the accounts query but before a later query of the load.

    Each statement of the load reads the rows committed when it starts
    (READ COMMITTED). A concurrent batch creating the same account may commit
    in between: the account then looks new here while a later read already
    sees what that batch wrote: a conversation (or feedback, or receipt)
    with an owner, and the batch would be refused with "belongs to another
    account"; or the account's upsert mark, and a newer mark would skip this
    batch's upsert, leaving "unknown account". So the owners the accounts
    query did not return, and the accounts of marks it did not return, are
    asked again (one query, only when there are any); one of ours among them
    means the reads tore. Otherwise they are other accounts (or an erased
    one's mark), and the answer stands."""
    torn = Q()
    if unseen_owners:
        torn |= Q(pk__in=unseen_owners) & (Q(external_id__in=account_ids) | Q(email__in=emails))
    if marked_unseen:
        torn |= Q(external_id__in=marked_unseen)
    if torn and User.objects.filter(torn).exists():
        raise Raced("an account this batch names was created by a concurrent batch")


# --- the walk: each event type as the per-event path decides it -------------


def _unknown_account(index: int, external_id: str, field: str = "account") -> Rejected:
    return Rejected(index, field, f"unknown account {external_id!r}; send account.upserted first")


def _closed_account(index: int, external_id: str) -> Rejected:
    return Rejected(
        index, "account", f"account {external_id!r} was deleted by its owner; it takes no new data"
    )


def _account(batch: _Batch, index: int, external_id: str) -> _Account:
    account = batch.accounts.get(external_id)
    if account is None:
        raise _unknown_account(index, external_id)
    return account


def _open_account(batch: _Batch, index: int, external_id: str) -> _Account:
    """The account of an event that brings new data (a consent change,
    feedback): refused once its owner asked to delete it."""
    account = _account(batch, index, external_id)
    if not account.takes_new_data:
        raise _closed_account(index, external_id)
    return account


def _own_conversation(
    batch: _Batch, index: int, account: _Account, external_id: str, field: str
) -> _Conversation | None:
    conversation = batch.conversations.get(external_id)
    if conversation is not None and conversation.state.user_id != account.key:
        raise Rejected(index, field, f"conversation {external_id!r} belongs to another account")
    return conversation


def _was_purged(batch: _Batch, index: int, account: _Account, external_id: str, field: str) -> bool:
    owners = batch.purged.get(external_id, set())
    if owners and account.key not in owners:
        raise Rejected(index, field, f"conversation {external_id!r} belongs to another account")
    return bool(owners)


def _account_upserted(batch: _Batch, index: int, event: AccountUpserted) -> None:
    data = event.account
    mark = batch.marks.get(data.id)
    if mark is not None and mark > event.at:
        return  # a newer snapshot of this account is already applied
    email = User.objects.normalize_email(data.email).lower()
    account = batch.accounts.get(data.id)
    if any(holder is not account for holder in batch.emails.get(email, ())):
        raise Rejected(index, "account.email", "this email address belongs to another account")
    if account is None:
        account = _Account(next(batch.stand_ins), data.id, email, data.type, data.plan, None)
        batch.accounts[data.id] = account
        batch.new_accounts.append(account)
    else:
        if account.row is not None and account.account_type != data.type:
            account.type_changed = True
        account.changed = True
        batch.emails[account.email].remove(account)
        account.email, account.account_type, account.plan = email, data.type, data.plan
    batch.emails.setdefault(email, []).append(account)
    batch.marks[data.id] = batch.marks_applied[data.id] = event.at


def _consent_changed(batch: _Batch, index: int, event: ConsentChanged, origin) -> None:
    account = _open_account(batch, index, event.account)
    ledger = batch.ledgers.setdefault(account.key, [])
    # The entry in force at `at`: the last at or before it (ties: recorded last).
    position = bisect_right([entry.effective_at for entry in ledger], event.at)
    if position and ledger[position - 1].allowed == event.allowed:
        return  # the value already in force: the ledger is not padded
    ledger.insert(position, ConsentEntry(effective_at=event.at, allowed=event.allowed))
    batch.consents.append((account.key, event.allowed, event.at))
    if account.external_id:
        batch.outbox.append(
            (
                CONSENT_CHANGED,
                account.external_id,
                {"account": account.external_id, "allowed": event.allowed, "at": iso_utc(event.at)},
                origin,
            )
        )
    # The basis of the conversations active since: see _basis_rederive.
    since = batch.rederive.get(account.key)
    batch.rederive[account.key] = event.at if since is None else min(since, event.at)
    for conversation in batch.conversations.values():
        state = conversation.state
        if state.user_id == account.key and state.last_activity_at >= event.at:
            basis = _consent_at(ledger, state.last_activity_at)
            if basis != state.shared_for_training:
                conversation.state = replace(state, shared_for_training=basis)
                conversation.changed = True


def _consent_at(ledger: list[ConsentEntry], moment: datetime) -> bool:
    position = bisect_right([entry.effective_at for entry in ledger], moment)
    return bool(position) and ledger[position - 1].allowed


def _messages_added(batch: _Batch, run: list[tuple[int, MessageAdded]]) -> None:
    messages: list[NewMessage] = []
    for _, event in run:
        account = batch.accounts.get(event.account)
        if account is None or not account.takes_new_data:
            break  # refused below, unless an earlier message is refused first
        messages.append(
            NewMessage(
                user_id=account.key,
                conversation_external_id=event.conversation.id,
                kind=event.conversation.kind,
                title=event.conversation.title,
                message_external_id=event.message.id,
                role=event.message.role,
                content=event.message.content,
                sent_at=event.at,
            )
        )
    facts = MessageFacts(
        conversations={k: c.state for k, c in batch.conversations.items()},
        purged=frozenset(batch.purged),
        known=batch.known,
        ledgers=batch.ledgers,
    )
    try:
        plan = plan_messages(facts, messages)
    except MessageRefused as exc:
        index, event = run[exc.index]
        if exc.refusal is Refusal.ANOTHER_ACCOUNT:
            field, error = (
                "conversation.id",
                f"conversation {event.conversation.id!r} belongs to another account",
            )
        elif exc.refusal is Refusal.ID_TAKEN:
            field, error = "message.id", "a different message with this id is already stored"
        else:
            field, error = (
                "conversation.id",
                "this conversation's content was already purged; it cannot be resumed",
            )
        raise Rejected(index, field, error) from None
    if len(messages) < len(run):
        index, event = run[len(messages)]
        if event.account in batch.accounts:
            raise _closed_account(index, event.account)
        raise _unknown_account(index, event.account)
    for external_id, state in plan.created.items():
        batch.conversations[external_id] = _Conversation(state, None, None, None)
        batch.new_conversations.append(external_id)
    for external_id, state in plan.changed.items():
        conversation = batch.conversations[external_id]
        conversation.state, conversation.changed = state, True
    for m in plan.to_store:
        batch.known[m.message_external_id] = StoredMessage(
            m.conversation_external_id, m.role, m.content, m.sent_at
        )
        batch.messages.append(m)


def _conversation_deleted(batch: _Batch, index: int, event: ConversationDeleted, origin) -> None:
    account = _account(batch, index, event.account)
    conversation = _own_conversation(batch, index, account, event.conversation, "conversation")
    if conversation is None:
        if _was_purged(batch, index, account, event.conversation, "conversation"):
            return  # already gone for good: the deletion is moot
        raise Rejected(index, "conversation", f"unknown conversation {event.conversation!r}")
    if conversation.deleted_at is not None:
        return  # deleting again changes nothing
    conversation.deleted_at, conversation.changed = event.at, True
    if account.external_id:
        state = conversation.state
        # What the rewrite stores as public_retain_until (the hold masked).
        purge_by = decide_conversation(
            ConversationFacts(
                last_activity_at=state.last_activity_at,
                shared_for_training=state.shared_for_training,
                is_commercial=account.account_type == AccountType.COMMERCIAL,
                deleted_at=event.at,
                flagged_at=conversation.flagged_at,
            ),
            batch.durations,
        ).content_retain_until
        batch.outbox.append(
            (
                CONVERSATION_DELETED,
                account.external_id,
                {
                    "account": account.external_id,
                    "conversation": event.conversation,
                    "deleted_at": iso_utc(event.at),
                    "purge_by": iso_utc(purge_by) if purge_by else None,
                },
                origin,
            )
        )


def _conversation_flagged(batch: _Batch, index: int, event: ConversationFlagged, origin) -> None:
    account = _account(batch, index, event.account)
    conversation = _own_conversation(batch, index, account, event.conversation, "conversation")
    if conversation is None:
        if _was_purged(batch, index, account, event.conversation, "conversation"):
            raise Rejected(index, "conversation", "this conversation's content was already purged")
        raise Rejected(index, "conversation", f"unknown conversation {event.conversation!r}")
    batch.flags.append((event.conversation, event.at, dict(event.scores)))
    # The latest flag governs: never a deadline earlier than a flag allows.
    if conversation.flagged_at is None or event.at > conversation.flagged_at:
        conversation.flagged_at, conversation.changed = event.at, True


def _feedback_submitted(batch: _Batch, index: int, event: FeedbackSubmitted, origin) -> None:
    account = _open_account(batch, index, event.account)
    data = event.feedback
    if data.conversation is not None:
        field = "feedback.conversation"
        conversation = _own_conversation(batch, index, account, data.conversation, field)
        # Feedback keeps its own copy, so it may be about a purged conversation.
        if conversation is None and not _was_purged(
            batch, index, account, data.conversation, field
        ):
            raise Rejected(index, field, f"unknown conversation {data.conversation!r}")
    stored = batch.feedback.get(data.id)
    if stored is not None:
        if stored == (account.key, data.kind, data.comment, data.excerpt, event.at):
            return  # redelivered under a new event id: already stored
        raise Rejected(index, "feedback.id", "a different feedback with this id is already stored")
    batch.feedback[data.id] = (account.key, data.kind, data.comment, data.excerpt, event.at)
    batch.new_feedback.append((account.key, event))


_APPLY = {
    ConsentChanged: _consent_changed,
    ConversationDeleted: _conversation_deleted,
    ConversationFlagged: _conversation_flagged,
    FeedbackSubmitted: _feedback_submitted,
}


# --- the writes ---------------------------------------------------------------


def _write(batch: _Batch) -> None:
    # Accounts first: everything else refers to them.
    created = User.objects.bulk_create(
        User(
            email=a.email,
            external_id=a.external_id,
            account_type=a.account_type,
            plan=a.plan,
            is_staff=False,
            is_superuser=False,
            password=make_password(None),  # unusable: the owner sets one by the reset flow
        )
        for a in batch.new_accounts
    )
    pk = {a.key: user.pk for a, user in zip(batch.new_accounts, created, strict=True)}
    changed_users = []
    for account in batch.accounts.values():
        pk.setdefault(account.key, account.key)
        if account.changed and account.row is not None:
            row = account.row
            row.email, row.account_type, row.plan = (
                account.email,
                account.account_type,
                account.plan,
            )
            changed_users.append(row)
    if changed_users:
        User.objects.bulk_update(changed_users, ["email", "account_type", "plan"])
        users_forget(user_ids=[row.pk for row in changed_users])  # bulk_update sends no post_save
    if batch.marks_applied:
        AccountUpsertMark.objects.bulk_create(
            [
                AccountUpsertMark(account_external_id=k, upserted_at=at)
                for k, at in batch.marks_applied.items()
            ],
            update_conflicts=True,
            unique_fields=["account_external_id"],
            update_fields=["upserted_at"],
        )
    if batch.consents:
        ConsentChange.objects.bulk_create(
            ConsentChange(
                user_id=pk[key],
                allowed=allowed,
                effective_at=at,
                source=ConsentSource.IMPORT,
                article_version=batch.article_version,
            )
            for key, allowed, at in batch.consents
        )

    conversations = batch.conversations
    new_rows = Conversation.objects.bulk_create(
        Conversation(
            external_id=external_id,
            user_id=pk[c.state.user_id],
            kind=c.state.kind,
            title=c.state.title,
            created_at=c.state.created_at,
            last_activity_at=c.state.last_activity_at,
            shared_for_training=c.state.shared_for_training,
            deleted_at=c.deleted_at,
            flagged_at=c.flagged_at,
            rule=Rule.NOT_SHARED,  # rewritten with the deadlines below
            public_rule=Rule.NOT_SHARED,
        )
        for external_id in batch.new_conversations
        for c in (conversations[external_id],)
    )
    for row in new_rows:
        conversations[row.external_id].row = row
    new_pks = {row.pk for row in new_rows}
    changed = []
    for c in conversations.values():
        if c.changed and c.row is not None and c.row.pk not in new_pks:
            row = c.row
            row.created_at = c.state.created_at
            row.last_activity_at = c.state.last_activity_at
            row.shared_for_training = c.state.shared_for_training
            row.title = c.state.title
            row.deleted_at = c.deleted_at
            row.flagged_at = c.flagged_at
            changed.append(row)
    if changed:
        # Rows locked by the load: nobody else changed them since they were read.
        Conversation.objects.bulk_update(
            changed,
            [
                "created_at",
                "last_activity_at",
                "shared_for_training",
                "title",
                "deleted_at",
                "flagged_at",
            ],
        )
    if batch.messages:
        Message.objects.bulk_create(
            Message(
                conversation_id=conversations[m.conversation_external_id].row.pk,
                external_id=m.message_external_id,
                role=m.role,
                content=m.content,
                sent_at=m.sent_at,
            )
            for m in batch.messages
        )
    new_flags = Flag.objects.bulk_create(
        Flag(
            user_id=conversations[external_id].row.user_id,
            conversation_id=conversations[external_id].row.pk,
            conversation_external_id=external_id,
            flagged_at=at,
            scores=scores,
        )
        for external_id, at, scores in batch.flags
    )
    new_feedback = Feedback.objects.bulk_create(
        Feedback(
            user_id=pk[key],
            external_id=event.feedback.id,
            kind=event.feedback.kind,
            comment=event.feedback.comment,
            excerpt=event.feedback.excerpt,
            conversation_id=(
                conversations[event.feedback.conversation].row.pk
                if event.feedback.conversation in conversations
                else None
            ),
            conversation_external_id=event.feedback.conversation or "",
            submitted_at=event.at,
            public_retain_until=event.at,  # rewritten just below
        )
        for key, event in batch.new_feedback
    )

    # A late consent change: the basis of the account's other conversations
    # active since (those the batch loaded already hold it).
    touched = Q(pk__in=new_pks | {row.pk for row in changed})
    for key, since in batch.rederive.items():
        consent_then = consent_allowed_at(user_ref="user_id", moment=OuterRef("last_activity_at"))
        active = Conversation.objects.filter(user_id=pk[key], last_activity_at__gte=since)
        if active.update(shared_for_training=consent_then):
            touched |= Q(user_id=pk[key], last_activity_at__gte=since)
    if batch.outbox:
        outbox_record_many(
            events=[
                OutboxItem(type=type_, account=account, data=data, origin_system_id=origin)
                for type_, account, data, origin in batch.outbox
            ]
        )

    # The deadlines of every row the batch touched, one rewrite per table.
    retyped = [pk[a.key] for a in batch.accounts.values() if a.type_changed]
    durations = batch.durations
    refresh_conversation_deadlines(
        Conversation.objects.filter(touched | Q(user_id__in=retyped)), durations=durations
    )
    if new_flags or retyped:
        refresh_flag_deadlines(
            Flag.objects.filter(Q(pk__in=[f.pk for f in new_flags]) | Q(user_id__in=retyped)),
            durations=durations,
        )
    if new_feedback or retyped:
        refresh_feedback_deadlines(
            Feedback.objects.filter(
                Q(pk__in=[f.pk for f in new_feedback]) | Q(user_id__in=retyped)
            ),
            durations=durations,
        )
    _pages_changed(batch, pk)


def _pages_changed(batch: _Batch, pk: dict) -> None:
    """Every account the batch named may read differently now (messages,
    deletions, flags, consent): new page versions (accounts.data_version)."""
    data_version_bump(user_ids=[pk[a.key] for a in batch.accounts.values()])


def batch_apply(events: list[tuple[int, AnyEvent]], origin: int | None) -> None:
    """Apply `events` (each with its index in the request; ids already
    claimed) in the caller's transaction. Raises Rejected for the first
    refused event, before anything is written."""
    if not events:
        return
    batch = _load([event for _, event in events])
    batch.durations = policy_durations()
    position = 0
    while position < len(events):
        index, event = events[position]
        if isinstance(event, MessageAdded):
            end = position
            while end < len(events) and isinstance(events[end][1], MessageAdded):
                end += 1
            _messages_added(batch, events[position:end])
            position = end
            continue
        if isinstance(event, AccountUpserted):
            _account_upserted(batch, index, event)
        else:
            _APPLY[type(event)](batch, index, event, origin)
        position += 1
    _write(batch)
