"""Hardening 3: the append-only access log cannot be flooded. Refusals by one
requester on one route are one row per window (PORTAL_DENIAL_WINDOW_MINUTES)
with a count; a long query string cannot bloat a row."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from staff.models import AccessLog, DeniedAccessWindow, Outcome
from staff.services import MAX_TEXT, access_denied_record
from tests.factories import UserFactory

pytestmark = [pytest.mark.security, pytest.mark.django_db]


def _denied():
    return list(AccessLog.objects.filter(outcome=Outcome.DENIED).order_by("id"))


def test_repeated_refusals_on_one_route_are_one_row_with_their_count(client):
    user = UserFactory()
    client.force_login(user)
    # Different objects and made-up paths match the same admin routes.
    for n in range(30):
        assert client.get(f"/admin/retention/message/{n}/change/").status_code == 403
    for n in range(20):
        assert client.get(f"/admin/no-such-page-{n}/?x={'y' * 5000}").status_code == 403
    rows = _denied()
    assert len(rows) == 2
    assert [row.denials.count for row in rows] == [30, 20]
    assert rows[0].path == "/admin/retention/message/0/change/"
    assert all(row.staff == user for row in rows)


def test_each_route_and_each_requester_has_its_own_row(client):
    first, second = UserFactory(), UserFactory()
    for user in (first, second):
        client.force_login(user)
        client.get("/admin/")
        client.get("/admin/")
        client.get("/support/")
    assert [(row.staff, row.path, row.denials.count) for row in _denied()] == [
        (first, "/admin/", 2),
        (first, "/support/", 1),
        (second, "/admin/", 2),
        (second, "/support/", 1),
    ]


@override_settings(PORTAL_DENIAL_WINDOW_MINUTES=10)
def test_a_new_window_starts_a_new_row(client):
    client.force_login(UserFactory())
    client.get("/admin/")
    client.get("/admin/")
    later = timezone.now() + timedelta(minutes=11)
    with mock.patch("staff.services.timezone.now", return_value=later):
        client.get("/admin/")
    assert [row.denials.count for row in _denied()] == [2, 1]


def test_anonymous_clients_are_counted_by_address():
    for client_address in ("198.51.100.7", "198.51.100.7", "198.51.100.7", "203.0.113.9"):
        access_denied_record(staff=None, path="/x/", route="x/", client=client_address)
    assert [row.denials.count for row in _denied()] == [3, 1]
    assert DeniedAccessWindow.objects.count() == 2


def test_a_long_query_string_is_not_kept_and_the_path_is():
    row = access_denied_record(staff=None, path="/admin/?" + "q=" * 100_000, route="admin/")
    assert len(row.path) <= MAX_TEXT
    assert row.path.startswith("/admin/?[query string of 200000 characters")
    long_path = "/admin/" + "a" * 2000
    assert access_denied_record(staff=None, path=long_path).path == long_path[:MAX_TEXT]


def test_the_log_stays_append_only_while_counting(client):
    client.force_login(UserFactory())
    for _ in range(3):
        client.get("/admin/")
    row = AccessLog.objects.get()
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("UPDATE support_accesslog SET reason = 'x' WHERE id = %s", [row.pk])
