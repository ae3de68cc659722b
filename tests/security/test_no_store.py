"""Signed-in answers are never cached (issue "Hardening" 6): every route of
the URLconf, as each signed-in role, answers `Cache-Control: private,
no-store`, whatever the status (pages, redirects, errors, API answers,
Django admin); so does the ingest API to a request with its bearer token.
An anonymous public page stays cacheable: the header says who it is for."""

import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.security.helpers import route_path, routes
from tests.support.helpers import make_privacy_admin, make_support_agent

pytestmark = [pytest.mark.django_db, pytest.mark.security]

TOKEN = {"Authorization": "Bearer test-ingest-token"}


def _directives(response) -> set[str]:
    return {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",")}


@pytest.fixture
def signed_in():
    people = {"end_user": UserFactory(), "support_agent": make_support_agent()}
    people["privacy_admin"] = make_privacy_admin()
    return people


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_route_answers_private_no_store_to_every_signed_in_role(signed_in):
    cached = []
    for role, user in signed_in.items():
        client = _client(user)
        for route in routes():
            path = route_path(route)
            for method in ("GET", "POST"):
                if method == "POST" and route.name in ("logout", "admin:logout"):
                    continue  # signs the client out; checked on its own below
                response = client.generic(method, path)
                if not {"private", "no-store"} <= _directives(response):
                    cached.append(f"{role} {method} {path} {response.status_code}")
    assert cached == []


@pytest.mark.parametrize("path", ["/accounts/logout/", "/admin/logout/"])
def test_signing_out_answers_private_no_store(signed_in, path):
    response = _client(signed_in["end_user"]).post(path)
    assert {"private", "no-store"} <= _directives(response)


@pytest.mark.parametrize(
    "path", ["/api/internal/training-runs/run-x/conversations", "/api/internal/events"]
)
def test_the_ingest_api_answers_private_no_store_to_its_token(db, path):
    response = Client().get(path, headers=TOKEN)
    assert {"private", "no-store"} <= _directives(response)


def test_the_export_keeps_its_own_no_store(signed_in):
    response = _client(signed_in["end_user"]).get("/export/")
    assert {"private", "no-store"} <= _directives(response)


def test_a_public_page_to_an_anonymous_visitor_is_not_marked_private(db):
    response = Client().get("/policy/")
    assert response.status_code == 200
    assert "private" not in _directives(response)
