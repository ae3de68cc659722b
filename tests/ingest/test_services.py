"""Applying events: idempotency, all-or-nothing batches, references between
events, out-of-order delivery, and concurrent deliveries of the same event."""

import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import ConsentChange, ConsentSource, User
from ingest import services
from ingest.models import AccountUpsertMark, IngestedEvent
from ingest.services import IngestRejected, IngestResult, events_ingest
from retention.models import Conversation, Feedback, Flag, Message, Rule
from retention.services.accounts import account_delete
from tests.factories import DeletionReceiptFactory, UserFactory, utc
from tests.ingest import builders as b

pytestmark = pytest.mark.django_db


def _rejected(events) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(IngestRejected) as exc:
        events_ingest(events=events)
    return [(e.index, e.field, e.error) for e in exc.value.errors]


def _everything() -> list[dict]:
    """One event of each type, in an order where each refers to earlier ones."""
    return [
        b.account_upserted("acct-1", "2026-01-01T00:00:00Z", plan="pro"),
        b.consent_changed(True, "2026-01-01T01:00:00Z"),
        b.message_added("2026-01-02T00:00:00Z", conversation="conv-1", message="m1"),
        b.message_added(
            "2026-01-02T00:01:00Z", conversation="conv-1", message="m2", role="assistant"
        ),
        b.message_added(
            "2026-01-03T00:00:00Z", conversation="conv-2", message="m3", kind="coding_session"
        ),
        b.conversation_flagged(
            "2026-01-04T00:00:00Z", conversation="conv-2", scores={"violence": 0.9, "self_harm": 0}
        ),
        b.feedback_submitted("2026-01-05T00:00:00Z", conversation="conv-1", feedback="fb-1"),
        b.conversation_deleted("2026-01-06T00:00:00Z", conversation="conv-1"),
    ]


def test_a_batch_of_every_event_type_is_applied_through_the_domain_services():
    result = events_ingest(events=_everything())
    assert result == IngestResult(accepted=8, duplicates=0)

    user = User.objects.get(external_id="acct-1")
    assert (user.email, user.plan, user.has_usable_password()) == (
        "acct-1@example.com",
        "pro",
        False,
    )
    [consent] = ConsentChange.objects.filter(user=user)
    assert (consent.allowed, consent.source, consent.effective_at) == (
        True,
        ConsentSource.IMPORT,
        utc(2026, 1, 1, 1),
    )

    chat = Conversation.objects.get(external_id="conv-1")
    assert chat.messages.count() == 2
    assert (chat.rule, chat.deleted_at) == (Rule.DELETED, utc(2026, 1, 6))
    assert chat.retain_until == utc(2026, 2, 5)  # deleted + 30 days

    coding = Conversation.objects.get(external_id="conv-2")
    assert (coding.kind, coding.rule, coding.retain_until) == (
        "coding_session",
        Rule.FLAGGED,
        utc(2028, 1, 4),
    )
    flag = Flag.objects.get(conversation=coding)
    assert flag.scores == {"violence": 0.9, "self_harm": 0.0}
    assert flag.scores_retain_until == utc(2033, 1, 4)

    feedback = Feedback.objects.get(external_id="fb-1")
    assert (feedback.conversation, feedback.retain_until) == (chat, utc(2031, 1, 5))
    assert set(IngestedEvent.objects.values_list("type", flat=True)) == {
        "account.upserted", "consent.changed", "message.added",
        "conversation.flagged", "feedback.submitted", "conversation.deleted",
    }  # fmt: skip


# --- idempotency ----------------------------------------------------------------


def test_replaying_a_batch_applies_nothing_twice():
    events = _everything()
    events_ingest(events=events)
    before = (
        Message.objects.count(),
        Flag.objects.count(),
        Feedback.objects.count(),
        ConsentChange.objects.count(),
    )

    assert events_ingest(events=events) == IngestResult(accepted=0, duplicates=8)
    after = (
        Message.objects.count(),
        Flag.objects.count(),
        Feedback.objects.count(),
        ConsentChange.objects.count(),
    )
    assert before == after == (3, 1, 1, 1)


