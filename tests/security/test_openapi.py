"""The published API description (issue "Hardening" 11): /api/openapi.json
is a valid OpenAPI 3.1 document, every route under /api/ appears in it with
every method it serves, and every operation, fuzzed by schemathesis through
the WSGI application, never answers 5xx and answers only what the document
says (status codes, content types, bodies)."""

import re

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate

from privacy_portal.openapi import BEARER, OPERATIONS, SESSION, openapi_document
from tests.factories import UserFactory
from tests.security.helpers import route_path, routes
from tests.support.helpers import seed_account

pytestmark = [pytest.mark.django_db, pytest.mark.security]

TOKEN = "test-ingest-token"
PROBED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def test_the_served_document_is_valid_openapi_3_1(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises on an invalid document
    assert document == openapi_document()


def _document_path(pattern: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", pattern)


def _api_routes():
    return [route for route in routes() if route.pattern.startswith("api/")]


def test_every_route_under_api_is_in_the_document():
    paths = openapi_document()["paths"]
    missing = [_document_path(r.pattern) for r in _api_routes()]
    assert [path for path in missing if path not in paths] == []
    # ... and the document describes no route that does not exist.
    assert sorted(paths) == sorted({_document_path(r.pattern) for r in _api_routes()})


def test_every_method_a_route_serves_is_in_the_document():
    user_client = Client()
    user_client.force_login(UserFactory())
    headers = {"Authorization": f"Bearer {TOKEN}"}
    paths = openapi_document()["paths"]
    undocumented = []
    for route in _api_routes():
        path, documented = route_path(route), paths[_document_path(route.pattern)]
        for method in PROBED_METHODS:
            served = user_client.generic(method, path, headers=headers).status_code != 405
            if served != (method.lower() in documented):
                undocumented.append(f"{method} {path} served={served}")
    assert undocumented == []


def test_adding_an_operation_is_one_entry():
    described = {(op.method, op.path) for op in OPERATIONS}
    document = openapi_document()
    assert described == {
        (method, path) for path, item in document["paths"].items() for method in item
    }


# --- Every operation fuzzed against the document -------------------------------
schema = schemathesis.openapi.from_dict(openapi_document())
CHECKS = [
    schemathesis.checks.not_a_server_error,
    *(
        getattr(schemathesis.specs.openapi.checks, name)
        for name in (
            "status_code_conformance",
            "content_type_conformance",
            "response_schema_conformance",
        )
    ),
]
AUTH = {op.path: op.auth for op in OPERATIONS}


@pytest.fixture
def wsgi_app(credentials, settings):
    # The WSGI transport's client sends its cookies to "localhost" only.
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    # Django's handler closes the connection after each request; in a test
    # that would end the test's transaction (PostgreSQL), so, like the test
    # client, the fuzzed requests run without that. After `credentials`,
    # whose test client reconnects the handler when it is done.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def credentials(db):
    user = UserFactory()
    seed_account(user, conversations=3)
    client = Client()
    client.force_login(user)
    client.get("/consent/")  # the CSRF cookie
    token = client.cookies["csrftoken"].value
    return {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": token},
        "headers": {"X-CSRFToken": token, "Authorization": f"Bearer {TOKEN}"},
    }


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_as_documented(case, wsgi_app, credentials):
    auth = AUTH[case.operation.path]
    headers = dict(credentials["headers"])
    if auth != BEARER:
        headers.pop("Authorization")
    cookies = credentials["cookies"] if auth == SESSION else {}
    case.call_and_validate(
        base_url="http://localhost",
        app=wsgi_app,
        headers=headers,
        cookies=cookies,
        checks=CHECKS,
    )
