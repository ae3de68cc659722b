"""Legal-hold admin actions: a reason is required, the services recompute the
deadlines of what the hold covers."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.utils import timezone

from retention.models import Conversation, LegalHold, Rule
from tests.factories import StaffFactory, UserFactory
from tests.support.helpers import seed_account

pytestmark = pytest.mark.django_db


def _act(client, path, action, ids, **data):
    return client.post(path, {"action": action, "_selected_action": ids, **data})


@pytest.fixture
def owner(db):
    user = UserFactory()
    seed_account(user, conversations=2)
    # Make the content overdue: last activity 40 days ago, not shared (30 days).
    old = timezone.now() - timedelta(days=40)
    Conversation.objects.filter(user=user).update(last_activity_at=old, created_at=old)
    from retention.services.deadlines import refresh_account_deadlines

    refresh_account_deadlines(user.pk)
    return user


def test_placing_an_account_hold_asks_for_a_reason_first(admin_client, owner):
    page = _act(admin_client, "/admin/accounts/user/", "place_account_hold", [owner.pk])
    assert page.status_code == 200
    assert b"Place a legal hold on these accounts" in page.content
    missing = _act(
        admin_client,
        "/admin/accounts/user/",
        "place_account_hold",
        [owner.pk],
        apply="1",
        reason=" ",
    )
    assert missing.status_code == 200
    assert b"This field is required" in missing.content
    assert not LegalHold.objects.exists()


def test_account_hold_blocks_the_purge_and_release_makes_overdue_content_due(
    admin_client, owner, privacy_admin
):
    assert all(c.retain_until < timezone.now() for c in Conversation.objects.filter(user=owner))
    response = _act(
        admin_client,
        "/admin/accounts/user/",
        "place_account_hold",
        [owner.pk],
        apply="1",
        reason="Litigation 2026-14",
    )
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert (hold.user, hold.scope, hold.reason, hold.placed_by) == (
        owner,
        LegalHold.Scope.ACCOUNT,
        "Litigation 2026-14",
        privacy_admin,
    )
    held = Conversation.objects.filter(user=owner)
    # Purge blocked: the purge only takes rows whose retain_until has passed.
    assert {(c.rule, c.retain_until) for c in held} == {(Rule.LEGAL_HOLD, None)}
    assert not Conversation.objects.filter(retain_until__lt=timezone.now()).exists()
    # The user is never told: the public decision is unchanged.
    assert {c.public_rule for c in held} == {Rule.NOT_SHARED}

    response = _act(
        admin_client,
        "/admin/retention/legalhold/",
        "release_holds",
        [hold.pk],
        apply="1",
        reason="Case closed",
    )
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.released_at is not None and hold.released_by == privacy_admin
    released = Conversation.objects.filter(user=owner)
    assert {c.rule for c in released} == {Rule.NOT_SHARED}
    assert all(c.retain_until < timezone.now() for c in released)  # overdue: next run purges
    assert LogEntry.objects.filter(change_message__contains="Case closed").exists()


def test_conversation_hold_covers_only_that_conversation(admin_client, owner):
    first, second = Conversation.objects.filter(user=owner).order_by("pk")
    response = _act(
        admin_client,
        "/admin/retention/conversation/",
        "place_conversation_hold",
        [first.pk],
        apply="1",
        reason="Preservation request",
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.rule, first.retain_until) == (Rule.LEGAL_HOLD, None)
    assert second.rule == Rule.NOT_SHARED and second.retain_until is not None
    hold = LegalHold.objects.get()
    assert (hold.scope, hold.conversation_external_id) == (
        LegalHold.Scope.CONVERSATION,
        first.external_id,
    )


def test_releasing_twice_is_reported_not_a_500(admin_client, owner):
    from retention.services.holds import legal_hold_place, legal_hold_release

    hold = legal_hold_place(user=owner, reason="x y z", placed_by=None)
    legal_hold_release(hold=hold, released_by=None)
    response = _act(
        admin_client,
        "/admin/retention/legalhold/",
        "release_holds",
        [hold.pk],
        apply="1",
        reason="again",
    )
    assert response.status_code == 302
    page = admin_client.get(response["Location"])
    assert b"already released" in page.content


def test_hold_actions_need_the_hold_permission(client, owner):
    viewer = StaffFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)
    page = client.get("/admin/accounts/user/")
    assert page.status_code == 200
    assert b"place_account_hold" not in page.content
    _act(client, "/admin/accounts/user/", "place_account_hold", [owner.pk], apply="1", reason="abc")
    assert not LegalHold.objects.exists()