def test_a_partly_seen_batch_applies_only_the_new_events():
    seen = b.message_added("2026-01-02T00:00:00Z", id="e-1")
    events_ingest(events=[b.account_upserted(), seen])
    result = events_ingest(events=[seen, b.message_added("2026-01-03T00:00:00Z", id="e-2")])
    assert result == IngestResult(accepted=1, duplicates=1)
    assert Message.objects.count() == 2


def test_the_same_id_twice_in_one_batch_is_applied_once():
    event = b.message_added("2026-01-02T00:00:00Z")
    result = events_ingest(events=[b.account_upserted(), event, event, dict(event)])
    assert result == IngestResult(accepted=2, duplicates=2)
    assert Message.objects.count() == 1


def test_a_message_redelivered_under_a_new_event_id_is_stored_once():
    first = b.message_added("2026-01-02T00:00:00Z", message="m-1")
    again = {**first, "id": "another-event-id"}
    events_ingest(events=[b.account_upserted(), first])
    assert events_ingest(events=[again]) == IngestResult(accepted=1, duplicates=0)
    assert Message.objects.count() == 1


def test_a_different_message_reusing_a_stored_message_id_is_rejected():
    events_ingest(
        events=[b.account_upserted(), b.message_added("2026-01-02T00:00:00Z", message="m-1")]
    )
    clash = b.message_added("2026-01-02T00:00:00Z", message="m-1", content="something else")
    assert _rejected([clash]) == [
        (0, "message.id", "a different message with this id is already stored")
    ]


def test_feedback_redelivered_under_a_new_event_id_is_stored_once_and_a_clash_rejected():
    first = b.feedback_submitted("2026-01-03T00:00:00Z", feedback="fb-1", conversation=None)
    events_ingest(events=[b.account_upserted(), first])
    assert events_ingest(events=[{**first, "id": "new-id"}]).accepted == 1
    assert Feedback.objects.count() == 1
    clash = b.feedback_submitted(
        "2026-01-03T00:00:00Z", feedback="fb-1", conversation=None, comment="other"
    )
    assert _rejected([clash]) == [
        (0, "feedback.id", "a different feedback with this id is already stored")
    ]


# --- all or nothing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (b.message_added("2026-01-09T00:00:00Z", role="robot"), "message.role"),  # shape
        (b.message_added("2026-01-09T00:00:00Z", account="nobody"), "account"),  # reference
    ],
    ids=["invalid-shape", "unknown-account"],
)
def test_one_bad_event_at_index_5_applies_nothing_of_the_batch(bad, field):
    events = _everything()
    events.insert(5, bad)
    errors = _rejected(events)
    assert [(index, f) for index, f, _ in errors] == [(5, field)]
    assert not User.objects.exists()
    assert not Conversation.objects.exists()
    assert not IngestedEvent.objects.exists()


def test_a_rejected_batch_can_be_fixed_and_sent_again():
    events = _everything()
    events[5] = b.conversation_flagged("2026-01-04T00:00:00Z", conversation="conv-404")
    assert _rejected(events)[0][:2] == (5, "conversation")
    events[5] = b.conversation_flagged("2026-01-04T00:00:00Z", conversation="conv-2")
    assert events_ingest(events=events) == IngestResult(accepted=8, duplicates=0)


# --- references between events -----------------------------------------------------------


def test_events_may_refer_to_an_account_upserted_earlier_in_the_batch():
    result = events_ingest(
        events=[b.account_upserted("new"), b.message_added("2026-01-02T00:00:00Z", account="new")]
    )
    assert result.accepted == 2


def test_a_message_before_its_account_upsert_is_rejected_and_accepted_once_the_account_exists():
    message = b.message_added("2026-01-02T00:00:00Z", account="late")
    assert _rejected([message]) == [
        (0, "account", "unknown account 'late'; send account.upserted first")
    ]
    events_ingest(events=[b.account_upserted("late")])
    assert events_ingest(events=[message]).accepted == 1


