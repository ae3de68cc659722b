"""Sign in and out by email and password, password reset by email (also for
accounts the chat service created without a usable password), and the
lockout page after repeated failures."""

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.services import account_upsert
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _clean_axes(db):
    from axes.utils import reset

    reset()


def test_sign_in_with_email_in_any_case_and_sign_out(db):
    UserFactory(email="ada@example.com")
    client = Client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and 'autocomplete="email"' in page.content.decode()
    response = client.post(
        "/accounts/login/", {"username": "Ada@Example.com", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_shows_a_form_error(db):
    UserFactory(email="ada@example.com")
    response = Client().post(
        "/accounts/login/", {"username": "ada@example.com", "password": "nope"}
    )
    assert response.status_code == 200
    assert "Please enter a correct email address and password" in response.content.decode()


def test_sign_in_is_locked_after_repeated_failures_with_a_clear_429_page(db):
    UserFactory(email="ada@example.com")
    client = Client()
    for _ in range(5):
        client.post("/accounts/login/", {"username": "ada@example.com", "password": "wrong"})
    response = client.post(
        "/accounts/login/", {"username": "ada@example.com", "password": PASSWORD}
    )
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many sign-in attempts" in body and "15 minutes" in body
    assert client.get("/").status_code == 302  # not signed in


def test_changing_the_case_of_the_email_does_not_buy_more_attempts(db):
    UserFactory(email="ada@example.com")
    client = Client()
    for variant in (
        "ada@example.com",
        "ADA@example.com",
        "Ada@Example.com",
        "ada@EXAMPLE.com",
        "aDa@example.com",
    ):
        client.post("/accounts/login/", {"username": variant, "password": "wrong"})
    response = client.post(
        "/accounts/login/", {"username": "ADA@EXAMPLE.COM", "password": PASSWORD}
    )
    assert response.status_code == 429


def test_account_created_by_the_chat_service_sets_its_first_password_by_email(
    db, django_capture_on_commit_callbacks
):
    user = account_upsert(
        external_id="acct_9", email="new@example.com", account_type="consumer", plan="free"
    ).user
    assert not user.has_usable_password()
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes out after the commit
        response = client.post("/accounts/password-reset/", {"email": "NEW@example.com"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["new@example.com"]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert "Choose a password" in form_page.content.decode()
    new_password = "a much better passphrase 42"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    user.refresh_from_db()
    assert user.check_password(new_password)
    # The link works once.
    assert "no longer works" in client.get(link, follow=True).content.decode()


def test_password_reset_for_an_unknown_email_reveals_nothing(db):
    response = Client().post("/accounts/password-reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and mail.outbox == []
