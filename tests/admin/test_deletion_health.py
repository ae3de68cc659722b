"""Deletion health and the purge actions on the purge-run list in admin."""

from datetime import timedelta

import pytest
from django.utils import timezone

from retention.models import Conversation, DeletionReceipt, PurgeRun
from tests.factories import UserFactory
from tests.support.helpers import make_support_agent, seed_account

pytestmark = pytest.mark.django_db


def make_overdue(owner, count: int = 1) -> None:
    seed_account(owner, conversations=count)
    Conversation.objects.filter(user=owner).update(retain_until=timezone.now() - timedelta(days=1))


def test_the_purge_run_list_shows_deletion_health_read_only(admin_client):
    make_overdue(UserFactory())
    PurgeRun.objects.create(cutoff=timezone.now(), status="succeeded")
    page = admin_client.get("/admin/retention/purgerun/")
    assert page.status_code == 200
    assert b"Deletion health" in page.content
    assert b"ATTENTION: items overdue by more than one interval" in page.content
    assert admin_client.get("/admin/retention/purgerun/add/").status_code == 403


def test_preview_counts_what_would_go_and_deletes_nothing(admin_client):
    make_overdue(UserFactory(), count=2)
    response = admin_client.post("/admin/retention/purgerun/preview/", follow=True)
    assert response.status_code == 200
    assert b"Dry run: 2 conversations" in response.content
    assert Conversation.objects.count() == 2
    assert not DeletionReceipt.objects.exists()


def test_run_now_queues_a_purge_that_removes_what_is_due(
    admin_client, django_capture_on_commit_callbacks
):
    make_overdue(UserFactory(), count=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/retention/purgerun/run-now/", {"confirm": "yes"}, follow=True
        )
    assert response.status_code == 200
    assert b"A purge run was queued" in response.content
    assert not Conversation.objects.exists()
    assert DeletionReceipt.objects.count() == 2


def test_purge_actions_refuse_get_and_other_roles(admin_client, client):
    make_overdue(UserFactory())
    assert admin_client.get("/admin/retention/purgerun/run-now/").status_code == 403
    client.force_login(make_support_agent())
    assert client.post("/admin/retention/purgerun/run-now/").status_code == 403
    assert Conversation.objects.count() == 1
