"""Admin "Run the purge now" asks first: a POST without confirm=yes answers
a confirmation page (what is due now, counted as the purge counts it, "this
cannot be undone", a danger-styled confirm) and purges nothing; the dry run
stays a plain button."""

from datetime import timedelta

import pytest
from django.utils import timezone

from retention.models import Conversation, DeletionReceipt
from tests.admin.test_deletion_health import make_overdue
from tests.factories import UserFactory
from tests.support.helpers import make_support_agent

pytestmark = pytest.mark.django_db
RUN_NOW = "/admin/retention/purgerun/run-now/"


def test_the_button_answers_a_confirmation_with_what_is_due_and_purges_nothing(
    admin_client, django_capture_on_commit_callbacks
):
    make_overdue(UserFactory(), count=2)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        page = admin_client.post(RUN_NOW)
    html = page.content.decode()
    assert page.status_code == 200 and queued == []
    assert "Run the purge now?" in html and "This cannot be undone." in html
    assert "delete-confirmation" in html  # Django admin's danger styling of the submit
    assert '<input type="hidden" name="confirm" value="yes">' in html
    assert "Conversations (content and titles)</th><td>2</td>" in html
    assert "Their messages</th><td>2</td>" in html
    assert "Feedback submissions</th><td>0</td>" in html  # seed's feedback is not due
    assert Conversation.objects.count() == 2 and not DeletionReceipt.objects.exists()


def test_confirming_queues_the_run_that_removes_what_was_due(
    admin_client, django_capture_on_commit_callbacks
):
    make_overdue(UserFactory(), count=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(RUN_NOW, {"confirm": "yes"}, follow=True)
    assert b"A purge run was queued" in response.content
    assert not Conversation.objects.exists() and DeletionReceipt.objects.count() == 2


def test_nothing_due_says_so(admin_client):
    owner = UserFactory()
    make_overdue(owner)
    Conversation.objects.update(retain_until=timezone.now() + timedelta(days=3))
    assert b"Nothing is due" in admin_client.post(RUN_NOW).content


def test_the_list_shows_the_dry_run_plain_and_the_purge_as_danger(admin_client):
    html = admin_client.get("/admin/retention/purgerun/").content.decode()
    assert 'class="button">Preview the purge (dry run)</button>' in html
    assert 'class="button purge-now-button">Run the purge now…</button>' in html
    assert "css/admin/purge.css" in html


def test_only_privacy_admins_reach_the_confirmation(client, admin_client):
    assert admin_client.get(RUN_NOW).status_code == 403
    client.force_login(make_support_agent())
    assert client.post(RUN_NOW).status_code == 403
