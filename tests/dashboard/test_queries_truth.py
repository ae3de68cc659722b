"""The pages issue 11 made explain themselves cost the same number of SQL
queries for 10 conversations as for 10,000: the overview (counts, next
removal), the deleted page (a reason and quote per row), the consent preview
(counts split by rule) and the feedback page."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.dashboard.test_queries import make_history
from tests.factories import UserFactory


def queries_for(user, path: str, data: dict | None = None) -> int:
    client = Client()
    client.force_login(user)

    def ask():
        return client.post(path, data) if data is not None else client.get(path)

    ask()  # warm: the session's first read is not what we measure
    with CaptureQueriesContext(connection) as captured:
        response = ask()
    assert response.status_code == 200
    return len(captured)


@pytest.fixture
def small_and_large(db):
    small, large = UserFactory(), UserFactory()
    make_history(small, 10)
    make_history(large, 10_000)
    return small, large


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/", None),
        ("/deleted/", None),
        ("/feedback/", None),
        ("/consent/", None),
        ("/consent/", {"allowed": "true"}),  # the preview of a change
        ("/consent/", {"allowed": "false"}),  # already the setting: says so
    ],
)
def test_truth_pages_issue_the_same_queries_for_10_and_10000_conversations(
    small_and_large, path, data
):
    small, large = small_and_large
    assert queries_for(small, path, data) == queries_for(large, path, data), path
