"""The auto-delete page and /api/me/auto-delete: a choice is previewed with
real counts ("these N conversations would be deleted now" and the next ones),
previewing the setting in force says so and offers nothing to confirm,
confirming records it and every part of the page shows it (htmx fragment and
no-JS redirect alike), and the API keeps its exact contract."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from accounts.models import AutoDeleteChange, User
from accounts.services import consent_record
from connected.events import CONVERSATION_DELETED
from connected.models import OutboxEvent
from connected.services.systems import system_register
from retention.models import Conversation, Rule
from tests.factories import CommercialUserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def aged_history(owner, add_message, now):
    """Two conversations over 3 months old, one recent; all shared for training."""
    consent_record(
        user=owner,
        allowed=True,
        source="dashboard",
        article_version="v",
        effective_at=now - timedelta(days=400),
    )
    add_message(owner, now - timedelta(days=200), conversation="c-ancient", title="Ancient chat")
    add_message(owner, now - timedelta(days=120), conversation="c-old", title="Old chat")
    add_message(owner, now - timedelta(days=10), conversation="c-new", title="New chat")


def _state(owner):
    return User.objects.get(pk=owner.pk).auto_delete_months


# --- the page ------------------------------------------------------------------


def test_the_page_shows_off_by_default_with_off_checked(owner_client):
    response = owner_client.get("/auto-delete/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-setting="off">Off</strong>' in html
    assert 'value="off" id="after-off" checked' in html
    assert "You have never changed this setting" in html
    assert "css/pages/auto_delete.css" in html
    assert 'href="/auto-delete/" aria-current="page"' in html


def test_a_preview_counts_what_would_be_deleted_now_and_names_the_next(
    owner, owner_client, aged_history
):
    response = owner_client.post("/auto-delete/", {"after_months": "3"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "These 2 conversations would be deleted now." in html
    assert "Ancient chat" in html and "Old chat" in html
    assert "New chat</a>: deleted on" in html
    assert "3 conversations get an earlier date." in html
    assert 'name="confirm" value="yes"' in html
    assert 'class="danger"' in html and "delete 2 conversations now" in html
    # Nothing happened yet.
    assert _state(owner) is None
    assert not Conversation.objects.filter(user=owner, deleted_at__isnull=False).exists()


def test_previewing_the_setting_in_force_says_so_and_offers_nothing_to_confirm(owner, owner_client):
    response = owner_client.post("/auto-delete/", {"after_months": "off"})
    html = response.content.decode()
    assert "This is already your setting" in html
    assert 'name="confirm"' not in html
    owner_client.post("/auto-delete/", {"after_months": "18", "confirm": "yes"})
    html = owner_client.post("/auto-delete/", {"after_months": "18"}).content.decode()
    assert "This is already your setting" in html and 'name="confirm"' not in html


def test_confirming_without_js_records_deletes_and_redirects_to_the_new_state(
    owner, owner_client, aged_history
):
    system_register(name="warehouse", events=[CONVERSATION_DELETED])
    response = owner_client.post("/auto-delete/", {"after_months": "3", "confirm": "yes"})
    assert response.status_code == 302 and response.url == "/auto-delete/"
    assert _state(owner) == 3
    assert set(
        Conversation.objects.filter(user=owner, deleted_at__isnull=False).values_list(
            "external_id", flat=True
        )
    ) == {"c-ancient", "c-old"}
    assert OutboxEvent.objects.filter(type=CONVERSATION_DELETED).count() == 2
    new = Conversation.objects.get(external_id="c-new")
    assert new.public_rule == Rule.AUTO_DELETE

    html = owner_client.get("/auto-delete/").content.decode()
    assert 'data-setting="3">After 3 months</strong>' in html
    assert 'value="3" id="after-3" checked' in html
    assert "2 conversations were deleted now." in html
    assert AutoDeleteChange.objects.get(user=owner).source == "dashboard"


def test_confirming_with_htmx_answers_the_whole_panel_in_its_new_state(
    owner, owner_client, aged_history
):
    response = owner_client.post("/auto-delete/", {"after_months": "36", "confirm": "yes"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="auto-delete-panel"')
    assert "<html" not in html
    assert "Auto-delete is on" in html  # the action's message, inside the fragment
    assert 'data-setting="36">After 36 months</strong>' in html
    assert 'value="36" id="after-36" checked' in html
    assert "After 36 months</td>" in html  # the history row
    assert _state(owner) == 36


def test_turning_it_off_restores_every_date(owner, owner_client, aged_history):
    before = dict(Conversation.objects.values_list("external_id", "public_retain_until"))
    owner_client.post("/auto-delete/", {"after_months": "36", "confirm": "yes"})
    assert dict(Conversation.objects.values_list("external_id", "public_retain_until")) != before
    preview = owner_client.post("/auto-delete/", {"after_months": "off"}).content.decode()
    assert "3 conversations get their later dates back." in preview
    owner_client.post("/auto-delete/", {"after_months": "off", "confirm": "yes"})
    assert dict(Conversation.objects.values_list("external_id", "public_retain_until")) == before
    assert _state(owner) is None


@pytest.mark.parametrize("value", ["", "0", "12", "three", "3.0", None])
def test_a_bad_choice_is_a_400_with_a_message_and_changes_nothing(owner, owner_client, value):
    data = {"confirm": "yes"} | ({"after_months": value} if value is not None else {})
    for extra in ({}, HTMX):
        response = owner_client.post("/auto-delete/", data, **extra)
        assert response.status_code == 400
        assert "Choose Off, 3, 18 or 36 months." in response.content.decode()
    assert _state(owner) is None
    assert not AutoDeleteChange.objects.exists()


def test_a_commercial_user_sees_why_and_cannot_set_it(db):
    user = CommercialUserFactory()
    client = Client()
    client.force_login(user)
    assert "commercial account" in client.get("/auto-delete/").content.decode()
    response = client.post("/auto-delete/", {"after_months": "3", "confirm": "yes"})
    assert response.status_code == 400
    assert "commercial terms" in response.content.decode()
    assert User.objects.get(pk=user.pk).auto_delete_months is None


def test_the_page_needs_a_sign_in(client):
    response = client.get("/auto-delete/")
    assert response.status_code == 302
    assert "next=/auto-delete/" in response.url


# --- the API -------------------------------------------------------------------


def csrf_token(client) -> str:
    client.get("/")
    return client.cookies["csrftoken"].value


def _post(client, body: str):
    return client.post(
        "/api/me/auto-delete",
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf_token(client),
    )


def test_api_get_answers_the_setting(owner, owner_client):
    assert owner_client.get("/api/me/auto-delete").json() == {"after_months": None}
    User.objects.filter(pk=owner.pk).update(auto_delete_months=18)
    assert owner_client.get("/api/me/auto-delete").json() == {"after_months": 18}


@pytest.mark.parametrize("months", [3, 18, 36, None])
def test_api_post_sets_each_value_and_answers_it(owner, csrf_client, months):
    if months is None:
        _post(csrf_client, json.dumps({"after_months": 3}))
    response = _post(csrf_client, json.dumps({"after_months": months}))
    assert response.status_code == 200
    assert response.json() == {"after_months": months}
    assert _state(owner) == months
    assert csrf_client.get("/api/me/auto-delete").json() == {"after_months": months}


@pytest.mark.parametrize(
    "body",
    [
        '{"after_months": "3"}',
        '{"after_months": 0}',
        '{"after_months": 12}',
        '{"after_months": 3.0}',
        '{"after_months": true}',
        '{"after_months": [3]}',
        '{"after_months": -3}',
        "{}",
        '{"months": 3}',
        '{"after_months": 3, "extra": 1}',
        "[]",
        "3",
        "null",
        "not json",
        "",
        '{"after_months": 3',
    ],
)
def test_api_post_anything_else_is_a_json_400_and_nothing_changes(owner, csrf_client, body):
    User.objects.filter(pk=owner.pk).update(auto_delete_months=18)
    response = _post(csrf_client, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"error", "detail"}
    assert _state(owner) == 18
    assert not AutoDeleteChange.objects.exists()


def test_api_post_needs_csrf_and_a_sign_in(owner, csrf_client):
    response = csrf_client.post(
        "/api/me/auto-delete", '{"after_months": 3}', content_type="application/json"
    )
    assert response.status_code == 403
    assert Client().get("/api/me/auto-delete").status_code == 401
    assert _state(owner) is None


def test_api_commercial_user_is_refused_as_for_consent(db):
    user = CommercialUserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = _post(client, '{"after_months": 3}')
    assert response.status_code == 400
    assert response.json()["error"] == "commercial_account"
    assert User.objects.get(pk=user.pk).auto_delete_months is None


def test_the_export_carries_the_setting_and_its_history(owner, owner_client):
    owner_client.post("/auto-delete/", {"after_months": "18", "confirm": "yes"})
    response = owner_client.get("/api/me/export")
    data = json.loads(b"".join(response.streaming_content))
    assert data["account"]["auto_delete_after_months"] == 18
    assert [c["after_months"] for c in data["auto_delete_history"]] == [18]
