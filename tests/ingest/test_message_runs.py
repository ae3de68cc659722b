"""Consecutive message.added events are applied together (set-based): the
outcome, rows and errors alike, is what the same events give one by one,
each in its own request and transaction, so the run's state kept in memory
is held to the state the database keeps between requests."""

import itertools
import threading

import hypothesis
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts.models import ConsentChange, ConsentSource, User
from ingest.models import IngestedEvent
from ingest.services import IngestRejected, IngestResult, events_ingest
from retention.models import Conversation, Message, Rule
from tests.factories import DeletionReceiptFactory, utc
from tests.ingest import builders as b

_fresh = itertools.count(1)

Outcome = tuple[IngestResult | None, list[tuple[int | None, str | None, str]]]


def _in_one_batch(events: list[dict]) -> Outcome:
    try:
        return events_ingest(events=events), []
    except IngestRejected as exc:
        return None, [(e.index, e.field, e.error) for e in exc.errors]


def _one_by_one(events: list[dict]) -> Outcome:
    """The reference: each event in a request of its own, through the
    per-event path (the domain services one by one), stopping at the first
    refused one (whose index is its position in `events`)."""
    accepted = duplicates = 0
    for position, event in enumerate(events):
        try:
            result = events_ingest(events=[event], set_based=False)
        except IngestRejected as exc:
            return None, [(position, e.field, e.error) for e in exc.errors]
        accepted, duplicates = accepted + result.accepted, duplicates + result.duplicates
    return IngestResult(accepted=accepted, duplicates=duplicates), []


def _state() -> dict[str, list]:
    """Everything an ingest of messages may write, in creation order."""
    return {
        "conversations": list(
            Conversation.objects.order_by("pk").values_list(
                "external_id",
                "user__external_id",
                "kind",
                "title",
                "created_at",
                "last_activity_at",
                "deleted_at",
                "shared_for_training",
                "flagged_at",
                "rule",
                "retain_until",
                "public_rule",
                "public_retain_until",
            )
        ),
        "messages": list(
            Message.objects.order_by("pk").values_list(
                "external_id", "conversation__external_id", "role", "content", "sent_at"
            )
        ),
        "events": sorted(IngestedEvent.objects.values_list("event_id", flat=True)),
    }


def _batch_equals_one_by_one(events: list[dict]) -> Outcome:
    """Apply `events` one by one, then (from the same state) as one batch, and
    check both leave the same outcome and rows; a refused batch leaves nothing."""
    before = _state()
    with transaction.atomic():
        expected = _one_by_one(events)
        expected_state = _state()
        transaction.set_rollback(True)
    got = _in_one_batch(events)
    assert got == expected
    assert _state() == (expected_state if expected[0] is not None else before)
    return got


def _consent(account: str, allowed: bool, at: str) -> None:
    # Straight into the ledger: consent_record would skip a repeat of the
    # value in force, and the ties below need both entries.
    ConsentChange.objects.create(
        user=User.objects.get(external_id=account),
        allowed=allowed,
        effective_at=at,
        source=ConsentSource.IMPORT,
        article_version="test",
    )


def _history() -> None:
    """Accounts with consent ledgers (two entries at one instant included),
    stored conversations (flagged, deleted) and a purged one."""
    events_ingest(
        events=[
            b.account_upserted("alice"),
            b.account_upserted("bob"),
            b.account_upserted("carol", type="commercial", plan="team"),
            b.message_added(
                "2026-01-04T00:00:00Z", account="alice", conversation="c-alice", message="m-old"
            ),
            b.message_added("2026-01-02T00:00:00Z", account="bob", conversation="c-bob"),
            b.conversation_flagged("2026-01-04T12:00:00Z", account="alice", conversation="c-alice"),
            b.conversation_deleted("2026-01-05T00:00:00Z", account="bob", conversation="c-bob"),
        ]
    )
    _consent("alice", True, "2026-01-03T00:00:00Z")
    _consent("alice", False, "2026-01-05T00:00:00Z")
    _consent("bob", True, "2026-01-04T00:00:00Z")
    _consent("bob", False, "2026-01-04T00:00:00Z")  # same instant, recorded later: in force
    _consent("bob", True, "2026-01-06T00:00:00Z")
    _consent("carol", True, "2026-01-02T00:00:00Z")
    DeletionReceiptFactory(
        user=User.objects.get(external_id="alice"), conversation_external_id="c-gone"
    )


