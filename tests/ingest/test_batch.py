"""A batch of every event type, applied set-based (ingest.batch), leaves what
the same events leave one by one through the per-event path (each in a
request of its own, through the domain services): the same answer, the same
first error, the same rows in every table ingest writes, outbox included."""

import itertools

import hypothesis
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from accounts.models import ConsentChange, User
from connected.models import ConnectedSystem, OutboxEvent
from ingest.models import AccountUpsertMark, IngestedEvent
from ingest.services import IngestRejected, IngestResult, events_ingest
from retention.models import Conversation, Feedback, Flag, Message
from tests.factories import DeletionReceiptFactory
from tests.ingest import builders as b

_fresh = itertools.count(1)


def _in_one_batch(events):
    try:
        return events_ingest(events=events), []
    except IngestRejected as exc:
        return None, [(e.index, e.field, e.error) for e in exc.errors]


def _one_by_one(events):
    accepted = duplicates = 0
    for position, event in enumerate(events):
        try:
            result = events_ingest(events=[event], set_based=False)
        except IngestRejected as exc:
            return None, [(position, e.field, e.error) for e in exc.errors]
        accepted, duplicates = accepted + result.accepted, duplicates + result.duplicates
    return IngestResult(accepted=accepted, duplicates=duplicates), []


def _state() -> dict[str, list]:
    """Every row an ingest may write, in creation order."""
    return {
        "users": list(
            User.objects.order_by("pk").values_list("external_id", "email", "account_type", "plan")
        ),
        "marks": sorted(AccountUpsertMark.objects.values_list("pk", "upserted_at")),
        "consent": list(
            ConsentChange.objects.order_by("pk").values_list(
                "user__external_id", "allowed", "effective_at", "source", "article_version"
            )
        ),
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
        "flags": list(
            Flag.objects.order_by("pk").values_list(
                "user__external_id",
                "conversation__external_id",
                "conversation_external_id",
                "flagged_at",
                "scores",
                "scores_retain_until",
            )
        ),
        "feedback": list(
            Feedback.objects.order_by("pk").values_list(
                "external_id",
                "user__external_id",
                "kind",
                "comment",
                "excerpt",
                "conversation__external_id",
                "conversation_external_id",
                "submitted_at",
                "retain_until",
                "public_retain_until",
            )
        ),
        "outbox": list(
            OutboxEvent.objects.order_by("pk").values_list("type", "account", "subject", "data")
        ),
        "events": sorted(IngestedEvent.objects.values_list("event_id", flat=True)),
    }


def _history() -> None:
    ConnectedSystem.objects.create(
        name="listener",
        url="https://listener.example.com/hook",
        events=["consent.changed", "conversation.deleted"],
        signing_secret="secret",
    )
    events_ingest(
        events=[
            b.account_upserted("alice"),
            b.account_upserted("bob"),
            b.account_upserted("carol", type="commercial", plan="team"),
            b.account_upserted("erin"),
            b.message_added("2026-01-02T00:00:00Z", account="erin", conversation="c-erin"),
            b.consent_changed(True, "2026-01-03T00:00:00Z", account="alice"),
            b.message_added("2026-01-04T00:00:00Z", account="alice", conversation="c-alice"),
            b.message_added("2026-01-02T00:00:00Z", account="bob", conversation="c-bob"),
            b.conversation_flagged("2026-01-04T12:00:00Z", account="alice", conversation="c-alice"),
            b.conversation_deleted("2026-01-05T00:00:00Z", account="bob", conversation="c-bob"),
            b.feedback_submitted(
                "2026-01-04T00:00:00Z", account="alice", conversation="c-alice", feedback="f-old"
            ),
        ],
        set_based=False,
    )
    DeletionReceiptFactory(
        user=User.objects.get(external_id="alice"), conversation_external_id="c-gone"
    )
    # Erin asked to delete her account: it takes no new data.
    User.objects.filter(external_id="erin").update(
        erasure_requested_at="2026-01-02T12:00:00Z", is_active=False
    )


MOMENTS = (
    "2026-01-01T00:00:00Z",
    "2026-01-03T00:00:00Z",
    "2026-01-04T00:00:00Z",
    "2026-01-05T00:00:00Z",
    "2026-01-06T00:00:00Z",
    "2026-01-07T00:00:00Z",
)
ACCOUNTS = ["alice", "bob", "carol", "dave", "erin", "ghost"]
CONVERSATIONS = ["c-alice", "c-bob", "c-erin", "c-gone", "x-1", "x-2", "x-3"]


@st.composite
def _event(draw) -> dict:
    at = draw(st.sampled_from(MOMENTS))
    # Now and then an account not known yet, a conversation of another
    # account or a purged one.
    rare = draw(st.integers(1, 12)) == 1
    account = draw(st.sampled_from(ACCOUNTS if rare else ["alice", "alice", "bob", "carol"]))
    conversation = draw(
        st.sampled_from(CONVERSATIONS if rare else [f"{account}-1", f"{account}-2", "c-alice"])
    )
    kind = draw(
        st.sampled_from(
            ["message"] * 6 + ["upsert", "consent", "consent", "deleted", "flagged", "feedback"]
        )
    )
    fresh = next(_fresh)
    if kind == "upsert":
        return b.account_upserted(
            account,
            at,
            email=draw(st.sampled_from([None, "alice@example.com", f"new-{fresh}@example.com"])),
            type=(account_type := draw(st.sampled_from(["consumer", "commercial"]))),
            plan="free" if account_type == "consumer" else "team",
            id=f"evt-b-{fresh}",
        )
    if kind == "consent":
        return b.consent_changed(draw(st.booleans()), at, account=account, id=f"evt-b-{fresh}")
    if kind == "deleted":
        return b.conversation_deleted(
            at, account=account, conversation=conversation, id=f"evt-b-{fresh}"
        )
    if kind == "flagged":
        return b.conversation_flagged(
            at, account=account, conversation=conversation, id=f"evt-b-{fresh}"
        )
    if kind == "feedback":
        return b.feedback_submitted(
            at,
            account=account,
            conversation=draw(st.sampled_from([None, conversation])),
            feedback=draw(st.sampled_from(["f-old", "f-1", f"f-fresh-{fresh}"])),
            id=f"evt-b-{fresh}",
        )
    return b.message_added(
        at,
        account=account,
        conversation=conversation,
        message=draw(st.sampled_from([f"m-fresh-{fresh}"] * 5 + ["m-1"])),
        content=draw(st.sampled_from(["hello", "hello again"])),
        id=f"evt-b-{fresh}",
    )


class BatchesMatchThePerEventPath(TestCase):
    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(events=st.lists(_event(), min_size=2, max_size=14), dave_first=st.booleans())
    def test_a_batch_of_any_events_leaves_what_they_leave_one_by_one(self, events, dave_first):
        _history()
        if dave_first:
            events = [b.account_upserted("dave", id=f"evt-b-{next(_fresh)}"), *events]
        before = _state()
        with transaction.atomic():
            expected = _one_by_one(events)
            expected_state = _state()
            transaction.set_rollback(True)
        got = _in_one_batch(events)
        assert got == expected
        assert _state() == (expected_state if expected[0] is not None else before)
        hypothesis.event(f"refused: {expected[1][0][2][:40]}" if expected[1] else "applied")
