"""Sessions: a session id planted before sign-in is not the one after it,
signing out kills the server-side session (a copied cookie stops working),
and setting a new password (reset link, or a privacy admin's password change)
signs out every other session of the account.

Sign-in goes through the real login form (django-axes and all), not
force_login, so these prove what a browser gets."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.sessions import SessionStore
from tests.factories import UserFactory
from tests.support.helpers import make_privacy_admin

pytestmark = [pytest.mark.django_db, pytest.mark.security]

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
NEW_PASSWORD = "a much better passphrase 42"
COOKIE = settings.SESSION_COOKIE_NAME


def _sign_in(client: Client, user) -> str:
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302, "sign-in failed"
    return client.cookies[COOKIE].value


def _client_with_cookie(session_key: str) -> Client:
    """Someone else's browser carrying a copied session cookie."""
    client = Client()
    client.cookies[COOKIE] = session_key
    return client


def _signed_in(client: Client) -> bool:
    return client.get(reverse("dashboard:overview")).status_code == 200


def test_a_session_id_planted_before_sign_in_is_replaced_and_dies(db):
    user = UserFactory()
    planted = SessionStore()
    planted["planted_by"] = "attacker"
    planted.create()
    victim = _client_with_cookie(planted.session_key)
    assert victim.get(reverse("login")).status_code == 200  # the planted session is in use

    after = _sign_in(victim, user)

    assert after != planted.session_key
    assert not SessionStore().exists(planted.session_key)  # gone from the server
    assert _signed_in(victim)
    assert not _signed_in(_client_with_cookie(planted.session_key))


def test_signing_out_ends_the_session_on_the_server(db):
    user = UserFactory()
    client = Client()
    key = _sign_in(client, user)
    thief = _client_with_cookie(key)
    assert _signed_in(thief)  # a stolen cookie works while the session lives ...

    assert client.post(reverse("logout")).status_code == 302

    assert not SessionStore().exists(key)
    assert not _signed_in(thief)  # ... and not after sign-out
    assert not _signed_in(client)


def test_a_password_reset_signs_out_every_existing_session(db, django_capture_on_commit_callbacks):
    user = UserFactory()
    laptop, phone = Client(), Client()
    _sign_in(laptop, user)
    stolen = _sign_in(phone, user)
    resetter = Client()
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes out after the commit
        assert resetter.post(reverse("password_reset"), {"email": user.email}).status_code == 302
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form = resetter.get(link, follow=True)
    done = resetter.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302

    assert not _signed_in(laptop)
    assert not _signed_in(phone)
    assert not _signed_in(_client_with_cookie(stolen))
    assert not _signed_in(resetter)  # the reset link does not sign anyone in


def test_a_privacy_admins_password_change_keeps_this_session_on_a_new_key_and_ends_the_others(db):
    privacy_admin = make_privacy_admin()
    desk, other = Client(), Client()
    before = _sign_in(desk, privacy_admin)
    _sign_in(other, privacy_admin)

    response = desk.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert desk.cookies[COOKIE].value != before  # rotated
    assert not SessionStore().exists(before)
    assert desk.get(reverse("admin:index")).status_code == 200
    assert other.get(reverse("admin:index")).status_code == 302  # to the admin login
