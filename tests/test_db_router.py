"""Reads of the user's pages from a replica, with read-your-writes
(privacy_portal/db_router.py). The replica here is a second alias on the same
test database (TEST MIRROR, tests/settings.py), so which alias answered is
seen by recording each connection's statements."""

import subprocess
import sys
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from privacy_portal import db_router
from retention.models import Conversation
from retention.tasks import enforce_retention
from tests.factories import UserFactory
from tests.ingest.builders import message_added

pytestmark = pytest.mark.django_db(
    transaction=True, serialized_rollback=True, databases=["default", "replica"]
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def router_on(settings):
    settings.DATABASE_ROUTERS = [db_router.ROUTER]
    settings.PORTAL_REPLICA_PRIMARY_SECONDS = 10


class Statements:
    def __init__(self) -> None:
        self.by_alias: dict[str, list[str]] = {"default": [], "replica": []}

    def clear(self) -> None:
        for statements in self.by_alias.values():
            statements.clear()

    @property
    def replica(self) -> list[str]:
        return self.by_alias["replica"]

    @property
    def default(self) -> list[str]:
        return self.by_alias["default"]


@contextmanager
def recorded():
    seen = Statements()
    with (
        connections["default"].execute_wrapper(_recorder(seen, "default")),
        connections["replica"].execute_wrapper(_recorder(seen, "replica")),
    ):
        yield seen


def _recorder(seen: Statements, alias: str):
    def record(execute, sql, params, many, context):
        seen.by_alias[alias].append(sql)
        return execute(sql, params, many, context)

    return record


def _with_conversations(user, add_message, count=2, prefix="c"):
    at = timezone.now() - timedelta(days=1)
    for n in range(count):
        add_message(user, at, conversation=f"{prefix}{n}")


def test_a_users_pages_read_the_replica(router_on, client, add_message):
    user = UserFactory()
    _with_conversations(user, add_message)
    client.force_login(user)
    with recorded() as seen:
        for url in ("/", "/conversations/", "/api/me/conversations"):
            seen.clear()
            response = client.get(url)
            assert response.status_code == 200
            assert any("retention_conversation" in sql for sql in seen.replica), url
            # The session is always read on the primary.
            assert not any("django_session" in sql for sql in seen.replica)
    assert db_router.COOKIE_NAME not in response.cookies


def test_after_a_change_the_same_user_reads_the_primary_and_sees_it(router_on, client, add_message):
    user = UserFactory()
    _with_conversations(user, add_message)
    client.force_login(user)
    response = client.post(
        reverse("dashboard:conversation_delete", args=["c0"]), {"confirm": "yes"}
    )
    assert response.status_code in (200, 302)
    assert db_router.COOKIE_NAME in response.cookies
    with recorded() as seen:
        response = client.get("/conversations/")
    assert response.status_code == 200
    assert seen.replica == []
    assert any("retention_conversation" in sql for sql in seen.default)


def test_another_users_pages_still_read_the_replica(router_on, client, add_message):
    writer, reader = UserFactory(), UserFactory()
    _with_conversations(writer, add_message)
    _with_conversations(reader, add_message, prefix="r")
    client.force_login(writer)
    client.post(reverse("dashboard:conversation_delete", args=["c0"]), {"confirm": "yes"})
    client.logout()
    client.cookies.clear()  # the reader's browser has no cookie of the writer's
    client.force_login(reader)
    with recorded() as seen:
        assert client.get("/conversations/").status_code == 200
    assert any("retention_conversation" in sql for sql in seen.replica)


def test_the_primary_window_ends_and_a_forged_cookie_counts_for_nothing(
    router_on, settings, client, add_message
):
    user = UserFactory()
    _with_conversations(user, add_message)
    client.force_login(user)
    settings.PORTAL_REPLICA_PRIMARY_SECONDS = 0  # the window has passed at once
    client.post(reverse("dashboard:conversation_delete", args=["c0"]), {"confirm": "yes"})
    with recorded() as seen:
        client.get("/conversations/")
    assert seen.replica

    settings.PORTAL_REPLICA_PRIMARY_SECONDS = 10
    client.cookies[db_router.COOKIE_NAME] = "1700000000:forged"
    with recorded() as seen:
        client.get("/conversations/")
    assert seen.replica


def test_a_write_or_a_transaction_keeps_the_rest_on_the_primary(router_on):
    user = UserFactory()
    with recorded() as seen, db_router.replica_reads():
        list(User.objects.filter(pk=user.pk))
        assert len(seen.replica) == 1
        with transaction.atomic():
            list(User.objects.filter(pk=user.pk))
        assert len(seen.replica) == 1
        User.objects.filter(pk=user.pk).update(plan="pro")
        list(User.objects.filter(pk=user.pk))
        assert len(seen.replica) == 1


def test_admin_ingest_and_the_purge_never_read_the_replica(router_on, client, add_message):
    staff = UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory(external_id="acct-1")
    _with_conversations(user, add_message)
    Conversation.objects.filter(user=user).update(
        deleted_at=timezone.now() - timedelta(days=60),
        retain_until=timezone.now() - timedelta(days=1),
    )
    client.force_login(staff)
    with recorded() as seen:
        for url in ("/admin/", "/admin/accounts/user/", "/support/"):
            client.get(url)
        client.post(
            "/api/internal/events",
            {"events": [message_added("2026-01-01T00:00:00Z", account="acct-1")]},
            content_type="application/json",
            headers={"Authorization": "Bearer test-ingest-token"},
        )
        client.get("/api/internal/changes", headers={"Authorization": "Bearer test-ingest-token"})
        # The purge as Celery runs it, and even inside a request that may read
        # the replica (an eager task), and as the management command.
        enforce_retention.apply()
        with db_router.replica_reads():
            enforce_retention.apply()
        call_command("enforce_retention", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert seen.default
    assert seen.replica == []


def test_without_a_replica_url_there_is_one_database(tmp_path):
    code = (
        "from django.conf import settings; from django.db import connections;"
        "print(sorted(settings.DATABASES), settings.DATABASE_ROUTERS)"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "privacy_portal.settings",
        "SECRET_KEY": "x",
        "PORTAL_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "['default'] []"
    with_replica = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
        cwd=ROOT,
        env={**env, "DATABASE_REPLICA_URL": "postgres://reader@replica.example:5432/portal"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert with_replica.stdout.strip().splitlines()[-1] == (
        "['default', 'replica'] ['privacy_portal.db_router.ReplicaRouter']"
    )
