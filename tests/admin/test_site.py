"""The portal admin site: who gets in, and the logged 403 for everyone else."""

import pytest

from accounts.roles import StaffRole
from staff.models import AccessLog, DataKind, Outcome
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_gets_the_admin_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get("/admin/login/").status_code == 200
    assert not AccessLog.objects.exists()


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/admin/retention/conversation/"])
def test_support_agent_gets_a_logged_403(client, agent, path):
    client.force_login(agent)
    response = client.get(path)
    assert response.status_code == 403
    assert b"Django admin is for privacy admins only" in response.content
    row = AccessLog.objects.get()
    assert (row.outcome, row.role, row.staff, row.data_kind, row.path) == (
        Outcome.DENIED,
        StaffRole.SUPPORT_AGENT,
        agent,
        DataKind.NONE,
        path,
    )


def test_end_user_gets_a_logged_403(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/admin/").status_code == 403
    assert AccessLog.objects.get().role == StaffRole.END_USER


def test_admin_logout_keeps_djangos_answer_for_non_staff(client, agent):
    client.force_login(agent)
    response = client.post("/admin/logout/")
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert not AccessLog.objects.exists()


def test_privacy_admin_sees_the_index_with_every_portal_model(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    for name in (b"Conversations", b"Legal holds", b"Access logs", b"Policy settings"):
        assert name in response.content
