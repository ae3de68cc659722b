"""Accounts (issue "Hardening" 7): the password-reset page does the same
work for a known and an unknown address (nothing sent inside the request,
one task queued after the commit either way, with plain values), and the
sign-in lockout keys on the address and email together, read through the
trusted reverse proxies, so one client cannot lock another out and a lockout
never blocks the right password from another client."""

import pytest
from django.core import mail
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts import views
from accounts.tasks import password_reset_mail
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.security]

PASSWORD = "correct horse battery staple"  # tests/factories.py
LIMIT = 5


@pytest.fixture(autouse=True)
def _clean_axes(db):
    from axes.utils import reset

    reset()


# --- Password reset: the same work for known and unknown addresses -----------
def _reset_request(email: str, capture) -> tuple[object, list, int]:
    client = Client()
    with capture(execute=False) as callbacks, CaptureQueriesContext(connection) as queries:
        response = client.post("/accounts/password-reset/", {"email": email})
    return response, callbacks, len(queries)


def test_known_and_unknown_addresses_do_the_same_work_in_the_request(
    django_capture_on_commit_callbacks, monkeypatch
):
    UserFactory(email="ada@example.com")
    queued = []
    monkeypatch.setattr(password_reset_mail, "delay", lambda **kwargs: queued.append(kwargs))

    known, known_callbacks, known_queries = _reset_request(
        "ada@example.com", django_capture_on_commit_callbacks
    )
    unknown, unknown_callbacks, unknown_queries = _reset_request(
        "nobody@example.com", django_capture_on_commit_callbacks
    )

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known.content == unknown.content
    assert mail.outbox == []  # nothing is sent inside the request, either way
    assert known_queries == unknown_queries  # no account is looked up in the request
    assert len(known_callbacks) == len(unknown_callbacks) == 1  # queued after the commit, both
    for callback in (*known_callbacks, *unknown_callbacks):
        callback()
    # The task gets plain values (JSON), never an account.
    assert queued == [
        {"email": "ada@example.com", "domain": "testserver", "use_https": False},
        {"email": "nobody@example.com", "domain": "testserver", "use_https": False},
    ]


def test_the_task_mails_a_known_address_and_nobody_for_an_unknown_one(db):
    UserFactory(email="ada@example.com")
    password_reset_mail.delay(email="nobody@example.com", domain="portal.example", use_https=True)
    assert mail.outbox == []
    password_reset_mail.delay(email="ADA@example.com", domain="portal.example", use_https=True)
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    assert "https://portal.example/accounts/reset/" in mail.outbox[0].body


def test_an_invalid_address_is_refused_by_the_form_and_queues_nothing(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = Client().post("/accounts/password-reset/", {"email": "not an address"})
    assert response.status_code == 200 and callbacks == []


# --- Lockout: username + address, through the trusted proxies -----------------
def _fail(client: Client, email: str = "ada@example.com", times: int = LIMIT) -> None:
    for _ in range(times):
        client.post("/accounts/login/", {"username": email, "password": "wrong"})


def _sign_in(client: Client, email: str = "ada@example.com"):
    return client.post("/accounts/login/", {"username": email, "password": PASSWORD})


def test_a_client_that_failed_five_times_does_not_lock_out_another_address(db):
    UserFactory(email="ada@example.com")
    attacker, owner = Client(REMOTE_ADDR="203.0.113.5"), Client(REMOTE_ADDR="198.51.100.7")
    _fail(attacker)
    assert _sign_in(attacker).status_code == 429  # locked: this email from that address
    response = _sign_in(owner)
    assert response.status_code == 302 and response["Location"] == "/"


def test_behind_proxies_the_lockout_keys_on_the_client_not_the_proxy(db, settings):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    UserFactory(email="ada@example.com")
    proxy = "10.0.0.254"  # every request reaches the portal from the proxy
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    owner = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    _fail(attacker)
    assert _sign_in(attacker).status_code == 429
    assert _sign_in(owner).status_code == 302
    # A forged header: the proxy appends the real address, which is the key.
    forger = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.5")
    assert _sign_in(forger).status_code == 429


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.5", "10.0.0.254"),  # no proxies: the header is the client's, ignored
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # left of the trusted hops: forged
        (2, "203.0.113.5, 10.0.0.9", "203.0.113.5"),
        (2, "203.0.113.5", "10.0.0.254"),  # shorter than the proxy chain: not trusted
        (1, "not-an-address", "10.0.0.254"),
        (1, "", "10.0.0.254"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_is_read_through_the_trusted_proxies(
    settings, count, forwarded, expected
):
    settings.PORTAL_TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR=forwarded)
    assert views.axes_client_ip(request) == expected
