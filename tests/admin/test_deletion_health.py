"""Deletion health: the PurgeRun list with its summary."""

from datetime import timedelta

import pytest
from django.utils import timezone

from retention.admin import deletion_health_summary
from retention.models import Conversation, PurgeRun
from tests.factories import UserFactory
from tests.support.helpers import seed_account, seed_receipt

pytestmark = pytest.mark.django_db


def test_summary_reads_receipts_runs_and_overdue_conversations():
    now = timezone.now()
    owner = UserFactory()
    seed_receipt(
        owner,
        sequence=1,
        conversation_external_id="a",
        retain_until=now - timedelta(hours=5),
        purged_at=now - timedelta(hours=2),
    )
    seed_receipt(
        owner,
        sequence=2,
        conversation_external_id="b",
        retain_until=now - timedelta(hours=3),
        purged_at=now - timedelta(hours=2, minutes=30),
    )
    # Outside the 30-day window: its larger delay does not count.
    seed_receipt(
        owner,
        sequence=3,
        conversation_external_id="c",
        retain_until=now - timedelta(days=60),
        purged_at=now - timedelta(days=40),
    )
    seed_account(owner, conversations=2)
    overdue = Conversation.objects.filter(user=owner).order_by("pk").first()
    Conversation.objects.filter(pk=overdue.pk).update(retain_until=now - timedelta(days=1))
    PurgeRun.objects.create(started_at=now - timedelta(days=1), cutoff=now, status="succeeded")
    failed = PurgeRun.objects.create(
        started_at=now - timedelta(hours=1), cutoff=now, status="failed"
    )
    PurgeRun.objects.create(started_at=now, cutoff=now, status="dry_run")

    health = deletion_health_summary()
    assert health.max_delay == timedelta(hours=3)
    assert health.purged_in_window == 2
    assert health.overdue_now == 1
    assert health.oldest_overdue_since == now - timedelta(days=1)
    assert health.last_run == failed
    assert health.last_success.status == "succeeded"


def test_summary_of_an_empty_system():
    health = deletion_health_summary()
    assert (health.max_delay, health.purged_in_window, health.overdue_now, health.last_run) == (
        None,
        0,
        0,
        None,
    )


def test_the_purge_run_list_shows_deletion_health_read_only(admin_client):
    PurgeRun.objects.create(cutoff=timezone.now(), status="succeeded")
    page = admin_client.get("/admin/retention/purgerun/")
    assert page.status_code == 200
    assert b"Deletion health" in page.content
    assert b"Conversations overdue now" in page.content
    assert admin_client.get("/admin/retention/purgerun/add/").status_code == 403
