"""Fixtures for the internal API: a client that sends the bearer token."""

import json

import pytest

TOKEN = "test-ingest-token"  # tests/settings.py


class Api:
    def __init__(self, client):
        self.client = client

    def post(self, path: str, payload, *, token: str | None = TOKEN, raw: bytes | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        body = raw if raw is not None else json.dumps(payload)
        return self.client.post(
            f"/api/internal/{path}", body, content_type="application/json", headers=headers
        )

    def events(self, events: list[dict], **kwargs):
        return self.post("events", {"events": events}, **kwargs)

    def get(self, path: str, *, token: str | None = TOKEN, **params):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.client.get(f"/api/internal/{path}", params, headers=headers)


@pytest.fixture
def api(client, db):
    return Api(client)
