"""Hostile input that once answered 500: each case names the input and the
clear 4xx (or the normal page) it gets now, and that nothing changed.
The hypothesis fuzzers in test_fuzz.py explore the same ground at random;
these are the cases they (or a review) found, kept as fixed regressions."""

import pytest
from django.test import Client

from retention.models import Conversation
from tests.factories import UserFactory
from tests.support.helpers import seed_account

pytestmark = [pytest.mark.django_db, pytest.mark.security]

NOT_A_URL = "http://[not-an-address/conversations/?rule=flagged"


@pytest.fixture
def user_client():
    user = UserFactory()
    seed_account(user, conversations=2)
    client = Client()
    client.force_login(user)
    return user, client


def test_htmx_delete_all_with_a_malformed_current_url_re_renders_the_form(user_client):
    user, client = user_client
    response = client.post(
        "/delete/all/",
        {"confirmation": "not the phrase"},
        headers={"HX-Request": "true", "HX-Current-URL": NOT_A_URL},
    )
    assert response.status_code == 400
    assert "exactly to delete everything" in response.content.decode()
    assert not Conversation.objects.filter(user=user, deleted_at__isnull=False).exists()


def test_htmx_delete_with_a_malformed_current_url_deletes_and_lists_page_one(user_client):
    user, client = user_client
    conversation = Conversation.objects.filter(user=user).first()
    response = client.post(
        f"/conversations/{conversation.external_id}/delete/",
        {"confirm": "yes"},
        headers={"HX-Request": "true", "HX-Current-URL": NOT_A_URL},
    )
    assert response.status_code == 200
    assert "Deleted 1 conversation" in response.content.decode()


def test_anonymous_htmx_request_with_a_malformed_current_url_is_sent_to_sign_in(db):
    response = Client().get(
        "/conversations/", headers={"HX-Request": "true", "HX-Current-URL": NOT_A_URL}
    )
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Fconversations%2F"


@pytest.mark.parametrize("param", ["access", "before"])
def test_console_grant_and_page_ids_in_other_digits_are_refused_not_500(param):
    from staff.models import AccessLog, Outcome
    from tests.support.helpers import make_support_agent

    owner = UserFactory()
    seed_account(owner)
    agent = make_support_agent()
    client = Client()
    client.force_login(agent)
    lookup = client.post(
        "/support/lookup/", {"kind": "account", "value": owner.external_id, "reason": "T-1"}
    )
    page = lookup["Location"]
    url = f"/support/accounts/{owner.pk}/?access=²" if param == "access" else f"{page}&before=²"
    response = client.get(url)
    if param == "access":
        assert response.status_code == 403  # no grant: refused and logged
        assert AccessLog.objects.filter(staff=agent, outcome=Outcome.DENIED).count() == 1
    else:
        assert response.status_code == 400


def test_admin_content_grant_id_in_other_digits_shows_no_content():
    from tests.support.helpers import SECRET_CONTENT, make_privacy_admin

    owner = UserFactory()
    conversation = seed_account(owner).get()
    client = Client()
    client.force_login(make_privacy_admin())
    response = client.get(f"/admin/retention/conversation/{conversation.pk}/change/?_access=²")
    assert response.status_code == 200
    assert SECRET_CONTENT not in response.content.decode()


def _cursor(raw: str) -> str:
    import base64

    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


EDGE_OF_CALENDAR = ["0001-01-01T00:00:00+05:00|5", "9999-12-31T23:59:59-05:00|5"]


@pytest.mark.parametrize("raw", EDGE_OF_CALENDAR)
@pytest.mark.parametrize(
    "path, param, status",
    [
        ("/conversations/", "cursor", 400),
        ("/deleted/", "cursor", 400),
        ("/deleted/", "rcursor", 400),
        ("/feedback/", "cursor", 400),
        ("/api/me/conversations", "cursor", 400),
    ],
)
def test_a_cursor_at_the_edge_of_the_calendar_is_a_bad_link(user_client, raw, path, param, status):
    _, client = user_client
    response = client.get(path, {param: _cursor(raw)})
    assert response.status_code == status


def test_a_training_run_id_with_nul_is_an_unknown_run(db):
    response = Client().get(
        "/api/internal/training-runs/run%00x/conversations",
        headers={"Authorization": "Bearer test-ingest-token"},
    )
    assert response.status_code == 404
    assert response.json()["errors"][0]["error"].startswith("unknown training run")


def _admin_nul_urls() -> list[str]:
    """Every changelist with a NUL in each of its filters, and every object
    page with a NUL in the object id."""
    from django.contrib import admin

    urls = []
    for model, model_admin in admin.site._registry.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        urls += [base + "?q=a%00b", base + "a%00b/change/", base + "a%00b/history/"]
        urls += [base + "a%00b/delete/"]
        for list_filter in model_admin.list_filter:
            name = list_filter if isinstance(list_filter, str) else list_filter.parameter_name
            urls += [f"{base}?{name}=a%00b", f"{base}?{name}__exact=a%00b"]
    return urls


def test_admin_addresses_with_nul_are_a_400_for_privacy_admins_and_403_for_others(db):
    from tests.support.helpers import make_privacy_admin, make_support_agent

    admin_client, agent_client = Client(), Client()
    admin_client.force_login(make_privacy_admin())
    agent_client.force_login(make_support_agent())
    answers = {url: admin_client.get(url).status_code for url in _admin_nul_urls()}
    assert {url: status for url, status in answers.items() if status != 400} == {}
    assert agent_client.get("/admin/retention/conversation/?rule=a%00b").status_code == 403


def test_an_oversized_body_to_the_consent_api_is_a_json_413_and_changes_nothing(user_client):
    from django.conf import settings

    from accounts.models import ConsentChange

    user, client = user_client
    body = b'{"allowed": true, "padding": "' + b"x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    response = client.generic("POST", "/api/me/consent", body, "application/json")
    assert response.status_code == 413
    assert response.json()["error"] == "too_big"
    assert not ConsentChange.objects.filter(user=user).exists()
