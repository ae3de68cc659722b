"""/api/me/: the documented shapes, session auth, CSRF on writes, and a JSON
4xx for every bad input with nothing changed."""

import json
from datetime import timedelta

import pytest
from django.test import Client

from accounts.models import ConsentChange
from accounts.services import consent_record
from retention.models import Conversation, DeletionReceipt, Rule
from retention.services.training import training_run_register


def deleted_ids(user):
    return set(
        Conversation.objects.filter(user=user, deleted_at__isnull=False).values_list(
            "external_id", flat=True
        )
    )


def csrf_token(client) -> str:
    client.get("/")
    return client.cookies["csrftoken"].value


def test_conversations_have_the_documented_shape(owner, owner_client, add_message, now):
    consent_record(
        article_version="v-test",
        user=owner,
        allowed=True,
        source="import",
        effective_at=now - timedelta(days=10),
    )
    add_message(owner, now - timedelta(days=5), conversation="s1", title="Shared")
    training_run_register(external_id="r1", name="Run one", started_at=now - timedelta(days=1))
    payload = owner_client.get("/api/me/conversations").json()
    assert payload["next"] is None
    (item,) = payload["conversations"]
    assert set(item) == {
        "id",
        "title",
        "kind",
        "last_activity_at",
        "rule",
        "retain_until",
        "shared_for_training",
        "training_runs",
        "future_training",
        "flagged",
        "explanation",
    }
    assert item["id"] == "s1" and item["rule"] == "shared_training"
    assert (
        item["training_runs"] == ["Run one"]
        and item["future_training"] is True
        and item["flagged"] is False
    )
    assert item["last_activity_at"].endswith("Z") and item["retain_until"].startswith(
        str(now.year + 5)
    )
    assert item["explanation"][0] == {
        "section": "if-you-allow-us-to-use-your-data-to-improve-claude",
        "quote": "If you allow us to use your chats or coding sessions to improve Claude, we will retain "
        "your data for up to 5 years.",
    }


def test_conversations_paginate_with_the_next_cursor_and_hide_deleted(
    owner, owner_client, add_message, now
):
    for i in range(27):
        add_message(owner, now - timedelta(hours=i), conversation=f"p{i:02d}")
    Conversation.objects.filter(external_id="p00").update(deleted_at=now)
    first = owner_client.get("/api/me/conversations").json()
    assert len(first["conversations"]) == 25 and first["conversations"][0]["id"] == "p01"
    second = owner_client.get("/api/me/conversations", {"cursor": first["next"]}).json()
    assert [c["id"] for c in second["conversations"]] == ["p26"] and second["next"] is None


def test_bad_cursor_is_a_json_400(owner_client, db):
    response = owner_client.get("/api/me/conversations?cursor=%00nope")
    assert response.status_code == 400 and response.json()["error"] == "bad_cursor"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/me/conversations"),
        ("get", "/api/me/deleted"),
        ("get", "/api/me/export"),
        ("post", "/api/me/consent"),
        ("delete", "/api/me/conversations/c-new"),
    ],
)
def test_anonymous_gets_a_json_401(db, method, path):
    response = getattr(Client(), method)(path)
    assert response.status_code == 401 and response.json()["error"] == "not_authenticated"


def test_delete_removes_the_conversation_from_history(owner, csrf_client, history):
    response = csrf_client.delete(
        "/api/me/conversations/c-new", HTTP_X_CSRFTOKEN=csrf_token(csrf_client)
    )
    assert response.status_code == 204
    assert deleted_ids(owner) == {"c-new"}
    ids = [c["id"] for c in csrf_client.get("/api/me/conversations").json()["conversations"]]
    assert ids == ["c-mid", "c-old"]


def test_delete_of_another_users_or_an_unknown_id_is_a_404_and_changes_nothing(
    owner, other, csrf_client, history
):
    token = csrf_token(csrf_client)
    for external_id in ("c-theirs", "c-unknown"):
        response = csrf_client.delete(
            f"/api/me/conversations/{external_id}", HTTP_X_CSRFTOKEN=token
        )
        assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert deleted_ids(owner) == set() and deleted_ids(other) == set()


def test_delete_of_a_malformed_id_is_a_400(owner, csrf_client, history):
    response = csrf_client.delete(
        "/api/me/conversations/" + "x" * 129, HTTP_X_CSRFTOKEN=csrf_token(csrf_client)
    )
    assert response.status_code == 400 and response.json()["error"] == "bad_id"
    response = csrf_client.delete(
        "/api/me/conversations/a%20b", HTTP_X_CSRFTOKEN=csrf_token(csrf_client)
    )
    assert response.status_code == 400


def test_writes_without_or_with_a_stale_csrf_token_are_a_json_403_and_change_nothing(
    owner, csrf_client, history
):
    csrf_token(csrf_client)
    for headers in ({}, {"HTTP_X_CSRFTOKEN": "A" * 64}):
        response = csrf_client.delete("/api/me/conversations/c-new", **headers)
        assert response.status_code == 403 and response.json()["error"] == "csrf_failed"
        response = csrf_client.post(
            "/api/me/consent", {"allowed": True}, content_type="application/json", **headers
        )
        assert response.status_code == 403 and response.json()["error"] == "csrf_failed"
    assert deleted_ids(owner) == set()
    assert not ConsentChange.objects.filter(user=owner).exists()


def test_consent_post_records_from_the_dashboard(owner, csrf_client):
    token = csrf_token(csrf_client)
    response = csrf_client.post(
        "/api/me/consent",
        {"allowed": True},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200
    assert response.json()["allowed"] is True and response.json()["changed"] is True
    assert response.json()["since"].endswith("Z")
    change = ConsentChange.objects.get(user=owner)
    assert change.allowed is True and change.source == "dashboard"
    again = csrf_client.post(
        "/api/me/consent",
        {"allowed": True},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert (
        again.json()["changed"] is False and ConsentChange.objects.filter(user=owner).count() == 1
    )


@pytest.mark.parametrize("body", ["not json", "[]", '{"allowed": "yes"}', '{"allowed": 1}', "{}"])
def test_consent_post_with_malformed_input_is_a_400(owner, csrf_client, body):
    response = csrf_client.post(
        "/api/me/consent",
        body,
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf_token(csrf_client),
    )
    assert response.status_code == 400
    assert not ConsentChange.objects.filter(user=owner).exists()


def test_deleted_lists_pending_and_purged_without_titles(owner, owner_client, history, now):
    Conversation.objects.filter(external_id="c-mid").update(deleted_at=now)
    DeletionReceipt.objects.create(
        sequence=1,
        user=owner,
        conversation_external_id="c-gone",
        kind="chat",
        rule=Rule.DELETED,
        deleted_at=now - timedelta(days=31),
        retain_until=now - timedelta(days=1),
        purged_at=now,
        messages_removed=2,
        previous_hash="0" * 64,
        receipt_hash="b" * 64,
    )
    payload = json.loads(b"".join(owner_client.get("/api/me/deleted").streaming_content))
    assert [d["id"] for d in payload["deleted"]] == ["c-mid", "c-gone"]
    assert all(
        set(d) == {"id", "deleted_at", "retain_until", "purged_at", "systems"}
        for d in payload["deleted"]
    )
    assert payload["deleted"][0]["purged_at"] is None and payload["deleted"][1][
        "purged_at"
    ].endswith("Z")


def test_export_is_the_users_data_as_json(owner, owner_client, history):
    response = owner_client.get("/api/me/export")
    data = json.loads(b"".join(response.streaming_content))
    assert {c["id"] for c in data["conversations"]} == {"c-new", "c-mid", "c-old"}
