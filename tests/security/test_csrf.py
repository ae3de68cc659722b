"""CSRF on every unsafe method (POST, PUT, PATCH, DELETE) of every route.

A signed-in victim's browser is made to send a request without a CSRF token,
with the cookie but no token in the request, or with a token that does not
match the cookie: the answer is 403 from the CSRF failure view and no row of
the product changes. The paths come from the access matrix's rows, which
cover every route (its own completeness test sees to that), so a new route is
probed here too. Positive controls send the same kind of request with the
right token and see it work, so a 403 here means CSRF, not something else.

The internal ingest API is the one exception, by design: machine to machine,
csrf_exempt, authenticated by a bearer token. It is checked to refuse a
missing or wrong token (401) and change nothing, sessions notwithstanding.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ConsentChange
from retention.models import Conversation, PolicySettingChange, PurgeRun
from staff.models import AccessLog
from tests.security import test_access_matrix as matrix
from tests.security.helpers import body_text, changed_models, database_fingerprint, routes
from tests.support.helpers import make_privacy_admin, make_support_agent

pytestmark = [pytest.mark.django_db, pytest.mark.security]

seed = matrix.seed  # the matrix's fixture: every kind of row, owned by one account

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
VARIANTS = ("no token", "cookie only", "wrong token")
INGEST_ROUTES = {
    "ingest:events",
    "ingest:training-runs",
    "ingest:training-run-conversations",
    "connected:changes",
    "connected:erasure-confirm",
}


def _row_for_every_route() -> dict[str, matrix.Row]:
    """One matrix row per route (one that builds its path from the seed alone)."""
    rows: dict[str, matrix.Row] = {}
    for row in matrix.ALL_ROWS:
        if row.prepare is not None:
            continue
        key = row.route or row.target
        rows.setdefault(key, row)
    return rows


ROWS = _row_for_every_route()


def _area(key: str) -> str:
    if key.startswith(("admin:", "admin/")):
        return "admin"
    if key.startswith("support:"):
        return "support"
    if key.startswith(("dashboard:", "ingest:", "connected:")):
        return key.split(":")[0]
    return "accounts"


def _victim_client(area: str, seed: dict) -> Client:
    """The signed-in person whose session a forged request would ride."""
    client = Client(enforce_csrf_checks=True)
    user = {
        "admin": make_privacy_admin,
        "support": make_support_agent,
    }.get(area, lambda: seed["owner"])()
    client.force_login(user)
    return client


def _send(client: Client, method: str, path: str, variant: str):
    client.cookies.pop("csrftoken", None)
    headers = {}
    data = {"confirmation": "delete all", "allowed": "false", "confirm": "on"}
    if variant in ("cookie only", "wrong token"):
        client.cookies["csrftoken"] = _get_new_csrf_string()
    if variant == "wrong token":
        wrong = _get_new_csrf_string()
        headers["X-CSRFToken"] = wrong
        data["csrfmiddlewaretoken"] = wrong
    if method == "POST":
        return client.post(path, data, headers=headers)
    return getattr(client, method.lower())(path, json.dumps(data), headers=headers)


def _is_csrf_failure(response, path: str) -> bool:
    if response.status_code != 403:
        return False
    if path.startswith("/api/"):
        return response.json().get("error") == "csrf_failed"
    return "dashboard/csrf_failure.html" in [t.name for t in response.templates]


def test_every_route_has_a_path_to_probe():
    assert sorted(route.key for route in routes() if route.key not in ROWS) == []


def test_only_the_internal_api_is_csrf_exempt():
    assert {route.key for route in routes() if route.csrf_exempt} == INGEST_ROUTES


@pytest.mark.parametrize("area", ["admin", "support", "dashboard", "accounts"])
def test_unsafe_methods_without_a_valid_csrf_token_are_refused_and_change_nothing(area, seed):
    client = _victim_client(area, seed)
    keys = sorted(key for key in ROWS if _area(key) == area)
    assert keys, area
    paths = [matrix._path(ROWS[key], seed, client, "") for key in keys]
    anonymous = Client(enforce_csrf_checks=True)
    before = database_fingerprint()
    sent_before = len(mail.outbox)
    wrong = {}
    for path in paths:
        for method in UNSAFE:
            for variant in VARIANTS:
                for who, sender in (("signed in", client), ("anonymous", anonymous)):
                    response = _send(sender, method, path, variant)
                    if not _is_csrf_failure(response, path):
                        wrong[f"{method} {path} ({variant}, {who})"] = response.status_code
    assert wrong == {}
    assert changed_models(before, database_fingerprint()) == []
    assert len(mail.outbox) == sent_before  # no password-reset mail went out
    # The forged sign-out did not sign the victim out.
    client.cookies.pop("csrftoken", None)
    assert client.get(reverse("dashboard:overview")).status_code == 200


# --- Positive controls: the right token works ----------------------------------
def _with_token(client: Client) -> dict[str, str]:
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    return {"X-CSRFToken": token}


def test_with_the_right_token_the_same_requests_do_change_things(
    seed, django_capture_on_commit_callbacks
):
    owner = seed["owner"]
    conversation = seed["conversation"]
    user = Client(enforce_csrf_checks=True)
    user.force_login(owner)

    response = user.post(
        reverse("dashboard:consent"),
        {"allowed": "false", "confirm": "on"},
        headers=_with_token(user),
    )
    assert response.status_code == 302
    assert ConsentChange.objects.filter(user=owner, allowed=False).exists()

    response = user.post(
        reverse("dashboard:api_consent"),
        json.dumps({"allowed": True}),
        content_type="application/json",
        headers=_with_token(user),
    )
    assert response.status_code == 200 and response.json()["changed"] is True

    path = reverse("dashboard:conversation_delete", args=[conversation.external_id])
    assert user.post(path, {"confirm": "yes"}, headers=_with_token(user)).status_code == 302
    assert Conversation.objects.get(pk=conversation.pk).deleted_at is not None

    agent = Client(enforce_csrf_checks=True)
    agent.force_login(make_support_agent())
    logs = AccessLog.objects.count()
    response = agent.post(
        reverse("support:lookup"), matrix._lookup_data(seed), headers=_with_token(agent)
    )
    assert response.status_code == 302 and AccessLog.objects.count() == logs + 1

    admin = Client(enforce_csrf_checks=True)
    admin.force_login(make_privacy_admin())
    changes = PolicySettingChange.objects.count()
    response = admin.post(
        reverse("admin:retention_policysettings_change", args=[1]),
        {
            "not_shared_days": 31,
            "shared_training_years": 5,
            "deleted_days": 30,
            "flagged_content_years": 2,
            "flagged_scores_years": 7,
            "feedback_years": 6,
            "previewed": "not_shared_days=31",  # the second save, once previewed
        },
        headers=_with_token(admin),
    )
    assert response.status_code == 302 and PolicySettingChange.objects.count() == changes + 1
    runs = PurgeRun.objects.count()
    with django_capture_on_commit_callbacks(execute=True):  # the purge task is queued on commit
        response = admin.post(
            reverse("admin:retention_purgerun_run_now"),
            {"confirm": "yes"},
            headers=_with_token(admin),
        )
    assert response.status_code == 302 and PurgeRun.objects.count() == runs + 1

    assert user.post(reverse("logout"), headers=_with_token(user)).status_code == 302
    assert user.get(reverse("dashboard:overview")).status_code == 302  # signed out


def test_sign_in_and_password_reset_need_the_token_too(seed, django_capture_on_commit_callbacks):
    anonymous = Client(enforce_csrf_checks=True)
    credentials = {"username": seed["owner"].email, "password": "correct horse battery staple"}
    assert anonymous.post(reverse("login"), credentials).status_code == 403
    assert anonymous.get(reverse("dashboard:overview")).status_code == 302  # no login CSRF
    assert (
        anonymous.post(reverse("login"), credentials, headers=_with_token(anonymous)).status_code
        == 302
    )
    anonymous = Client(enforce_csrf_checks=True)
    assert (
        anonymous.post(reverse("password_reset"), {"email": seed["owner"].email}).status_code == 403
    )
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes out after the commit
        response = anonymous.post(
            reverse("password_reset"),
            {"email": seed["owner"].email},
            headers=_with_token(anonymous),
        )
    assert response.status_code == 302 and len(mail.outbox) == 1


# --- The internal API: bearer token instead of CSRF ----------------------------
def _batch() -> dict:
    at = (timezone.now() - timedelta(minutes=5)).isoformat()
    return {
        "events": [
            {
                "id": "csrf-evt-1",
                "type": "account.upserted",
                "at": at,
                "account": {
                    "id": "acct-csrf",
                    "email": "csrf@example.com",
                    "type": "consumer",
                    "plan": "free",
                },
            }
        ]
    }


def _run() -> dict:
    return {"id": "run-csrf", "name": "CSRF", "started_at": timezone.now().isoformat()}


INGEST_CALLS = [
    ("POST", "/api/internal/events", _batch),
    ("POST", "/api/internal/training-runs", _run),
    ("GET", "/api/internal/training-runs/run-m/conversations", None),
]
BAD_AUTHORIZATION = {
    "missing": None,
    "empty bearer": "Bearer ",
    "wrong token": "Bearer not-the-token",
    "token with a suffix": "Bearer test-ingest-token-x",
    "token prefix only": "Bearer test-ingest",
    "basic scheme": "Basic test-ingest-token",
    "bare token": "test-ingest-token",
    "non-ASCII token": "Bearer tést-ingest-token",
}


@pytest.mark.parametrize(
    "method, path, body", INGEST_CALLS, ids=lambda v: getattr(v, "__name__", str(v))
)
def test_the_internal_api_refuses_a_missing_or_wrong_bearer_token(method, path, body, seed):
    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(make_privacy_admin())
    before = database_fingerprint()
    for label, authorization in BAD_AUTHORIZATION.items():
        headers = {"Authorization": authorization} if authorization is not None else {}
        for client in (Client(), signed_in):
            if method == "POST":
                response = client.post(
                    path, json.dumps(body()), content_type="application/json", headers=headers
                )
            else:
                response = client.get(path, headers=headers)
            assert response.status_code == 401, label
            assert response["WWW-Authenticate"] == 'Bearer realm="portal-ingest"'
            assert "errors" in response.json(), label
    assert changed_models(before, database_fingerprint()) == []
    # Positive control: the right token, and no CSRF token at all, is accepted.
    ok = {"Authorization": "Bearer test-ingest-token"}
    if method == "POST":
        response = signed_in.post(
            path, json.dumps(body()), content_type="application/json", headers=ok
        )
        assert response.status_code in (200, 201)
        assert changed_models(before, database_fingerprint()) != []
    else:
        assert signed_in.get(path, headers=ok).status_code == 200


def test_the_internal_api_is_off_when_no_token_is_configured(settings, seed):
    settings.PORTAL_INGEST_TOKEN = ""
    before = database_fingerprint()
    for authorization in ("Bearer ", "Bearer test-ingest-token", "Bearer x"):
        response = Client().post(
            "/api/internal/events",
            json.dumps(_batch()),
            content_type="application/json",
            headers={"Authorization": authorization},
        )
        assert response.status_code == 401
        assert "disabled" in body_text(response)
    assert changed_models(before, database_fingerprint()) == []