@pytest.mark.parametrize(
    ("event", "field", "error"),
    [
        (
            b.consent_changed(True, "2026-01-02T00:00:00Z", account="ghost"),
            "account",
            "unknown account 'ghost'",
        ),
        (
            b.conversation_deleted("2026-01-02T00:00:00Z", conversation="nope"),
            "conversation",
            "unknown conversation 'nope'",
        ),
        (
            b.conversation_flagged("2026-01-02T00:00:00Z", conversation="nope"),
            "conversation",
            "unknown conversation 'nope'",
        ),
        (
            b.feedback_submitted("2026-01-02T00:00:00Z", conversation="nope"),
            "feedback.conversation",
            "unknown conversation 'nope'",
        ),
    ],
    ids=["consent-unknown-account", "delete-unknown", "flag-unknown", "feedback-unknown"],
)
def test_unknown_references_are_rejected(event, field, error):
    events_ingest(events=[b.account_upserted()])
    [(index, got_field, got_error)] = _rejected([event])
    assert (index, got_field) == (0, field)
    assert got_error.startswith(error)


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (
            b.message_added("2026-01-05T00:00:00Z", account="mallory", conversation="alice-chat"),
            "conversation.id",
        ),
        (
            b.conversation_deleted(
                "2026-01-05T00:00:00Z", account="mallory", conversation="alice-chat"
            ),
            "conversation",
        ),
        (
            b.conversation_flagged(
                "2026-01-05T00:00:00Z", account="mallory", conversation="alice-chat"
            ),
            "conversation",
        ),
        (
            b.feedback_submitted(
                "2026-01-05T00:00:00Z", account="mallory", conversation="alice-chat"
            ),
            "feedback.conversation",
        ),
    ],
    ids=["message", "delete", "flag", "feedback"],
)
def test_a_conversation_of_another_account_is_rejected(event, field):
    events_ingest(
        events=[
            b.account_upserted("alice"),
            b.account_upserted("mallory"),
            b.message_added("2026-01-02T00:00:00Z", account="alice", conversation="alice-chat"),
        ]
    )
    assert _rejected([event]) == [
        (0, field, "conversation 'alice-chat' belongs to another account")
    ]
    chat = Conversation.objects.get(external_id="alice-chat")
    assert (chat.messages.count(), chat.deleted_at, chat.flagged_at) == (1, None, None)


def test_an_email_of_another_account_is_rejected():
    events_ingest(events=[b.account_upserted("a", email="same@example.com")])
    clash = b.account_upserted("b", email="Same@Example.com")
    assert _rejected([clash]) == [
        (0, "account.email", "this email address belongs to another account")
    ]


def test_purged_conversations_cannot_be_resumed_or_flagged_but_deletion_and_feedback_are_fine():
    events_ingest(events=[b.account_upserted()])
    DeletionReceiptFactory(
        user=User.objects.get(external_id="acct-1"), conversation_external_id="gone"
    )
    assert _rejected([b.message_added("2026-03-01T00:00:00Z", conversation="gone")]) == [
        (
            0,
            "conversation.id",
            "this conversation's content was already purged; it cannot be resumed",
        )
    ]
    assert _rejected([b.conversation_flagged("2026-03-01T00:00:00Z", conversation="gone")]) == [
        (0, "conversation", "this conversation's content was already purged")
    ]
    result = events_ingest(
        events=[
            b.conversation_deleted("2026-03-01T00:00:00Z", conversation="gone"),
            b.feedback_submitted("2026-03-01T00:00:00Z", conversation="gone", feedback="fb-gone"),
        ]
    )
    assert result.accepted == 2
    assert not Conversation.objects.exists()
    assert Feedback.objects.get(external_id="fb-gone").conversation_external_id == "gone"


