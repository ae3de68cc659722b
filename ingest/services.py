"""Applying the chat service's events to the domain.

The chat service delivers at least once and not always in order, so:
- a batch is validated completely before anything is written, then applied in
  ONE transaction; any problem rolls the whole batch back (all or nothing);
- every event id is claimed in `IngestedEvent` first, with
  `INSERT ... ON CONFLICT DO NOTHING RETURNING`: an id already stored (by an
  earlier request, or by a concurrent one that committed first: PostgreSQL
  makes the second insert wait for the first transaction and then skip the
  row) is acknowledged as a duplicate and not applied again, provided its
  body is the same: the claim stores a digest of the canonical event body,
  and an id reused for a different event (in the batch, or against the stored
  digest) is refused with IngestConflict (409), naming the id;
- late events do not rewind facts: an older message does not move a
  conversation's activity back (retention.services.conversations), an older
  account snapshot does not overwrite a newer one (`AccountUpsertMark`), and a
  consent change that arrives after messages it precedes re-derives the basis
  of exactly those conversations (the basis is the consent in force at the
  last activity, whenever we learn about it).

Each event type maps to one existing domain service; this module only looks
up the rows an event names and checks that they belong together. Consecutive
`message.added` events (nearly all of the traffic) are applied together by
`messages_add_many`, in a few queries and one deadline rewrite per run rather
than about ten statements and a rewrite per message; every other type is
applied event by event.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import OuterRef
from django.utils import timezone

from accounts.models import ConsentSource, User
from accounts.selectors import (
    consent_allowed_at,
    user_by_external_id,
    users_by_external_id,
)
from accounts.services import account_upsert, consent_record
from ingest.batch import Raced, Rejected, batch_apply
from ingest.models import AccountUpsertMark, IngestedEvent
from ingest.schemas import (
    MAX_EVENTS,
    AccountUpserted,
    AnyEvent,
    ConsentChanged,
    ConversationDeleted,
    ConversationFlagged,
    FeedbackSubmitted,
    MessageAdded,
    event_digest,
    event_validate,
    json_loads,
)
from privacy_portal.db_errors import is_transient
from retention.models import Conversation, Feedback
from retention.selectors.conversations import (
    conversation_owner_id,
    owned_conversations,
    purged_conversation_owner_ids,
)
from retention.selectors.documents import current_article_version
from retention.services.conversations import (
    MessageRefused,
    NewMessage,
    Refusal,
    conversation_flag,
    conversations_delete,
    feedback_submit,
    messages_add_many,
)
from retention.services.deadlines import (
    refresh_account_deadlines,
    refresh_conversation_deadlines,
)

logger = logging.getLogger(__name__)

# Races between concurrent batches (two creating the same new account or
# conversation, a deadlock between row locks) end in an error that a fresh
# attempt resolves: by then the other transaction has committed.
ATTEMPTS = 3


@dataclass(frozen=True)
class EventError:
    index: int | None  # position in the batch; None for the request as a whole
    field: str | None  # dotted path inside the event; None for the whole event
    error: str

    def as_dict(self) -> dict:
        return {"index": self.index, "field": self.field, "error": self.error}


class IngestRejected(Exception):
    """The batch is invalid; nothing of it was applied."""

    def __init__(self, errors: list[EventError]):
        super().__init__("; ".join(f"{e.index}/{e.field}: {e.error}" for e in errors))
        self.errors = errors


class IngestConflict(IngestRejected):
    """An event id was used before (or earlier in the batch) for a different
    event; nothing of the batch was applied."""


def _id_reused(index: int, event_id: str) -> EventError:
    return EventError(index, "id", f"event id {event_id!r} was already used for a different event")


class IngestBusy(Exception):
    """Concurrent writes kept conflicting; nothing was applied, retry later."""


@dataclass(frozen=True)
class IngestResult:
    accepted: int  # events applied now
    duplicates: int  # events whose id was seen before (or earlier in the batch)


class _Reject(Exception):
    def __init__(self, field: str | None, error: str):
        super().__init__(error)
        self.field, self.error = field, error


def events_validate(events: object) -> list[AnyEvent]:
    """Validate a whole batch; raises IngestRejected with every problem found."""
    if not isinstance(events, list):
        raise IngestRejected([EventError(None, "events", "must be a list of events")])
    if len(events) > MAX_EVENTS:
        raise IngestRejected(
            [
                EventError(
                    None,
                    "events",
                    f"at most {MAX_EVENTS} events per request, got {len(events)}; split the batch",
                )
            ]
        )
    parsed: list[AnyEvent] = []
    errors: list[EventError] = []
    for index, raw in enumerate(events):
        event, problems = event_validate(raw)
        errors.extend(EventError(index, field, message) for field, message in problems)
        if event is not None:
            parsed.append(event)
    if errors:
        raise IngestRejected(errors)
    return parsed


def events_ingest(
    *, events: list[dict], origin_system_id: int | None = None, set_based: bool = True
) -> IngestResult:
    """Validate and apply a batch of at most MAX_EVENTS events, all or nothing.

    Raises IngestRejected (nothing applied) for an invalid event, whether the
    problem is its shape or what it refers to (an unknown account, a
    conversation of another account, a purged conversation), and IngestBusy
    if concurrent writers kept conflicting. `origin_system_id`: the connected
    system that sent the batch (its decisions are not echoed back to it).
    `set_based=False` applies the events one by one through the domain
    services (the reference the set-based path, ingest.batch, is held to)."""
    parsed = events_validate(events)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            result = (
                _apply(parsed, origin_system_id)
                if set_based
                else _apply(parsed, origin_system_id, set_based=False)
            )
        except (IntegrityError, OperationalError, Raced) as exc:
            if not _is_transient(exc):
                raise
            logger.warning("ingest: attempt %d of %d conflicted: %s", attempt, ATTEMPTS, exc)
            last = exc
        else:
            logger.info("ingest: %d accepted, %d duplicates", result.accepted, result.duplicates)
            return result
    logger.error("ingest: gave up after %d attempts", ATTEMPTS, exc_info=last)
    raise IngestBusy("concurrent writes conflicted; nothing was applied, retry") from last


def _is_transient(exc: Exception) -> bool:
    # An IntegrityError here is two batches creating the same new row, and
    # Raced a read that saw part of a concurrent batch: the other has
    # committed by the next attempt.
    return isinstance(exc, IntegrityError | Raced) or is_transient(exc)


def _digests(events: list[AnyEvent]) -> list[str]:
    """Each event's digest; raises IngestConflict if an id repeats in the
    batch with a different body."""
    digests = [event_digest(event) for event in events]
    first: dict[str, str] = {}
    conflicts = [
        _id_reused(index, event.id)
        for index, (event, digest) in enumerate(zip(events, digests, strict=True))
        if first.setdefault(event.id, digest) != digest
    ]
    if conflicts:
        raise IngestConflict(conflicts)
    return digests


def _apply(events: list[AnyEvent], origin: int | None, set_based: bool = True) -> IngestResult:
    digests = _digests(events)
    first_seen: dict[str, int] = {}
    for index, event in enumerate(events):
        first_seen.setdefault(event.id, index)
    with transaction.atomic():
        claimed = _claim((events[i], digests[i]) for i in first_seen.values())
        _refuse_reused_ids(
            (index, events[index].id, digests[index])
            for index in first_seen.values()
            if events[index].id not in claimed
        )
        todo = [
            (index, event)
            for index, event in enumerate(events)
            if first_seen[event.id] == index and event.id in claimed
        ]
        # Leaving the atomic block by an exception (IngestRejected) rolls back
        # the batch. Runs and events keep their order.
        if set_based:
            try:
                batch_apply(todo, origin)
            except Rejected as exc:
                raise IngestRejected([EventError(exc.index, exc.field, exc.error)]) from None
        else:
            _apply_per_event(todo, origin)
    return IngestResult(accepted=len(todo), duplicates=len(events) - len(todo))


def _apply_per_event(todo: list[tuple[int, AnyEvent]], origin: int | None) -> None:
    """The reference path: runs of message.added through messages_add_many,
    every other event through its own domain service, one by one."""
    for is_message, group in groupby(todo, key=lambda item: type(item[1]) is MessageAdded):
        run = list(group)
        if is_message:
            _messages_added(run)
            continue
        for index, event in run:
            try:
                _APPLY[type(event)](event, origin)
            except _Reject as exc:
                raise IngestRejected([EventError(index, exc.field, exc.error)]) from None


def _claim(events: Iterable[tuple[AnyEvent, str]]) -> set[str]:
    """Insert the ids not seen before, with their digests, and return them.
    Sorted, so two batches sharing ids take their row locks in the same order
    (no deadlock)."""
    rows = sorted((event.id, event.type, digest) for event, digest in events)
    if not rows:
        return set()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    table = connection.ops.quote_name(IngestedEvent._meta.db_table)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params = [p for row in rows for p in (*row, now)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (event_id, type, digest, received_at) VALUES {values} "  # noqa: S608
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            params,
        )
        return {row[0] for row in cursor.fetchall()}


def _refuse_reused_ids(seen: Iterable[tuple[int, str, str]]) -> None:
    """Ids claimed before: a duplicate only if the body is the same (rows
    claimed before digests were kept have none and count as the same)."""
    seen = list(seen)
    if not seen:
        return
    stored = dict(
        IngestedEvent.objects.filter(event_id__in=[event_id for _, event_id, _ in seen])
        .values_list("event_id", "digest")
        .iterator()
    )
    conflicts = [
        _id_reused(index, event_id)
        for index, event_id, digest in seen
        if stored.get(event_id) not in ("", digest, None)
    ]
    if conflicts:
        raise IngestConflict(conflicts)


# --- lookups shared by the appliers ----------------------------------------


def _unknown_account(external_id: str, field: str = "account") -> _Reject:
    return _Reject(field, f"unknown account {external_id!r}; send account.upserted first")


def _of_another_account(external_id: str, field: str) -> _Reject:
    return _Reject(field, f"conversation {external_id!r} belongs to another account")


def _message_id_taken() -> _Reject:
    return _Reject("message.id", "a different message with this id is already stored")


def _resumes_purged() -> _Reject:
    return _Reject(
        "conversation.id", "this conversation's content was already purged; it cannot be resumed"
    )


def _closed_account(external_id: str) -> _Reject:
    return _Reject(
        "account", f"account {external_id!r} was deleted by its owner; it takes no new data"
    )


def _account(external_id: str, field: str = "account") -> User:
    user = user_by_external_id(external_id)
    if user is None:
        raise _unknown_account(external_id, field)
    return user


def _open_account(external_id: str) -> User:
    """The account of an event that brings new data: refused once its owner
    asked to delete it (User.takes_new_data)."""
    user = _account(external_id)
    if not user.takes_new_data:
        raise _closed_account(external_id)
    return user


def _own_conversation(user: User, external_id: str, field: str) -> Conversation | None:
    conversation = owned_conversations(user_id=user.pk, external_ids=[external_id]).first()
    if conversation is None and conversation_owner_id(external_id=external_id) is not None:
        raise _of_another_account(external_id, field)
    return conversation


def _was_purged(user: User, external_id: str, field: str) -> bool:
    owners = purged_conversation_owner_ids(external_id=external_id)
    if owners and user.pk not in owners:
        raise _of_another_account(external_id, field)
    return bool(owners)


# --- one applier per event type ---------------------------------------------


def _account_upserted(event: AccountUpserted, origin: int | None) -> None:
    data = event.account
    mark = AccountUpsertMark.objects.select_for_update().filter(pk=data.id).first()
    if mark is not None and mark.upserted_at > event.at:
        return  # a newer snapshot of this account is already applied
    email = User.objects.normalize_email(data.email).lower()
    if User.objects.filter(email=email).exclude(external_id=data.id).exists():
        raise _Reject("account.email", "this email address belongs to another account")
    upsert = account_upsert(
        external_id=data.id, email=email, account_type=data.type, plan=data.plan
    )
    if upsert.type_changed:
        refresh_account_deadlines(upsert.user.pk)
    AccountUpsertMark.objects.update_or_create(
        account_external_id=data.id, defaults={"upserted_at": event.at}
    )


def _consent_changed(event: ConsentChanged, origin: int | None) -> None:
    user = _open_account(event.account)
    change = consent_record(
        user=user,
        allowed=event.allowed,
        source=ConsentSource.IMPORT,
        article_version=current_article_version(),
        effective_at=event.at,
        origin_system_id=origin,
    )
    if change is not None:
        _basis_rederive(user=user, since=event.at)


def _basis_rederive(*, user: User, since: datetime) -> None:
    """A consent change delivered after messages it precedes: the basis of
    those conversations is the consent in force at their last activity, which
    the ledger now says differently. Conversations active only before `since`
    keep their basis (flipping consent rewrites no earlier conversation)."""
    consent_then = consent_allowed_at(user_ref="user_id", moment=OuterRef("last_activity_at"))
    affected = owned_conversations(user_id=user.pk).filter(last_activity_at__gte=since)
    if affected.update(shared_for_training=consent_then):
        refresh_conversation_deadlines(affected)


def _messages_added(run: list[tuple[int, MessageAdded]]) -> None:
    """Consecutive message.added events (with their batch indexes), applied
    together: the same rows as one by one, and the error of the first event
    that fails. Raises IngestRejected."""
    users = users_by_external_id({event.account for _, event in run})
    messages: list[NewMessage] = []
    for _, event in run:
        user = users.get(event.account)
        if user is None or not user.takes_new_data:
            break  # rejected below, unless an earlier message fails first
        messages.append(
            NewMessage(
                user_id=user.pk,
                conversation_external_id=event.conversation.id,
                kind=event.conversation.kind,
                title=event.conversation.title,
                message_external_id=event.message.id,
                role=event.message.role,
                content=event.message.content,
                sent_at=event.at,
            )
        )
    try:
        messages_add_many(messages=messages)
    except MessageRefused as exc:
        index, event = run[exc.index]
        if exc.refusal is Refusal.ANOTHER_ACCOUNT:
            reject = _of_another_account(event.conversation.id, "conversation.id")
        elif exc.refusal is Refusal.ID_TAKEN:
            reject = _message_id_taken()
        else:
            reject = _resumes_purged()
        raise IngestRejected([EventError(index, reject.field, reject.error)]) from None
    if len(messages) < len(run):
        index, event = run[len(messages)]
        reject = (
            _closed_account(event.account)
            if event.account in users
            else _unknown_account(event.account)
        )
        raise IngestRejected([EventError(index, reject.field, reject.error)])


def _conversation_deleted(event: ConversationDeleted, origin: int | None) -> None:
    user = _account(event.account)
    conversation = _own_conversation(user, event.conversation, "conversation")
    if conversation is None:
        if _was_purged(user, event.conversation, "conversation"):
            return  # already gone for good: the deletion is moot
        raise _Reject("conversation", f"unknown conversation {event.conversation!r}")
    conversations_delete(
        user=user,
        conversations=owned_conversations(user_id=user.pk, external_ids=[conversation.external_id]),
        deleted_at=event.at,
        origin_system_id=origin,
    )


def _conversation_flagged(event: ConversationFlagged, origin: int | None) -> None:
    user = _account(event.account)
    conversation = _own_conversation(user, event.conversation, "conversation")
    if conversation is None:
        if _was_purged(user, event.conversation, "conversation"):
            raise _Reject("conversation", "this conversation's content was already purged")
        raise _Reject("conversation", f"unknown conversation {event.conversation!r}")
    conversation_flag(conversation=conversation, flagged_at=event.at, scores=dict(event.scores))


def _feedback_submitted(event: FeedbackSubmitted, origin: int | None) -> None:
    user = _open_account(event.account)
    data = event.feedback
    if data.conversation is not None:
        conversation = _own_conversation(user, data.conversation, "feedback.conversation")
        # Feedback keeps its own copy, so it may be about a purged conversation.
        if conversation is None and not _was_purged(
            user, data.conversation, "feedback.conversation"
        ):
            raise _Reject("feedback.conversation", f"unknown conversation {data.conversation!r}")
    stored = Feedback.objects.filter(external_id=data.id).first()
    if stored is not None:
        same = (
            stored.user_id,
            stored.kind,
            stored.comment,
            stored.excerpt,
            stored.submitted_at,
        ) == (
            user.pk,
            data.kind,
            data.comment,
            data.excerpt,
            event.at,
        )
        if same:
            return  # redelivered under a new event id: already stored
        raise _Reject("feedback.id", "a different feedback with this id is already stored")
    feedback_submit(
        user=user,
        external_id=data.id,
        kind=data.kind,
        comment=data.comment,
        excerpt=data.excerpt,
        submitted_at=event.at,
        conversation_external_id=data.conversation or "",
    )


@dataclass(frozen=True)
class ImportResult:
    events: int
    accepted: int
    duplicates: int


class ImportRejected(Exception):
    """A line of an import is invalid; its chunk was not applied. `applied`
    counts the events of earlier chunks, which were (a re-run skips them as
    duplicates)."""

    def __init__(self, *, line: int, field: str | None, error: str, applied: int, more: int = 0):
        self.line, self.field, self.error, self.applied = line, field, error, applied
        where = f"line {line}" + (f", field {field}" if field else "")
        extra = f" (and {more} more problem{'s' if more > 1 else ''} in this chunk)" if more else ""
        done = (
            f"; {applied} events of earlier lines were applied"
            if applied
            else "; nothing was applied"
        )
        # One line, whatever the message: the command prints it as is.
        super().__init__(" ".join(f"{where}: {error}{extra}{done}".split()))


def events_import(*, lines: Iterable[bytes], chunk_size: int = MAX_EVENTS) -> ImportResult:
    """Apply JSON Lines (one event per line; blank lines skipped) in chunks of
    `chunk_size` events, each chunk through events_ingest (all or nothing).
    Raises ImportRejected for the first bad line; chunks before it stay
    applied, so fixing the line and re-running finishes the import."""
    if not 1 <= chunk_size <= MAX_EVENTS:
        raise ValueError(f"chunk_size must be between 1 and {MAX_EVENTS}")
    accepted = duplicates = 0
    chunk: list[object] = []
    line_numbers: list[int] = []

    def flush() -> None:
        nonlocal accepted, duplicates
        try:
            result = events_ingest(events=chunk)
        except IngestRejected as exc:
            first = exc.errors[0]
            line = line_numbers[first.index] if first.index is not None else line_numbers[0]
            raise ImportRejected(
                line=line,
                field=first.field,
                error=first.error,
                applied=accepted + duplicates,
                more=len(exc.errors) - 1,
            ) from None
        accepted += result.accepted
        duplicates += result.duplicates
        chunk.clear()
        line_numbers.clear()

    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            event = json_loads(raw)
        except (ValueError, RecursionError) as exc:
            raise ImportRejected(
                line=number,
                field=None,
                error=f"not valid JSON ({exc})",
                applied=accepted + duplicates,
            ) from None
        chunk.append(event)
        line_numbers.append(number)
        if len(chunk) == chunk_size:
            flush()
    if chunk:
        flush()
    return ImportResult(events=accepted + duplicates, accepted=accepted, duplicates=duplicates)


_APPLY: dict[type, Callable] = {
    AccountUpserted: _account_upserted,
    ConsentChanged: _consent_changed,
    ConversationDeleted: _conversation_deleted,
    ConversationFlagged: _conversation_flagged,
    FeedbackSubmitted: _feedback_submitted,
}
