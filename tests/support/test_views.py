"""The support console: who gets in, what a lookup logs, what a page shows."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from accounts.roles import StaffRole
from retention.services.holds import legal_hold_place
from staff.models import AccessLog, DataKind, Outcome
from staff.selectors import access_log_for_user
from tests.factories import UserFactory
from tests.support.helpers import (
    SECRET_COMMENT,
    SECRET_CONTENT,
    SECRET_EXCERPT,
    SECRET_TITLE,
    seed_account,
    seed_receipt,
)

pytestmark = pytest.mark.django_db
LOOKUP = "/support/lookup/"


def _lookup(client, *, kind="email", value, reason="TICKET-123", **extra):
    return client.post(LOOKUP, {"kind": kind, "value": value, "reason": reason}, **extra)


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get("/support/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/support/")
    assert not AccessLog.objects.exists()


def test_end_user_gets_a_clear_403_and_the_attempt_is_logged(client):
    user = UserFactory()
    client.force_login(user)
    response = client.get("/support/")
    assert response.status_code == 403
    assert b"support agents and privacy admins only" in response.content
    row = AccessLog.objects.get()
    assert (row.outcome, row.role, row.staff, row.data_kind, row.path) == (
        Outcome.DENIED,
        StaffRole.END_USER,
        user,
        DataKind.NONE,
        "/support/",
    )


def test_lookup_by_email_logs_one_granted_row_and_opens_the_account(client, agent):
    owner = UserFactory(email="owner@example.com")
    seed_account(owner)
    client.force_login(agent)
    response = _lookup(client, value="Owner@Example.com", reason="  TICKET-123 ")
    row = AccessLog.objects.get()
    assert (row.outcome, row.role, row.staff, row.account, row.reason, row.data_kind) == (
        Outcome.GRANTED,
        StaffRole.SUPPORT_AGENT,
        agent,
        owner,
        "TICKET-123",
        DataKind.METADATA,
    )
    assert response.status_code == 302
    assert response["Location"] == f"/support/accounts/{owner.pk}/?access={row.pk}"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert owner.external_id.encode() in page.content
    assert AccessLog.objects.count() == 1  # opening the page logs nothing more


def test_each_lookup_adds_exactly_one_row_the_user_can_see(client, agent, privacy_admin):
    owner = UserFactory()
    seed_account(owner, conversations=2)
    client.force_login(agent)
    _lookup(client, kind="account", value=owner.external_id, reason="TICKET-1")
    assert [e.reason for e in access_log_for_user(owner)] == ["TICKET-1"]
    client.force_login(privacy_admin)
    _lookup(client, kind="conversation", value=f"conv-{owner.pk}-1", reason="LEGAL-7")
    entries = access_log_for_user(owner)
    assert [(e.role_label, e.reason) for e in entries] == [
        ("Privacy admin", "LEGAL-7"),
        ("Support agent", "TICKET-1"),
    ]
    assert all(not hasattr(e, "staff") for e in entries)  # never the staff member


def test_access_log_for_user_leaves_out_denied_rows_and_other_accounts(client, agent):
    owner, other = UserFactory(), UserFactory()
    client.force_login(agent)
    _lookup(client, kind="account", value=other.external_id)
    client.get(f"/support/accounts/{owner.pk}/")  # no grant: denied
    assert access_log_for_user(owner) == []


def test_lookup_without_a_reason_is_a_form_error_and_logged_as_denied(client, agent):
    owner = UserFactory()
    client.force_login(agent)
    response = _lookup(client, value=owner.email, reason="")
    assert response.status_code == 200
    assert b"Give a reason" in response.content
    row = AccessLog.objects.get()
    assert (row.outcome, row.account, row.data_kind) == (Outcome.DENIED, None, DataKind.NONE)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("email", "not-an-email", b"not a valid email address"),
        ("account", "acct 1; DROP TABLE", b"not a valid id"),
        ("conversation", "x" * 200, b"not a valid id"),
        ("email", "a" * 300 + "@example.com", b"Ensure this value has at most 254"),
        ("nonsense", "acct_1", b"Select a valid choice"),
    ],
)
def test_malformed_lookups_are_form_errors(client, agent, kind, value, message):
    client.force_login(agent)
    response = _lookup(client, kind=kind, value=value)
    assert response.status_code == 200
    assert message in response.content
    assert not AccessLog.objects.filter(outcome=Outcome.GRANTED).exists()


def test_unknown_account_says_no_account_found(client, agent):
    client.force_login(agent)
    response = _lookup(client, value="nobody@example.com")
    assert response.status_code == 200
    assert b"No account found." in response.content
    row = AccessLog.objects.get()
    assert (row.account, row.data_kind, row.reason) == (None, DataKind.NONE, "TICKET-123")


def test_staff_accounts_cannot_be_looked_up(client, agent, privacy_admin):
    client.force_login(agent)
    response = _lookup(client, value=privacy_admin.email)
    assert b"No account found." in response.content


def test_conversation_id_of_a_purged_conversation_finds_its_account(client, agent):
    owner = UserFactory()
    seed_receipt(owner, sequence=1, conversation_external_id="gone-1")
    client.force_login(agent)
    response = _lookup(client, kind="conversation", value="gone-1")
    assert response.status_code == 302
    assert AccessLog.objects.get().account == owner


def test_account_page_needs_a_grant_of_the_same_agent_for_the_same_account(client, agent):
    owner, other = UserFactory(), UserFactory()
    client.force_login(agent)
    _lookup(client, kind="account", value=other.external_id)
    grant = AccessLog.objects.get()
    for url in (
        f"/support/accounts/{owner.pk}/",
        f"/support/accounts/{owner.pk}/?access={grant.pk}",
        f"/support/accounts/{owner.pk}/?access=abc",
    ):
        response = client.get(url)
        assert response.status_code == 403
        assert b"Look the account up with a reason first" in response.content
    # One route, one window: one row counting the three refusals.
    assert AccessLog.objects.get(outcome=Outcome.DENIED).denials.count == 3


def test_a_grant_expires(client, agent):
    owner = UserFactory()
    client.force_login(agent)
    _lookup(client, kind="account", value=owner.external_id)
    grant = AccessLog.objects.get()
    url = f"/support/accounts/{owner.pk}/?access={grant.pk}"
    assert client.get(url).status_code == 200
    later = timezone.now() + timedelta(hours=2)
    with mock.patch("staff.selectors.timezone.now", return_value=later):
        assert client.get(url).status_code == 403


def test_console_pages_never_show_content_titles_or_feedback_text(client, agent):
    owner = UserFactory()
    conversations = seed_account(owner, conversations=3)
    legal_hold_place(user=owner, reason="Case 9", placed_by=None, conversation=conversations[0])
    seed_receipt(owner, sequence=1, conversation_external_id="gone-1")
    client.force_login(agent)
    pages = [client.get("/support/")]
    lookup = _lookup(client, kind="account", value=owner.external_id)
    pages.append(client.get(lookup["Location"]))
    pages.append(client.get(lookup["Location"] + "&before=999999999", HTTP_HX_REQUEST="true"))
    pages.append(_lookup(client, value="nobody@example.com"))
    for page in pages:
        assert page.status_code == 200
        for secret in (SECRET_CONTENT, SECRET_TITLE, SECRET_COMMENT, SECRET_EXCERPT):
            assert secret.encode() not in page.content
    account_page = pages[1].content.decode()
    assert f"conv-{owner.pk}-0" in account_page
    assert "gone-1" in account_page
    assert "Legal hold" in account_page  # staff see holds
    assert "Bug report" in account_page


def test_conversations_are_paged_by_keyset(client, agent):
    from support.selectors import CONVERSATIONS_PAGE_SIZE, account_conversations_page

    owner = UserFactory()
    seed_account(owner, conversations=CONVERSATIONS_PAGE_SIZE + 5)
    first = account_conversations_page(user_id=owner.pk)
    assert len(first.rows) == CONVERSATIONS_PAGE_SIZE and first.next_before is not None
    second = account_conversations_page(user_id=owner.pk, before=first.next_before)
    assert len(second.rows) == 5 and second.next_before is None
    ids = [r["external_id"] for r in first.rows + second.rows]
    assert len(set(ids)) == CONVERSATIONS_PAGE_SIZE + 5

    client.force_login(agent)
    location = _lookup(client, kind="account", value=owner.external_id)["Location"]
    page = client.get(f"{location}&before={first.next_before}", HTTP_HX_REQUEST="true")
    assert page.status_code == 200
    assert b"<h2>" not in page.content  # the fragment only
    assert page.content.count(b"<tr>") == 5
    assert client.get(f"{location}&before=oops").status_code == 400


def test_agents_change_nothing(client, agent):
    owner = UserFactory()
    client.force_login(agent)
    location = _lookup(client, kind="account", value=owner.external_id)["Location"]
    assert client.post(location).status_code == 405
    assert client.get(LOOKUP).status_code == 405
    assert client.post("/support/").status_code == 405
