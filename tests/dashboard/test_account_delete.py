"""The "Delete my account" page and DELETE /api/me/account: what the user
is told before, the typed confirmation, every refusal a 400 that changes
nothing, and what they are told after."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from retention.models import Conversation
from retention.services.conversations import conversation_flag, feedback_submit
from tests.factories import CommercialUserFactory

pytestmark = pytest.mark.django_db
PAGE = "/account/delete/"
API = "/api/me/account"


@pytest.fixture
def rich_history(owner, history, now):
    flagged = Conversation.objects.get(external_id="c-mid")
    conversation_flag(conversation=flagged, flagged_at=now, scores={"violence": 0.9})
    feedback_submit(
        user=owner,
        external_id="fb-1",
        kind="thumbs_down",
        comment="meh",
        excerpt="",
        submitted_at=now,
    )
    return history


def _unchanged(owner) -> bool:
    user = User.objects.get(pk=owner.pk)
    return (
        user.is_active
        and user.erasure_requested_at is None
        and not Conversation.objects.filter(user=owner, deleted_at__isnull=False).exists()
    )


def test_the_page_lists_what_goes_now_and_what_the_article_keeps(owner_client, rich_history):
    page = owner_client.get(PAGE)
    html = page.content.decode()
    assert page.status_code == 200
    assert "Your 3 conversations and their 3 messages leave your history at once" in html
    assert "1 conversation flagged by our trust and safety classifiers" in html
    assert "1 set of trust and safety classification scores" in html
    assert "1 feedback submission" in html
    # The article's own sentences, with their durations.
    assert "We retain inputs and outputs for up to 2 years" in html
    assert "we retain data associated with that submission for 5" in html
    assert "Deleted from our back-end storage systems within 30 days" in html
    assert 'name="confirm" value="yes"' in html and 'type="email"' in html
    assert 'class="danger"' in html
    assert "<script>" not in html and "style=" not in html


def test_a_post_without_confirm_only_shows_the_page(owner, owner_client, rich_history):
    response = owner_client.post(PAGE, {"email": owner.email})
    assert response.status_code == 200 and b"What goes now" in response.content
    assert _unchanged(owner)


@pytest.mark.parametrize("typed", ["", "other@example.com", "owner@example.co"])
def test_a_wrong_email_is_a_form_error_and_changes_nothing(owner, owner_client, history, typed):
    response = owner_client.post(PAGE, {"email": typed, "confirm": "yes"})
    assert response.status_code == 400
    assert b'aria-invalid="true"' in response.content
    assert _unchanged(owner)
    assert owner_client.get("/").status_code == 200  # still signed in


def test_the_typed_email_deletes_signs_out_and_says_what_happened(
    owner, owner_client, rich_history
):
    response = owner_client.post(PAGE, {"email": " OWNER@example.com ", "confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == "/account/deleted/"
    done = owner_client.get("/account/deleted/")
    html = done.content.decode()
    assert done.status_code == 200
    assert "3 conversations left your history" in html
    assert "1 flagged conversation, its content kept until" in html
    assert "1 feedback submission, kept until" in html
    assert owner_client.get("/").status_code == 302  # signed out
    assert not User.objects.get(pk=owner.pk).is_active


def test_the_page_after_is_not_shown_to_someone_who_deleted_nothing(client):
    assert client.get("/account/deleted/").status_code == 302


def test_a_commercial_account_is_told_its_organisation_decides(client):
    user = CommercialUserFactory()
    client.force_login(user)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert b"commercial terms govern this account" in page.content
    assert b'name="email"' not in page.content
    refused = client.post(PAGE, {"email": user.email, "confirm": "yes"})
    assert refused.status_code == 400
    assert User.objects.get(pk=user.pk).is_active


# --- DELETE /api/me/account -------------------------------------------------


def _delete(client: Client, body, *, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.delete(API, data=data, content_type=content_type)


def test_the_api_deletes_and_says_what_is_kept_until_when(owner, owner_client, rich_history, now):
    response = _delete(owner_client, {"confirm": "owner@example.com"})
    assert response.status_code == 200
    body = response.json()
    assert body["conversations_deleted"] == 3
    assert body["sign_in_disabled"] is True and body["sessions_ended"] is True
    assert body["account_erased"] is False
    kept = {item["kind"]: item for item in body["kept"]}
    assert set(kept) == {
        "deleted_conversations",
        "flagged_content",
        "classification_scores",
        "feedback",
    }
    assert kept["flagged_content"]["until"].startswith(str(now.year + 2))
    assert kept["classification_scores"]["until"].startswith(str(now.year + 7))
    assert kept["feedback"]["until"].startswith(str(now.year + 5))
    assert owner_client.get("/api/me/conversations").status_code == 401  # signed out


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"confirm": "other@example.com"}, "wrong_email"),
        ({"confirm": ""}, "wrong_email"),
        ({"confirm": " owner@example.com"}, "wrong_email"),
        ({}, "bad_confirm"),
        ({"confirm": None}, "bad_confirm"),
        ({"confirm": ["owner@example.com"]}, "bad_confirm"),
        (["owner@example.com"], "bad_confirm"),
        ("owner@example.com", "bad_json"),
        ("{", "bad_json"),
        ("", "bad_json"),
        (b"\xff\xfe", "bad_json"),
    ],
)
def test_anything_else_is_a_400_that_changes_nothing(owner, owner_client, history, body, code):
    response = _delete(owner_client, body)
    assert response.status_code == 400
    assert response.json()["error"] == code and response.json()["detail"]
    assert _unchanged(owner)


def test_a_form_body_is_a_400(owner, owner_client, history):
    response = owner_client.delete(
        API, data="confirm=owner%40example.com", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400 and _unchanged(owner)


def test_a_commercial_account_gets_a_400_naming_its_organisation(client):
    user = CommercialUserFactory()
    client.force_login(user)
    response = _delete(client, {"confirm": user.email})
    assert response.status_code == 400
    assert response.json()["error"] == "commercial_account"


def test_the_api_needs_a_session_and_the_csrf_token(owner, csrf_client, history):
    assert _delete(Client(), {"confirm": owner.email}).status_code == 401
    assert _delete(csrf_client, {"confirm": owner.email}).status_code == 403
    assert _unchanged(owner)


def test_other_methods_are_405(owner_client):
    for method in ("get", "post", "put", "patch"):
        assert getattr(owner_client, method)(API).status_code == 405


def test_the_page_reads_a_constant_number_of_queries(
    owner, owner_client, add_message, django_assert_max_num_queries
):
    start = timezone.now() - timedelta(days=5)
    for i in range(30):
        add_message(owner, start + timedelta(minutes=i), conversation=f"q-{i}")
    with django_assert_max_num_queries(20) as small:
        owner_client.get(PAGE)
    for i in range(30, 130):
        add_message(owner, start + timedelta(minutes=i), conversation=f"q-{i}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        owner_client.get(PAGE)