def test_a_purged_conversation_of_another_account_is_not_acknowledged():
    events_ingest(events=[b.account_upserted("alice"), b.account_upserted("mallory")])
    DeletionReceiptFactory(
        user=User.objects.get(external_id="alice"), conversation_external_id="alice-gone"
    )
    event = b.conversation_deleted(
        "2026-03-01T00:00:00Z", account="mallory", conversation="alice-gone"
    )
    assert _rejected([event]) == [
        (0, "conversation", "conversation 'alice-gone' belongs to another account")
    ]


# --- out of order --------------------------------------------------------------------------


def test_an_older_message_does_not_move_last_activity_back():
    events_ingest(events=[b.account_upserted(), b.message_added("2026-01-10T00:00:00Z")])
    assert events_ingest(events=[b.message_added("2026-01-03T00:00:00Z")]).accepted == 1
    chat = Conversation.objects.get()
    assert chat.last_activity_at == utc(2026, 1, 10)
    assert chat.retain_until == utc(2026, 2, 9)
    assert chat.messages.count() == 2


def test_an_older_message_arriving_first_in_a_later_batch_moves_created_at_back_only():
    events_ingest(events=[b.account_upserted(), b.message_added("2026-01-10T00:00:00Z")])
    events_ingest(events=[b.message_added("2026-01-01T00:00:00Z")])
    chat = Conversation.objects.get()
    assert (chat.created_at, chat.last_activity_at) == (utc(2026, 1, 1), utc(2026, 1, 10))


def test_a_late_consent_change_rederives_the_basis_of_conversations_active_after_it():
    events_ingest(
        events=[
            b.account_upserted(),
            b.message_added("2026-01-02T00:00:00Z", conversation="before"),
            b.message_added("2026-01-10T00:00:00Z", conversation="after"),
        ]
    )
    # The consent given on 2026-01-05 arrives only now.
    events_ingest(events=[b.consent_changed(True, "2026-01-05T00:00:00Z")])
    before = Conversation.objects.get(external_id="before")
    after = Conversation.objects.get(external_id="after")
    assert (before.rule, before.retain_until) == (Rule.NOT_SHARED, utc(2026, 2, 1))
    assert (after.rule, after.retain_until) == (Rule.SHARED_TRAINING, utc(2031, 1, 10))


def test_a_consent_change_in_order_rewrites_no_conversation():
    events_ingest(
        events=[
            b.account_upserted(),
            b.consent_changed(True, "2026-01-05T00:00:00Z"),
            b.message_added("2026-01-10T00:00:00Z"),
            b.consent_changed(False, "2026-03-01T00:00:00Z"),
        ]
    )
    chat = Conversation.objects.get()
    assert (chat.rule, chat.retain_until) == (Rule.SHARED_TRAINING, utc(2031, 1, 10))


def test_an_older_account_snapshot_does_not_overwrite_a_newer_one():
    events_ingest(events=[b.account_upserted("a", "2026-02-01T00:00:00Z", plan="max")])
    stale = b.account_upserted("a", "2026-01-01T00:00:00Z", plan="free", email="old@example.com")
    assert events_ingest(events=[stale]) == IngestResult(accepted=1, duplicates=0)
    user = User.objects.get(external_id="a")
    assert (user.plan, user.email) == ("max", "a@example.com")
    events_ingest(events=[b.account_upserted("a", "2026-03-01T00:00:00Z", plan="pro")])
    assert User.objects.get(external_id="a").plan == "pro"


def test_an_account_turning_commercial_rewrites_its_deadlines():
    events_ingest(events=[b.account_upserted(), b.message_added("2026-01-02T00:00:00Z")])
    events_ingest(
        events=[b.account_upserted(at="2026-01-03T00:00:00Z", type="commercial", plan="team")]
    )
    chat = Conversation.objects.get()
    assert (chat.rule, chat.retain_until) == (Rule.COMMERCIAL, None)


def test_an_account_created_outside_the_import_can_be_upserted():
    UserFactory(external_id="seeded", email="seeded@example.com")
    events_ingest(events=[b.account_upserted("seeded", email="seeded@example.com", plan="max")])
    assert User.objects.get(external_id="seeded").plan == "max"


