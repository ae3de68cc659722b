"""The delete-my-account page (and its preview without confirm), the
preferences page and the sign-out page cost the same number of SQL queries
for a user with 10 conversations as for one with 10,000."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from retention.models import Conversation
from tests.dashboard.test_queries import make_history, small_and_large  # noqa: F401


def queries_for(user, method: str, path: str, data: dict | None = None) -> int:
    client = Client()
    client.force_login(user)
    client.get("/")  # warm: the session's first read is not what we measure
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(path, data or {})
    assert response.status_code == 200, (path, response.status_code)
    return len(captured)


def test_account_preferences_and_sign_out_pages_issue_the_same_queries_for_10_and_10000(
    small_and_large,  # noqa: F811
):
    small, large = small_and_large
    assert Conversation.objects.filter(user=large).count() == 10_000
    for method, path, data in (
        ("get", "/account/delete/", None),
        ("post", "/account/delete/", {"email": "x"}),  # no confirm: the page again
        ("get", "/preferences/", None),
        ("get", "/accounts/logout/", None),
    ):
        assert queries_for(small, method, path, data) == queries_for(large, method, path, data), (
            method,
            path,
        )
