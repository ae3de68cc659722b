"""Content and titles in admin: shown only after a reason, and logged."""

import pytest

from accounts.roles import StaffRole
from retention.models import Conversation, Feedback
from staff.models import AccessLog, DataKind, Outcome
from staff.selectors import access_log_for_user
from tests.factories import UserFactory
from tests.support.helpers import (
    SECRET_COMMENT,
    SECRET_CONTENT,
    SECRET_TITLE,
    make_privacy_admin,
    seed_account,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(db):
    owner = UserFactory()
    seed_account(owner)
    return Conversation.objects.get(user=owner)


def _url(conversation):
    return f"/admin/retention/conversation/{conversation.pk}/change/"


def test_lists_never_show_titles_or_content(admin_client, conversation):
    for path in (
        "/admin/retention/conversation/",
        "/admin/retention/message/",
        "/admin/retention/feedback/",
    ):
        page = admin_client.get(path)
        assert page.status_code == 200
        for secret in (SECRET_TITLE, SECRET_CONTENT, SECRET_COMMENT):
            assert secret.encode() not in page.content


def test_conversation_page_hides_title_and_transcript_until_a_reason_is_given(
    admin_client, conversation, privacy_admin
):
    page = admin_client.get(_url(conversation))
    assert page.status_code == 200
    assert SECRET_TITLE.encode() not in page.content
    assert SECRET_CONTENT.encode() not in page.content
    assert b"Reason for viewing" in page.content
    assert not AccessLog.objects.exists()

    response = admin_client.post(_url(conversation), {"_reveal": "1", "reason": "Legal case 12"})
    row = AccessLog.objects.get()
    assert (row.staff, row.role, row.account, row.reason, row.data_kind, row.outcome) == (
        privacy_admin,
        StaffRole.PRIVACY_ADMIN,
        conversation.user,
        "Legal case 12",
        DataKind.CONTENT,
        Outcome.GRANTED,
    )
    assert response.status_code == 302
    assert response["Location"] == f"{_url(conversation)}?_access={row.pk}"
    shown = admin_client.get(response["Location"])
    assert SECRET_TITLE.encode() in shown.content
    assert SECRET_CONTENT.encode() in shown.content
    # The reason is one row, and each view of the content another (Hardening 1).
    view = AccessLog.objects.exclude(pk=row.pk).get()
    assert (view.grant, view.reason, view.data_kind) == (row, "Legal case 12", DataKind.CONTENT)
    admin_client.get(response["Location"])
    assert [e.reason for e in access_log_for_user(conversation.user)] == ["Legal case 12"] * 3


def test_a_blank_reason_shows_nothing_and_is_logged_as_denied(admin_client, conversation):
    response = admin_client.post(_url(conversation), {"_reveal": "1", "reason": "  "})
    assert response.status_code == 302
    page = admin_client.get(response["Location"])
    assert b"Give a reason" in page.content
    assert SECRET_CONTENT.encode() not in page.content
    row = AccessLog.objects.get()
    assert (row.outcome, row.account) == (Outcome.DENIED, conversation.user)


def test_another_admins_grant_does_not_open_the_content(client, admin_client, conversation):
    location = admin_client.post(_url(conversation), {"_reveal": "1", "reason": "Case 1"})[
        "Location"
    ]
    client.force_login(make_privacy_admin())
    page = client.get(location)
    assert page.status_code == 200
    assert SECRET_CONTENT.encode() not in page.content


def test_message_and_feedback_pages_gate_their_content_the_same_way(admin_client, conversation):
    message = conversation.messages.get()
    feedback = Feedback.objects.get(user=conversation.user)
    for url, secret in (
        (f"/admin/retention/message/{message.pk}/change/", SECRET_CONTENT),
        (f"/admin/retention/feedback/{feedback.pk}/change/", SECRET_COMMENT),
    ):
        assert secret.encode() not in admin_client.get(url).content
        location = admin_client.post(url, {"_reveal": "1", "reason": "Ticket 5"})["Location"]
        assert secret.encode() in admin_client.get(location).content
    # A reason and a view each (Hardening 1: each view of content is logged).
    assert AccessLog.objects.filter(data_kind=DataKind.CONTENT, grant=None).count() == 2
    assert AccessLog.objects.filter(data_kind=DataKind.CONTENT).exclude(grant=None).count() == 2
