"""Hardening 2: a reason is words. Spaces, zero-width, control and format
characters are not a reason anywhere staff give one (console lookup, admin
content reveal, legal-hold actions): a form error, never stored."""

import pytest
from django.test import override_settings

from retention.models import Conversation, LegalHold
from retention.services.holds import legal_hold_place
from staff.models import AccessLog, Outcome
from staff.reasons import reason_problem, visible_characters
from tests.factories import UserFactory
from tests.support.helpers import (
    SECRET_CONTENT,
    make_privacy_admin,
    make_support_agent,
    seed_account,
)

pytestmark = pytest.mark.security

INVISIBLE_REASONS = [
    "",
    "   ",
    "\u200b\u200b\u200b\u200b",  # zero-width spaces (Cf)
    "\u200d\u2060\ufeff\u200e\u202e",  # joiner, word joiner, BOM, direction marks (Cf)
    "\x01\x02\x03\x7f",  # controls (Cc)
    "\u00a0\u2003\u3000\u2028\u2029",  # no-break, em, ideographic space, separators (Z*)
    "a\u200b\u200bb",  # two visible characters padded with invisible ones
    " \t\n x \u200b y ",
]


@pytest.mark.parametrize("text", INVISIBLE_REASONS)
def test_an_invisible_reason_is_no_reason(text):
    assert reason_problem(text) is not None


@pytest.mark.parametrize("text", ["T-1", "Legal case 12", "Tiket\u200b 42", "件名一二三"])
def test_three_visible_characters_are_a_reason(text):
    assert reason_problem(text) is None


def test_visible_characters_drop_what_the_page_would_not_show():
    assert visible_characters("\u200ba b\u00a0c\x00\u202e") == "abc"


def test_a_ticket_pattern_from_the_settings_is_required_when_set():
    assert reason_problem("because", pattern=r"\bT-\d+\b") is not None
    assert reason_problem("see T-12", pattern=r"\bT-\d+\b") is None


@pytest.mark.django_db
@pytest.mark.parametrize("reason", INVISIBLE_REASONS)
def test_console_lookup_refuses_an_invisible_reason(client, reason):
    owner = UserFactory()
    client.force_login(make_support_agent())
    response = client.post(
        "/support/lookup/", {"kind": "account", "value": owner.external_id, "reason": reason}
    )
    assert response.status_code == 200  # the form again, with its error
    assert not AccessLog.objects.filter(outcome=Outcome.GRANTED).exists()
    assert not AccessLog.objects.exclude(reason="").exists()


@pytest.mark.django_db
@override_settings(PORTAL_REASON_PATTERN=r"\bT-\d+\b")
def test_console_lookup_needs_the_ticket_pattern_when_set(client):
    owner = UserFactory()
    client.force_login(make_support_agent())
    post = {"kind": "account", "value": owner.external_id}
    assert client.post("/support/lookup/", {**post, "reason": "curious"}).status_code == 200
    assert not AccessLog.objects.filter(outcome=Outcome.GRANTED).exists()
    assert client.post("/support/lookup/", {**post, "reason": "T-77 refund"}).status_code == 302
    assert AccessLog.objects.get(outcome=Outcome.GRANTED).reason == "T-77 refund"


@pytest.mark.django_db
@pytest.mark.parametrize("reason", INVISIBLE_REASONS)
def test_admin_content_reveal_refuses_an_invisible_reason(client, reason):
    owner = UserFactory()
    seed_account(owner)
    message = Conversation.objects.get(user=owner).messages.get()
    client.force_login(make_privacy_admin())
    url = f"/admin/retention/message/{message.pk}/change/"
    response = client.post(url, {"_reveal": "1", "reason": reason})
    assert response.status_code == 302
    assert SECRET_CONTENT.encode() not in client.get(response["Location"]).content
    assert not AccessLog.objects.filter(outcome=Outcome.GRANTED).exists()
    assert not AccessLog.objects.exclude(reason="").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("reason", INVISIBLE_REASONS)
def test_legal_hold_actions_refuse_an_invisible_reason(client, reason):
    owner = UserFactory()
    seed_account(owner)
    conversation = Conversation.objects.get(user=owner)
    released = legal_hold_place(user=owner, reason="Case T-1", placed_by=None)
    client.force_login(make_privacy_admin())
    for path, action, pk in (
        ("/admin/accounts/user/", "place_account_hold", owner.pk),
        ("/admin/retention/conversation/", "place_conversation_hold", conversation.pk),
        ("/admin/retention/legalhold/", "release_holds", released.pk),
    ):
        response = client.post(
            path, {"action": action, "_selected_action": [pk], "apply": "1", "reason": reason}
        )
        assert response.status_code == 200, action  # the reason page again
        assert b"errorlist" in response.content, action
    assert list(LegalHold.objects.values_list("pk", "released_at")) == [(released.pk, None)]
