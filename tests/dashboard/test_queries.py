"""The dashboard costs the same number of SQL queries for a user with 10
conversations as for one with 10,000: lists are keyset pages, counts one
aggregate, nothing is loaded per row."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from retention.models import Conversation, Rule
from retention.services.deadlines import refresh_conversation_deadlines
from tests.factories import UserFactory


def make_history(user, n: int) -> None:
    now = timezone.now()
    Conversation.objects.bulk_create(
        (
            Conversation(
                user=user,
                external_id=f"{user.pk}-c{i}",
                kind="chat" if i % 3 else "coding_session",
                title=f"Conversation {i}",
                created_at=now - timedelta(minutes=i + 1),
                last_activity_at=now - timedelta(minutes=i),
                shared_for_training=i % 2 == 0,
                flagged_at=now if i % 50 == 0 else None,
                deleted_at=now if i % 97 == 0 else None,
                rule=Rule.NOT_SHARED,
                public_rule=Rule.NOT_SHARED,
            )
            for i in range(n)
        ),
        batch_size=2000,
    )
    refresh_conversation_deadlines(Conversation.objects.filter(user=user))


def queries_for(user, path: str) -> int:
    client = Client()
    client.force_login(user)
    client.get(path)  # warm: the session's first read is not what we measure
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def small_and_large(db):
    small, large = UserFactory(), UserFactory()
    make_history(small, 10)
    make_history(large, 10_000)
    return small, large


def test_overview_and_list_issue_the_same_queries_for_10_and_10000_conversations(small_and_large):
    small, large = small_and_large
    assert Conversation.objects.filter(user=large).count() == 10_000
    for path in (
        "/",
        "/conversations/",
        "/conversations/?rule=shared_training",
        "/conversations/?kind=coding_session&q=Conversation",
        "/deleted/",
        "/api/me/conversations",
    ):
        assert queries_for(small, path) == queries_for(large, path), path


def test_a_later_page_costs_the_same_queries_as_the_first(small_and_large):
    _, large = small_and_large
    client = Client()
    client.force_login(large)
    cursor = client.get("/api/me/conversations").json()["next"]
    for _ in range(5):
        cursor = client.get("/api/me/conversations", {"cursor": cursor}).json()["next"]
    assert queries_for(large, f"/conversations/?cursor={cursor}") == queries_for(
        large, "/conversations/"
    )