MOMENTS = (
    "2026-01-01T00:00:00Z",
    "2026-01-03T00:00:00Z",  # alice allows
    "2026-01-03T00:00:00.500Z",
    "2026-01-04T00:00:00Z",  # c-alice's first message; bob's tie
    "2026-01-05T00:00:00Z",  # alice withdraws
    "2026-01-06T00:00:00Z",
    "2026-01-07T00:00:00Z",
)


def _now_and_then(draw, usual, rare, *, odds: int):
    """Usually one of `usual`; one time in `odds`, one of `rare`."""
    pool = rare if draw(st.integers(1, odds)) == 1 else usual
    return draw(st.sampled_from(pool))


@st.composite
def _message(draw) -> dict:
    account = _now_and_then(draw, ["alice", "bob", "carol"], ["ghost"], odds=50)
    # Now and then a conversation of another account (stored, or created
    # earlier in the batch) or a purged one; a message id stored before or
    # used earlier in the batch (refused unless it is the same message).
    conversation = _now_and_then(
        draw,
        [f"{account}-1", f"{account}-1", f"{account}-2"],
        ["c-alice", "c-bob", "c-gone", "alice-1", "bob-1"],
        odds=8,
    )
    message = _now_and_then(draw, [None], ["m-old", "m-1", "m-2"], odds=10)
    return b.message_added(
        draw(st.sampled_from(MOMENTS)),
        account=account,
        conversation=conversation,
        message=message or f"m-fresh-{next(_fresh)}",
        kind=draw(st.sampled_from(["chat", "coding_session"])),
        title=draw(st.sampled_from(["First title", "Second title", ""])),
        role=draw(st.sampled_from(["user", "assistant"])),
        content=draw(st.sampled_from(["hello", "hello again"])),
        id=f"evt-fresh-{next(_fresh)}",
    )


# A step adds a new message, or takes an earlier event (the k-th, modulo) and
# sends its message again under a new event id (a redelivery), or sends it
# again with one thing of the new message changed (the same message id,
# another conversation, role, content or time), or repeats the event as is.
_steps = st.lists(
    st.tuples(
        st.sampled_from(["new"] * 8 + ["redelivered", "altered", "repeated"]),
        st.integers(0, 20),
        st.sampled_from(["conversation", "role", "content", "at"]),
        _message(),
    ),
    min_size=4,
    max_size=16,
)


def _events(steps) -> list[dict]:
    events: list[dict] = []
    for kind, k, changed, new in steps:
        if kind == "new" or not events:
            events.append(new)
            continue
        earlier = events[k % len(events)]
        if kind == "repeated":
            events.append(earlier)
        elif kind == "redelivered":
            events.append({**earlier, "id": new["id"]})
        elif changed in ("conversation", "at"):
            events.append({**earlier, "id": new["id"], changed: new[changed]})
        else:
            message = {**earlier["message"], changed: new["message"][changed]}
            events.append({**earlier, "id": new["id"], "message": message})
    return events


class RunsOfMessagesMatchOneByOne(TestCase):
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(steps=_steps)
    def test_a_batch_of_messages_leaves_what_its_events_leave_one_by_one(self, steps):
        _history()
        _, errors = _batch_equals_one_by_one(_events(steps))
        # --hypothesis-show-statistics: how often each outcome was reached.
        hypothesis.event(f"refused: {errors[0][2][:40]}" if errors else "applied")


# --- order, errors and cost of a run ---------------------------------------------------


