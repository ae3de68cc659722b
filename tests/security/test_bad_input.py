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
