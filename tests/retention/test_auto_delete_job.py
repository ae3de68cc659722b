"""The scheduled auto-delete job: never early (a frozen clock at the
boundary), deletes through the user's own deletion service (the outbox hears
of it, the purge leaves receipts), does nothing twice, and two copies running
at once on PostgreSQL never delete a conversation twice."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django_celery_beat.models import PeriodicTask

from accounts.models import User
from accounts.services import auto_delete_record, consent_record
from connected.events import CONVERSATION_DELETED
from connected.models import OutboxEvent
from connected.services.systems import system_register
from retention import tasks
from retention.models import Conversation, DeletionReceipt, Rule
from retention.purge import purge_due
from retention.services import auto_delete as auto_delete_service
from retention.services.auto_delete import auto_delete_run
from retention.services.deadlines import refresh_auto_delete_deadlines
from retention.services.holds import legal_hold_place
from tests.factories import UserFactory, utc

postgres_only = pytest.mark.skipif(
    "postgresql" not in connection.settings_dict["ENGINE"], reason="needs PostgreSQL"
)
LAST = utc(2025, 11, 30, 8, 0, 0)
MOMENT = utc(2026, 2, 28, 8, 0, 0)  # 30 November + 3 months, clamped to February's end
SECOND = timedelta(seconds=1)


def _shared_chat(user, add_message, at, name):
    consent_record(
        user=user, allowed=True, source="dashboard", article_version="v", effective_at=at
    )
    return add_message(user, at, conversation=f"{user.pk}-{name}").conversation


def _turn_on(user, months=3):
    auto_delete_record(user=user, after_months=months)
    refresh_auto_delete_deadlines(user.pk)


@pytest.fixture
def hears_deletions(db):
    system_register(name="warehouse", events=[CONVERSATION_DELETED])


@pytest.mark.django_db
def test_one_second_before_its_moment_it_is_kept_at_its_moment_it_is_deleted(
    add_message, hears_deletions
):
    user = UserFactory()
    chat = _shared_chat(user, add_message, LAST, "chat")
    _turn_on(user)

    assert tasks.auto_delete(now=(MOMENT - SECOND).isoformat()) == {"deleted": 0}
    chat.refresh_from_db()
    assert chat.deleted_at is None

    assert tasks.auto_delete(now=MOMENT.isoformat()) == {"deleted": 1}
    chat.refresh_from_db()
    assert chat.deleted_at == MOMENT
    assert chat.public_rule == chat.rule == Rule.DELETED
    # The date the user was shown before does not move.
    assert chat.retain_until == MOMENT + timedelta(days=30)


@pytest.mark.django_db
def test_it_deletes_through_the_users_deletion_service_so_events_and_receipts_follow(
    add_message, hears_deletions
):
    user = UserFactory()
    chat = _shared_chat(user, add_message, LAST, "chat")
    _turn_on(user)
    auto_delete_run(now=MOMENT)

    event = OutboxEvent.objects.get(type=CONVERSATION_DELETED, subject=chat.external_id)
    assert event.data == {
        "account": user.external_id,
        "conversation": chat.external_id,
        "deleted_at": "2026-02-28T08:00:00Z",
        "purge_by": "2026-03-30T08:00:00Z",
    }
    # The purge removes it at the end of the deletion window and leaves a receipt.
    purge_due(now=MOMENT + timedelta(days=30))
    assert not Conversation.objects.filter(pk=chat.pk).exists()
    receipt = DeletionReceipt.objects.get(conversation_external_id=chat.external_id)
    assert receipt.deleted_at == MOMENT


@pytest.mark.django_db
def test_running_twice_deletes_nothing_more(add_message, hears_deletions):
    user = UserFactory()
    for i in range(5):
        _shared_chat(user, add_message, LAST + i * SECOND, f"c{i}")
    _shared_chat(user, add_message, utc(2026, 2, 1), "later")
    _turn_on(user)
    now = MOMENT + timedelta(minutes=1)

    assert auto_delete_run(now=now, batch_size=2) == 5
    assert auto_delete_run(now=now, batch_size=2) == 0
    assert OutboxEvent.objects.filter(type=CONVERSATION_DELETED).count() == 5
    assert Conversation.objects.filter(user=user, deleted_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_it_leaves_held_commercial_and_auto_delete_off_accounts_alone(add_message):
    held_user, off_user, commercial_user = UserFactory(), UserFactory(), UserFactory()
    held = _shared_chat(held_user, add_message, LAST, "held")
    _turn_on(held_user)
    legal_hold_place(user=held_user, reason="litigation", placed_by=None)
    off = _shared_chat(off_user, add_message, LAST, "off")
    commercial = _shared_chat(commercial_user, add_message, LAST, "commercial")
    _turn_on(commercial_user)
    # The account became commercial after choosing: its setting is ignored.
    User.objects.filter(pk=commercial_user.pk).update(account_type="commercial")

    assert auto_delete_run(now=utc(2026, 12, 1)) == 0
    for chat in (held, off, commercial):
        chat.refresh_from_db()
        assert chat.deleted_at is None


@pytest.mark.django_db
def test_the_job_is_on_the_beat_schedule():
    task = PeriodicTask.objects.get(task="retention.tasks.auto_delete")
    assert task.enabled and task.interval.every == 15 and task.interval.period == "minutes"


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_runs_at_once_never_delete_a_conversation_twice(monkeypatch, add_message):
    system_register(name="warehouse", events=[CONVERSATION_DELETED])
    users = [UserFactory() for _ in range(3)]
    for user in users:
        for i in range(6):
            _shared_chat(user, add_message, LAST + i * SECOND, f"c{i}")
        _turn_on(user)
    now = MOMENT + timedelta(minutes=1)
    both_hold_a_batch = threading.Barrier(2, timeout=30)
    real_delete = auto_delete_service.conversations_delete
    waited: set[str] = set()

    def delete_side_by_side(**kwargs):
        deleted = real_delete(**kwargs)
        name = threading.current_thread().name
        if name not in waited:
            waited.add(name)
            both_hold_a_batch.wait()  # two batches in flight at once
        return deleted

    monkeypatch.setattr(auto_delete_service, "conversations_delete", delete_side_by_side)
    results: dict[str, int] = {}

    def worker(name):
        try:
            results[name] = auto_delete_run(now=now, batch_size=4)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,), name=n) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert waited == {"a", "b"}
    assert results["a"] > 0 and results["b"] > 0
    assert results["a"] + results["b"] == 18
    assert Conversation.objects.filter(deleted_at__isnull=True).count() == 0
    subjects = list(
        OutboxEvent.objects.filter(type=CONVERSATION_DELETED).values_list("subject", flat=True)
    )
    assert len(subjects) == len(set(subjects)) == 18