@pytest.mark.django_db
def test_a_batch_mixing_event_types_leaves_what_its_events_leave_one_by_one():
    _history()
    events = [
        b.message_added("2026-01-06T00:00:00Z", account="alice", conversation="n-1"),
        b.message_added("2026-01-06T00:01:00Z", account="bob", conversation="n-2"),
        # Applied between the runs: the messages after it see its effect.
        b.consent_changed(True, "2026-01-06T00:02:00Z", account="alice"),
        b.message_added("2026-01-06T00:03:00Z", account="alice", conversation="n-1"),
        b.message_added("2026-01-06T00:04:00Z", account="alice", conversation="n-3"),
        b.conversation_flagged("2026-01-06T00:05:00Z", account="bob", conversation="n-2"),
        b.message_added("2026-01-06T00:06:00Z", account="bob", conversation="n-2"),
        b.account_upserted("dave", "2026-01-06T00:07:00Z"),
        b.message_added("2026-01-06T00:08:00Z", account="dave", conversation="n-4"),
        b.message_added("2026-01-06T00:09:00Z", account="dave", conversation="n-4"),
        b.conversation_deleted("2026-01-06T00:10:00Z", account="alice", conversation="n-3"),
        b.message_added("2026-01-06T00:11:00Z", account="alice", conversation="n-3"),
        b.message_added("2026-01-06T00:12:00Z", account="alice", conversation="c-alice"),
    ]
    assert _batch_equals_one_by_one(events) == (IngestResult(accepted=13, duplicates=0), [])
    n1, n3 = (Conversation.objects.get(external_id=c) for c in ("n-1", "n-3"))
    assert (n1.shared_for_training, n1.rule) == (True, Rule.SHARED_TRAINING)
    assert (n3.rule, n3.deleted_at) == (Rule.DELETED, utc(2026, 1, 6, 0, 10))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("second", "field", "error"),
    [
        (
            b.message_added("2026-01-06T00:00:00Z", account="bob", conversation="new-chat"),
            "conversation.id",
            "conversation 'new-chat' belongs to another account",
        ),
        (
            b.message_added("2026-01-06T00:00:00Z", account="alice", conversation="c-gone"),
            "conversation.id",
            "this conversation's content was already purged; it cannot be resumed",
        ),
        (
            b.message_added("2026-01-06T00:00:00Z", account="alice", message="m-new", content="x"),
            "message.id",
            "a different message with this id is already stored",
        ),
        (
            b.message_added("2026-01-06T00:00:00Z", account="ghost"),
            "account",
            "unknown account 'ghost'; send account.upserted first",
        ),
    ],
    ids=["conversation-created-earlier-in-the-batch", "purged", "message-id-clash", "ghost"],
)
def test_the_first_refused_message_of_a_run_is_reported_and_nothing_is_applied(
    second, field, error
):
    _history()
    before = _state()
    events = [
        b.message_added(
            "2026-01-06T00:00:00Z", account="alice", conversation="new-chat", message="m-new"
        ),
        second,
        # Refused too, but later in the batch: not the one reported.
        b.message_added("2026-01-06T00:00:00Z", account="nobody"),
        b.message_added("2026-01-06T00:00:00Z", account="bob", conversation="c-alice"),
    ]
    assert _in_one_batch(events) == (None, [(1, field, error)])
    assert _state() == before


@pytest.mark.django_db
def test_a_message_repeated_in_a_run_under_a_new_event_id_is_stored_once():
    _history()
    first = b.message_added("2026-01-06T00:00:00Z", account="alice", message="m-twice")
    again = {**first, "id": "another-event-id"}
    other = b.message_added("2026-01-06T00:01:00Z", account="alice")
    assert events_ingest(events=[first, again, other]) == IngestResult(accepted=3, duplicates=0)
    assert Message.objects.filter(external_id="m-twice").count() == 1


def _statements(events: list[dict]) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert events_ingest(events=events).accepted == len(events)
    return len(captured)


@pytest.mark.django_db
def test_a_run_costs_the_same_statements_whatever_its_length():
    _history()

    def run(hour: int, size: int) -> list[dict]:
        # Resumes three stored conversations and starts one per 4 messages.
        return [
            b.message_added(
                f"2026-01-06T{hour:02d}:{n // 60:02d}:{n % 60:02d}Z",
                account="alice",
                conversation=("alice-1", "c-alice", f"new-{hour}-{n // 4}", "alice-2")[n % 4],
            )
            for n in range(size)
        ]

    _statements(run(1, 4))  # creates alice-1 and alice-2
    assert _statements(run(2, 4)) == _statements(run(3, 120))


# --- concurrency (PostgreSQL: real row locks between two connections) ----------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_concurrent_runs_creating_the_same_conversation_all_succeed():
    events_ingest(events=[b.account_upserted()])
    barrier = threading.Barrier(4)
    results, errors = [], []
    shared = b.message_added("2026-01-02T00:00:00Z", conversation="c", message="m-shared")

    def deliver(n: int):
        try:
            barrier.wait()
            results.append(
                events_ingest(
                    events=[
                        b.message_added(
                            f"2026-01-02T00:0{n}:00Z", conversation="c", message=f"m-{n}-a"
                        ),
                        {**shared, "id": f"shared-{n}"},
                        b.message_added(
                            f"2026-01-03T00:0{n}:00Z", conversation="c", message=f"m-{n}-b"
                        ),
                    ]
                )
            )
        except Exception as exc:  # the test reports whatever happened
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert [r.accepted for r in results] == [3, 3, 3, 3]
    chat = Conversation.objects.get()
    assert chat.messages.count() == 9
    assert (chat.created_at, chat.last_activity_at) == (utc(2026, 1, 2), utc(2026, 1, 3, 0, 3))
    assert chat.retain_until == utc(2026, 2, 2, 0, 3)
