"""The conversation pages cost the same SQL queries at 10 and at 10,000
conversations: the list, a search over titles and messages, a later and an
earlier page, one conversation with its messages, and every confirmation."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from retention.models import Conversation, Message
from tests.dashboard.test_queries import make_history, queries_for
from tests.factories import UserFactory


def add_messages(user) -> None:
    conversations = Conversation.objects.filter(user=user).order_by("pk")[:60]
    Message.objects.bulk_create(
        Message(
            conversation=c,
            external_id=f"{c.external_id}-m{j}",
            role="user" if j % 2 == 0 else "assistant",
            content=f"about tax number {j}",
            sent_at=c.last_activity_at,
        )
        for c in conversations
        for j in range(3)
    )


@pytest.fixture
def small_and_large(db):
    small, large = UserFactory(), UserFactory()
    make_history(small, 10)
    make_history(large, 10_000)
    add_messages(small)
    add_messages(large)
    return small, large


def posted_queries(user, path: str, data: dict, **headers) -> int:
    client = Client()
    client.force_login(user)
    client.get("/conversations/")
    with CaptureQueriesContext(connection) as captured:
        response = client.post(path, data, **headers)
    assert response.status_code == 200, response.content[:500]
    return len(captured)


def test_list_search_pages_and_detail_cost_the_same_at_10_and_10000(small_and_large):
    small, large = small_and_large
    for path in (
        "/conversations/",
        "/conversations/?q=tax",
        "/conversations/?q=Conversation+1",
        "/conversations/?q=zzz-no-match",
        "/conversations/?q=tax&kind=chat&rule=not_shared",
    ):
        assert queries_for(small, path) == queries_for(large, path), path
    for user in (small, large):
        first = Conversation.objects.filter(user=user, external_id=f"{user.pk}-c1").get()
        assert first.messages.exists()
    assert queries_for(small, f"/conversations/{small.pk}-c1/") == queries_for(
        large, f"/conversations/{large.pk}-c1/"
    )


def test_a_later_and_an_earlier_page_cost_what_the_first_costs(small_and_large):
    _, large = small_and_large
    client = Client()
    client.force_login(large)
    body = client.get("/conversations/").content.decode()
    cursor = body.split("cursor=")[1].split('"')[0]
    later = client.get(f"/conversations/?cursor={cursor}").content.decode()
    before = later.split("before=")[1].split('"')[0]
    first = queries_for(large, "/conversations/")
    assert queries_for(large, f"/conversations/?cursor={cursor}") == first
    assert queries_for(large, f"/conversations/?before={before}") == first


def test_every_confirmation_costs_the_same_at_10_and_10000(small_and_large):
    small, large = small_and_large
    htmx = {"HTTP_HX_REQUEST": "true"}
    for headers in ({}, htmx):
        assert posted_queries(small, "/delete/all/", {"confirmation": "delete all"}, **headers) == (
            posted_queries(large, "/delete/all/", {"confirmation": "delete all"}, **headers)
        )
        sizes = [
            posted_queries(u, "/delete/selected/", {"all_matching": "yes", "q": "tax"}, **headers)
            for u in (small, large)
        ]
        assert sizes[0] == sizes[1]
        sizes = [
            posted_queries(u, f"/conversations/{u.pk}-c1/delete/", {}, **headers)
            for u in (small, large)
        ]
        assert sizes[0] == sizes[1]
