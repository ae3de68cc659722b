"""Fixtures of the dashboard tests: a signed-in consumer with a small history."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import UserFactory


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@example.com")


@pytest.fixture
def other(db):
    return UserFactory(email="other@example.com")


@pytest.fixture
def owner_client(owner):
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def csrf_client(owner):
    """A client that checks CSRF like a browser would."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    return client


@pytest.fixture
def history(owner, other, add_message, now):
    """Three conversations of the owner, one of another user."""
    add_message(owner, now - timedelta(days=3), conversation="c-old", title="Old trip plans")
    add_message(
        owner,
        now - timedelta(days=2),
        conversation="c-mid",
        title="Recipe ideas",
        kind="coding_session",
    )
    add_message(owner, now - timedelta(days=1), conversation="c-new", title="Tax <b>question</b>")
    add_message(
        other, now - timedelta(days=1), conversation="c-theirs", title="Someone else's secret"
    )
    return ["c-new", "c-mid", "c-old"]
