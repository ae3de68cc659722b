"""The transactional outbox (connected.services.outbox) and the dispatcher
that fans events out to systems (connected.services.dispatch)."""

import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from connected.events import InvalidEvent
from connected.models import Delivery, DeliveryState, OutboxEvent
from connected.services import OutboxItem, outbox_record, outbox_record_many
from connected.services.dispatch import outbox_dispatch
from connected.services.systems import system_enable
from tests.connected import factories as f
from tests.connected.factories import ConnectedSystemFactory


class Boom(Exception):
    pass


@pytest.fixture
def subscriber(db):
    """A system subscribed to every type: the outbox writes only what some
    enabled system subscribes to."""
    return ConnectedSystemFactory(name="subscriber")


def test_an_event_no_enabled_system_subscribes_to_is_not_written(db):
    ConnectedSystemFactory(events=["consent.changed"])
    off = ConnectedSystemFactory(name="off")
    system_enable(system_id=off.pk, enabled=False)
    with transaction.atomic():
        outbox_record(**f.deleted("a1", "c1"))
        outbox_record(**f.consent("a1"))
    assert list(OutboxEvent.objects.values_list("type", flat=True)) == ["consent.changed"]


def test_events_are_written_in_the_callers_transaction_and_queue_one_task_per_commit(
    subscriber, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        outbox_record(**f.deleted("a1", "c1"))
        outbox_record(**f.consent("a1"))
        outbox_record_many(events=[OutboxItem(**f.purged("a1", "c1"))])
        assert OutboxEvent.objects.count() == 3  # visible to the caller already
    assert len(callbacks) == 1
    events = list(OutboxEvent.objects.order_by("id"))
    assert [e.type for e in events] == [
        "conversation.deleted",
        "consent.changed",
        "conversation.purged",
    ]
    assert all(e.public_id.startswith("evt_") for e in events)
    assert len({e.public_id for e in events}) == 3
    assert all(e.seq is None for e in events)  # placed in the feed after the commit


def test_a_rolled_back_decision_leaves_no_event_and_queues_nothing(
    db, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        outbox_record(**f.deleted("a1", "c1"))
        raise Boom
    assert not OutboxEvent.objects.exists()
    assert callbacks == []


def test_an_event_after_a_rolled_back_savepoint_still_queues_delivery(
    subscriber, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        with pytest.raises(Boom), transaction.atomic():
            outbox_record(**f.deleted("a1", "c1"))
            raise Boom
        outbox_record(**f.deleted("a1", "c2"))
    assert len(callbacks) == 1
    assert list(OutboxEvent.objects.values_list("subject", flat=True)) == ["c2"]


def test_the_task_queued_at_commit_dispatches_the_events(db, django_capture_on_commit_callbacks):
    system = ConnectedSystemFactory(events=["conversation.deleted"])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox_record(**f.deleted("a1", "c1"))
    delivery = Delivery.objects.get()
    assert delivery.system == system and delivery.state == DeliveryState.FEED


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_outside_a_transaction_the_outbox_refuses_to_write():
    with pytest.raises(RuntimeError, match="inside the caller's transaction"):
        outbox_record(**f.deleted("a1", "c1"))
    assert not OutboxEvent.objects.exists()


def test_a_bad_event_writes_nothing_of_its_batch(db):
    bad = f.deleted("a1", "c2")
    bad["data"]["title"] = "Trip to Lisbon"
    with pytest.raises(InvalidEvent), transaction.atomic():
        outbox_record_many(events=[OutboxItem(**f.deleted("a1", "c1")), OutboxItem(**bad)])
    assert not OutboxEvent.objects.exists()


def test_ten_thousand_events_are_written_in_a_few_statements(subscriber):
    items = [OutboxItem(**f.deleted("a1", f"c{n}")) for n in range(10_000)]
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        started = time.perf_counter()
        outbox_record_many(events=items)
        elapsed = time.perf_counter() - started
    writes = [q for q in queries.captured_queries if "INSERT INTO" in q["sql"]]
    assert OutboxEvent.objects.count() == 10_000
    assert len(writes) == 1  # one statement (executemany on SQLite)
    assert elapsed < 5  # 0.4-0.9 s on the 2-core machine this was built on


# --- the dispatcher -------------------------------------------------------------


def test_each_event_goes_to_every_enabled_subscriber_except_its_origin(record):
    chat = ConnectedSystemFactory(name="chat", url="http://127.0.0.1:9/")
    ConnectedSystemFactory(name="lake", events=["conversation.deleted"])
    ConnectedSystemFactory(name="consent-only", events=["consent.changed"])
    off = ConnectedSystemFactory(name="off")
    system_enable(system_id=off.pk, enabled=False)
    record(f.deleted("a1", "c1"), origin=chat.pk)
    record(f.deleted("a1", "c2"))
    got = sorted(Delivery.objects.values_list("system__name", "event__subject", "state"))
    assert got == [
        ("chat", "c2", "pending"),  # c1 came from chat: not echoed back
        ("lake", "c1", "feed"),
        ("lake", "c2", "feed"),
    ]


def test_events_are_placed_in_commit_order_once_however_often_dispatch_runs(record):
    ConnectedSystemFactory()
    record(f.deleted("a1", "c1"), f.deleted("a1", "c2"), dispatch=False)
    assert outbox_dispatch() == 2
    assert outbox_dispatch() == 0
    record(f.deleted("a1", "c3"))
    assert list(OutboxEvent.objects.order_by("seq").values_list("subject", "seq")) == [
        ("c1", 1),
        ("c2", 2),
        ("c3", 3),
    ]
    assert Delivery.objects.count() == 3