# --- concurrency (PostgreSQL: real row locks between two connections) ----------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_the_same_new_event_in_two_concurrent_requests_is_applied_once():
    events_ingest(events=[b.account_upserted()])
    event = b.message_added("2026-01-02T00:00:00Z")
    outcome: dict = {}

    def second_request():
        try:
            outcome["result"] = events_ingest(events=[event])
        except Exception as exc:  # the test reports whatever happened
            outcome["error"] = exc
        finally:
            connection.close()

    with transaction.atomic():
        assert events_ingest(events=[event]) == IngestResult(accepted=1, duplicates=0)
        other = threading.Thread(target=second_request)
        other.start()
        time.sleep(0.5)
        # PostgreSQL holds the second insert of the same id until we finish.
        assert other.is_alive()
    other.join(timeout=10)

    assert "error" not in outcome, outcome
    assert outcome["result"] == IngestResult(accepted=0, duplicates=1)
    assert Message.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_concurrent_batches_creating_the_same_account_both_succeed():
    barrier = threading.Barrier(4)
    results, errors = [], []

    def deliver(n: int):
        try:
            barrier.wait()
            results.append(
                events_ingest(
                    events=[
                        b.account_upserted("shared", "2026-01-01T00:00:00Z", id=f"u-{n}"),
                        b.message_added(
                            "2026-01-02T00:00:00Z", account="shared", conversation="c", id=f"m-{n}"
                        ),
                    ]
                )
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert [r.accepted for r in results] == [2, 2, 2, 2]
    assert User.objects.filter(external_id="shared").count() == 1
    assert Conversation.objects.get().messages.count() == 4


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_a_batch_committed_between_two_reads_of_another_is_not_taken_for_another_account(
    monkeypatch, caplog
):
    # The interleaving the four-thread test above hits by chance, made
    # certain: this batch has read the accounts (none yet) when another batch
    # creates the same account and conversation and commits, before this one
    # reads the conversations.
    def batch(n: int) -> list[dict]:
        return [
            b.account_upserted("shared", "2026-01-01T00:00:00Z", id=f"u-{n}"),
            b.message_added(
                "2026-01-02T00:00:00Z", account="shared", conversation="c", id=f"m-{n}"
            ),
        ]

    others = _commits_before_the_read(monkeypatch, Conversation.objects, batch(2))
    with caplog.at_level("WARNING", logger="ingest.services"):
        assert events_ingest(events=batch(1)) == IngestResult(accepted=2, duplicates=0)
    assert others[1:] == [IngestResult(accepted=2, duplicates=0)]
    assert "attempt 1 of 3 conflicted" in caplog.text
    assert User.objects.filter(external_id="shared").count() == 1
    assert Conversation.objects.get().messages.count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
def test_a_newer_upsert_committed_between_two_reads_does_not_make_the_account_unknown(
    monkeypatch,
):
    # The other batch upserts the same account, newer, and commits after this
    # one read the accounts (none) but before it read the upsert marks: the
    # newer mark skips this batch's upsert, whose account it never loaded.
    ours = [
        b.account_upserted("shared", "2026-01-01T00:00:00Z", id="u-1"),
        b.message_added("2026-01-02T00:00:00Z", account="shared", conversation="c-1", id="m-1"),
    ]
    theirs = [
        b.account_upserted("shared", "2026-01-05T00:00:00Z", plan="pro", id="u-2"),
        b.message_added("2026-01-06T00:00:00Z", account="shared", conversation="c-2", id="m-2"),
    ]
    others = _commits_before_the_read(monkeypatch, AccountUpsertMark.objects, theirs)
    assert events_ingest(events=ours) == IngestResult(accepted=2, duplicates=0)
    assert others[1:] == [IngestResult(accepted=2, duplicates=0)]
    user = User.objects.get(external_id="shared")
    assert user.plan == "pro"  # the newer snapshot stands
    assert sorted(Conversation.objects.values_list("external_id", flat=True)) == ["c-1", "c-2"]


def _commits_before_the_read(monkeypatch, manager, events: list[dict]) -> list:
    """The first locking read through `manager` (in this batch's load) waits
    while `events` are ingested in another thread and committed. Returns the
    list that gets the thread, then that batch's outcome."""
    real_select_for_update, others = manager.select_for_update, []

    def another_batch_commits_first(*args, **kwargs):
        if not others:
            others.append(threading.Thread(target=_ingest_and_close, args=(events, others)))
            others[0].start()
            others[0].join(timeout=30)
        return real_select_for_update(*args, **kwargs)

    monkeypatch.setattr(manager, "select_for_update", another_batch_commits_first)
    return others


def _ingest_and_close(events: list[dict], outcomes: list) -> None:
    try:
        outcomes.append(events_ingest(events=events))
    except Exception as exc:
        outcomes.append(exc)
    finally:
        connection.close()


@pytest.mark.parametrize("set_based", [True, False])
def test_an_account_its_owner_deleted_takes_no_new_data(set_based):
    events_ingest(
        events=[
            b.account_upserted("acct-1"),
            b.message_added("2026-01-02T00:00:00Z", conversation="conv-1", message="m1"),
        ]
    )
    account_delete(user=User.objects.get(external_id="acct-1"), confirm_email="acct-1@example.com")
    closed = "account 'acct-1' was deleted by its owner; it takes no new data"

    def refused(events):
        with pytest.raises(IngestRejected) as exc:
            events_ingest(events=events, set_based=set_based)
        return [(e.index, e.field, e.error) for e in exc.value.errors]

    # A message sent before the deletion but delivered after is refused too:
    # the owner asked for everything to go.
    assert refused(
        [
            b.account_upserted("acct-2"),
            b.message_added("2026-01-01T00:00:00Z", conversation="conv-1", message="m-late"),
        ]
    ) == [(1, "account", closed)]
    assert refused([b.message_added("2026-02-01T00:00:00Z", conversation="conv-new")]) == [
        (0, "account", closed)
    ]
    assert refused([b.consent_changed(True, "2026-02-01T00:00:00Z")]) == [(0, "account", closed)]
    assert refused([b.feedback_submitted("2026-02-01T00:00:00Z", conversation=None)]) == [
        (0, "account", closed)
    ]
    assert not User.objects.filter(external_id="acct-2").exists()  # nothing of a refused batch
    assert Message.objects.count() == 1
    assert not Conversation.objects.filter(external_id="conv-new").exists()
    assert Feedback.objects.count() == 0
    user = User.objects.get(external_id="acct-1")
    assert ConsentChange.objects.filter(user=user).latest("pk").allowed is False

    # What the chat service says about data the portal already holds still
    # applies: a flag keeps flagged content to the article's longer date.
    events_ingest(
        events=[
            b.conversation_flagged("2026-02-01T00:00:00Z", conversation="conv-1"),
            b.conversation_deleted("2026-02-02T00:00:00Z", conversation="conv-1"),
            b.account_upserted("acct-1", "2026-02-03T00:00:00Z", plan="pro"),
        ],
        set_based=set_based,
    )
    user.refresh_from_db()
    assert Conversation.objects.get(external_id="conv-1").flagged_at is not None
    assert (user.plan, user.is_active, user.takes_new_data) == ("pro", False, False)


def test_a_conflict_with_a_concurrent_writer_is_retried(monkeypatch):
    real_apply, calls = services._apply, []

    def first_attempt_loses_a_race(events, origin):
        calls.append(1)
        if len(calls) == 1:
            raise IntegrityError("duplicate key value violates unique constraint")
        return real_apply(events, origin)

    monkeypatch.setattr(services, "_apply", first_attempt_loses_a_race)
    assert events_ingest(events=[b.account_upserted()]) == IngestResult(accepted=1, duplicates=0)
    assert len(calls) == 2


def test_persistent_conflicts_give_up_without_applying_anything(monkeypatch):
    def always_conflicts(events, origin):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(services, "_apply", always_conflicts)
    with pytest.raises(services.IngestBusy):
        events_ingest(events=[b.account_upserted()])
    assert not User.objects.exists()
