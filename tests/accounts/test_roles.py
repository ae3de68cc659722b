"""Roles: the groups the migration creates and the role helpers."""

import pytest
from django.contrib.auth.models import Group

from accounts.roles import (
    PRIVACY_ADMIN_PERMISSIONS,
    PRIVACY_ADMINS,
    SUPPORT_AGENTS,
    StaffRole,
    can_use_console,
    is_privacy_admin,
    is_support_agent,
    role_of,
)
from tests.factories import StaffFactory, UserFactory
from tests.support.helpers import make_privacy_admin, make_support_agent

pytestmark = pytest.mark.django_db


def _perms(group_name):
    return set(
        Group.objects.get(name=group_name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    )


def test_migration_creates_both_groups_with_their_permission_sets():
    assert _perms(PRIVACY_ADMINS) == set(PRIVACY_ADMIN_PERMISSIONS)
    assert _perms(SUPPORT_AGENTS) == {("staff", "use_console")}


def test_privacy_admins_may_delete_nothing_and_never_write_the_ledgers():
    perms = _perms(PRIVACY_ADMINS)
    assert not [codename for _, codename in perms if codename.startswith("delete_")]
    for model in ("consentchange", "deletionreceipt", "accesslog", "policysettingchange"):
        assert not {f"add_{model}", f"change_{model}"} & {codename for _, codename in perms}
    assert ("retention", "add_legalhold") in perms
    assert ("retention", "change_policysettings") in perms


def test_privacy_admin_is_staff_and_has_its_permissions():
    admin = make_privacy_admin()
    assert admin.is_staff
    assert is_privacy_admin(admin) and not is_support_agent(admin) and can_use_console(admin)
    assert admin.has_perm("retention.add_legalhold")
    assert not admin.has_perm("retention.delete_conversation")
    assert role_of(admin) == StaffRole.PRIVACY_ADMIN


def test_support_agent_is_not_staff_and_only_uses_the_console():
    agent = make_support_agent()
    assert not agent.is_staff
    assert is_support_agent(agent) and not is_privacy_admin(agent) and can_use_console(agent)
    assert agent.get_all_permissions() == {"staff.use_console"}
    assert role_of(agent) == StaffRole.SUPPORT_AGENT


def test_superuser_counts_as_privacy_admin():
    root = StaffFactory(is_superuser=True)
    assert is_privacy_admin(root) and role_of(root) == StaffRole.PRIVACY_ADMIN


def test_end_user_and_inactive_staff_have_no_role():
    user = UserFactory()
    assert not can_use_console(user)
    assert role_of(user) == StaffRole.END_USER
    agent = make_support_agent(is_active=False)
    assert not can_use_console(agent)
