"""A system's key on the internal API (connected.auth), ingest included:
scopes, disabled systems, revoked keys, and PORTAL_INGEST_TOKEN unchanged."""

import pytest
from django.test import RequestFactory

from accounts.models import User
from connected.auth import authenticate
from connected.services.systems import api_keys_revoke, system_enable, system_rotate
from ingest.views import _authenticate
from tests.ingest import builders as b

TOKEN = "test-ingest-token"  # tests/settings.py


def test_ingest_accepts_a_system_key_with_the_events_scope(api, register):
    _, creds = register("chat", events=["consent.changed"])
    response = api.post("events", {"events": [b.account_upserted()]}, key=creds.api_key)
    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 0}
    assert User.objects.filter(external_id="acct-1").exists()


def test_training_runs_accept_a_system_key_with_the_training_runs_scope(api, register):
    _, creds = register("trainer", scopes=["training_runs"])
    body = {"id": "run-1", "name": "Model 1", "started_at": "2026-01-01T00:00:00Z"}
    assert api.post("training-runs", body, key=creds.api_key).status_code == 201
    page = api.get("training-runs/run-1/conversations", key=creds.api_key)
    assert page.status_code == 200


@pytest.mark.parametrize(
    ("path", "method", "scopes"),
    [
        ("events", "post", ["changes", "erasures", "training_runs"]),
        ("training-runs", "post", ["events"]),
        ("training-runs/run-1/conversations", "get", ["events"]),
        ("changes", "get", ["events", "training_runs", "erasures"]),
        ("erasures/evt_1/confirm", "post", ["events", "changes"]),
    ],
)
def test_a_valid_key_without_the_scope_is_a_json_403(api, register, path, method, scopes):
    _, creds = register("narrow", scopes=scopes)
    response = getattr(api, method)(path, key=creds.api_key)
    assert response.status_code == 403
    assert response.json() == {
        "errors": [{"index": None, "field": None, "error": response.json()["errors"][0]["error"]}]
    }
    assert "scope" in response.json()["errors"][0]["error"]


def test_a_disabled_systems_key_is_a_401_that_changes_nothing(api, register):
    system, creds = register("chat")
    system_enable(system_id=system.pk, enabled=False)
    response = api.post("events", {"events": [b.account_upserted()]}, key=creds.api_key)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["error"] == "invalid token"
    assert not User.objects.exists()


def test_a_rotated_key_works_until_revoked(api, register):
    system, old = register("chat")
    new = system_rotate(system_id=system.pk)
    for key in (old.api_key, new.api_key):
        assert api.get("changes", key=key).status_code == 200
    api_keys_revoke(system_id=system.pk)
    assert api.get("changes", key=old.api_key).status_code == 401
    assert api.get("changes", key=new.api_key).status_code == 200


@pytest.mark.parametrize("key", ["csk_not-a-key", "csk_", "csk_" + "x" * 300])
def test_an_unknown_key_is_a_401(api, register, key):
    register("chat")
    response = api.post("events", {"events": [b.account_upserted()]}, key=key)
    assert response.status_code == 401
    assert response.json()["errors"][0]["error"] == "invalid token"


def test_the_ingest_token_still_works_and_is_not_a_system(api, register):
    register("chat")
    response = api.post("events", {"events": [b.account_upserted()]}, key=TOKEN)
    assert response.status_code == 200
    assert api.post("training-runs", {}, key=TOKEN).status_code == 400  # past auth
    assert api.get("changes", key=TOKEN).status_code == 401  # not a system's key


def test_with_the_ingest_token_unset_a_system_key_still_works(api, register, settings):
    settings.PORTAL_INGEST_TOKEN = ""
    _, creds = register("chat")
    assert api.post("events", {"events": [b.account_upserted()]}, key=TOKEN).status_code == 401
    ok = api.post("events", {"events": [b.account_upserted()]}, key=creds.api_key)
    assert ok.status_code == 200


def test_the_authenticated_system_is_on_the_request(register):
    system, creds = register("chat")
    request = RequestFactory().get("/", headers={"Authorization": f"Bearer {creds.api_key}"})
    assert authenticate(request, "events") == (system, None)
    assert request.connected_system == system
    anonymous = RequestFactory().get("/")
    found, refused = authenticate(anonymous, "events")
    assert found is None and refused.status_code == 401
    assert anonymous.connected_system is None


def test_the_ingest_views_see_which_system_sent_the_request(register):
    system, creds = register("chat")
    by_key = RequestFactory().post("/", headers={"Authorization": f"Bearer {creds.api_key}"})
    assert _authenticate(by_key, "events") is None
    assert by_key.connected_system == system
    by_token = RequestFactory().post("/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert _authenticate(by_token, "events") is None
    assert by_token.connected_system is None
