"""The deletion promise ("Deleted from our back-end storage systems within 30
days") as deletion health, the receipts and the admin tell it: a deleted
conversation removed, or still stored, later than deleted_at + the
deleted_days setting (plus one schedule interval) is late, and says by how
long; durations read in words."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from retention.models import Conversation, LegalHold, PurgeRun
from retention.policy.promises import duration_text, late_by, receipt_late_by
from retention.purge import deletion_health, purge_due
from retention.services.conversations import conversations_delete
from retention.services.holds import legal_hold_place
from retention.services.policy_settings import policy_settings_update
from tests.factories import DeletionReceiptFactory
from tests.support.helpers import make_privacy_admin

DAY = timedelta(days=1)
INTERVAL = timedelta(minutes=15)


@pytest.mark.parametrize(
    ("duration", "words"),
    [
        (timedelta(seconds=7500), "2 hours 5 minutes"),
        (7500.0, "2 hours 5 minutes"),
        (timedelta(days=15), "15 days"),
        (timedelta(days=1, hours=3), "1 day 3 hours"),
        (timedelta(seconds=40), "40 seconds"),
        (timedelta(minutes=1, seconds=1), "1 minute 1 second"),
        (timedelta(0), "0 seconds"),
    ],
)
def test_durations_read_in_words(duration, words):
    assert duration_text(duration) == words


def test_a_deletion_is_late_only_past_the_promise_and_one_interval():
    deleted = timezone.now() - 60 * DAY
    promise = deleted + 30 * DAY
    on_time = late_by(
        deleted_at=deleted, purged_at=promise + INTERVAL, deleted_days=30, tolerance=INTERVAL
    )
    late = late_by(
        deleted_at=deleted, purged_at=promise + 15 * DAY, deleted_days=30, tolerance=INTERVAL
    )
    assert on_time is None and late == 15 * DAY
    # Flagged content is kept 2 years from the flag, deletion included.
    assert (
        receipt_late_by(
            rule="flagged",
            deleted_at=deleted,
            retain_until=promise,
            purged_at=promise + 15 * DAY,
            deleted_days=30,
            tolerance=INTERVAL,
        )
        is None
    )


def _deleted_conversation(user, add_message, name, *, last_activity, deleted_at):
    add_message(user, last_activity, conversation=name)
    conversations_delete(
        user=user,
        conversations=Conversation.objects.filter(external_id=name),
        deleted_at=deleted_at,
    )


@pytest.mark.django_db
def test_a_late_purge_makes_health_unhealthy_and_its_receipt_says_late_by_how_long(
    consumer, add_message
):
    now = timezone.now()
    # Deleted 45 days ago and purged only now: 15 days after the article's 30.
    _deleted_conversation(
        consumer, add_message, "late", last_activity=now - 50 * DAY, deleted_at=now - 45 * DAY
    )
    health = deletion_health()
    assert health.deleted_past_promise == 1 and not health.healthy
    assert any("still stored after the article's 30 days" in p for p in health.problems)

    purge_due()

    health = deletion_health()
    assert health.deleted_past_promise == 0 and health.overdue_now == 0
    assert health.late_purges == 1 and not health.healthy
    assert abs(health.most_late - 15 * DAY) < timedelta(minutes=1)

    client = Client()
    client.force_login(consumer)
    page = client.get("/deleted/").content.decode()
    assert "Late: removed 15 days after the article&#x27;s 30 days." in page

    admin = Client()
    admin.force_login(make_privacy_admin())
    receipts = admin.get("/admin/retention/deletionreceipt/").content.decode()
    assert "late by 15 days" in receipts
    runs = admin.get("/admin/retention/purgerun/").content.decode()
    assert "removed later than the article&#x27;s 30 days (the latest by 15 days)" in runs


@pytest.mark.django_db
def test_a_purge_within_the_promise_is_on_time_everywhere(consumer, add_message):
    now = timezone.now()
    _deleted_conversation(
        consumer, add_message, "on-time", last_activity=now - 50 * DAY, deleted_at=now - 30 * DAY
    )
    purge_due()

    health = deletion_health()
    assert health.late_purges == 0 and health.healthy
    client = Client()
    client.force_login(consumer)
    assert "Late:" not in client.get("/deleted/").content.decode()


@pytest.mark.django_db
def test_a_held_deleted_conversation_is_not_stored_past_the_promise_while_held(
    consumer, add_message
):
    now = timezone.now()
    _deleted_conversation(
        consumer, add_message, "held", last_activity=now - 50 * DAY, deleted_at=now - 45 * DAY
    )
    legal_hold_place(user=consumer, reason="matter", placed_by=None)
    # Kept as required by law: not a broken promise while the hold lasts.
    assert deletion_health().deleted_past_promise == 0


@pytest.mark.django_db
def test_run_pages_show_durations_in_words_and_holds_show_accounts_by_email(consumer):
    now = timezone.now()
    PurgeRun.objects.create(
        cutoff=now,
        started_at=now - timedelta(seconds=7500),
        finished_at=now,
        status=PurgeRun.Status.SUCCEEDED,
        max_delay_seconds=7500.0,
    )
    DeletionReceiptFactory(user=consumer)
    legal_hold_place(user=consumer, reason="matter", placed_by=None)
    admin = Client()
    admin.force_login(make_privacy_admin())

    runs = admin.get("/admin/retention/purgerun/").content.decode()
    assert "2 hours 5 minutes" in runs and "7500.0" not in runs
    assert "15 minutes" in runs  # the schedule interval, in words
    holds = admin.get("/admin/retention/legalhold/").content.decode()
    assert f"Account {consumer.email}" in holds
    assert str(LegalHold.objects.get()) == f"Hold on account {consumer.email}"


@pytest.mark.django_db
@pytest.mark.parametrize("shortened", [False, True])
def test_health_and_receipts_agree_on_late_receipts(consumer, shortened):
    """The SQL twin (health) and the receipt's own reading agree; removals
    that kept the deadline of their day are not late after deleted_days is
    shortened."""
    now = timezone.now()
    on_old_deadline = now - 40 * DAY  # deleted 40 days ago, removed on day 30
    DeletionReceiptFactory(
        user=consumer,
        rule="deleted",
        deleted_at=on_old_deadline,
        retain_until=on_old_deadline + 30 * DAY,
        purged_at=on_old_deadline + 30 * DAY + timedelta(minutes=5),
    )
    late = now - 50 * DAY  # deleted 50 days ago, removed on day 42
    DeletionReceiptFactory(
        user=consumer,
        rule="deleted",
        deleted_at=late,
        retain_until=late + 30 * DAY,
        purged_at=late + 42 * DAY,
    )
    if shortened:
        policy_settings_update(changes={"deleted_days": 14}, changed_by=None)

    health = deletion_health()

    assert health.late_purges == 1
    assert abs(health.most_late - 12 * DAY) < timedelta(seconds=1)
    client = Client()
    client.force_login(consumer)
    page = client.get("/deleted/").content.decode()
    assert page.count("Late: removed") == 1
    # Late against its own day's promise (30 days), whatever the setting now.
    assert "Late: removed 12 days after the article&#x27;s 30 days." in page
