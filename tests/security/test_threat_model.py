"""What an attacker holding the ingest token can and cannot do (SECURITY.md).

The token is the chat service's identity: whoever holds it speaks for the chat
service. These tests pin down that power, so SECURITY.md states it truly and
a change to it is noticed: it can rewrite an account's email (and so receive
its password-reset mail) and make content due at once by backdating a
deletion; it cannot read any content back, cannot rewrite the consent
ledger or any other ledger, and cannot get past a legal hold.
"""

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import ConsentChange
from accounts.services import account_upsert, consent_record
from retention.models import Conversation, DeletionReceipt, Message
from retention.purge import purge_due
from retention.services.conversations import message_add
from retention.services.holds import legal_hold_place
from staff.models import AccessLog
from tests.security.helpers import database_fingerprint

pytestmark = [pytest.mark.django_db, pytest.mark.security]

TOKEN = {"Authorization": "Bearer test-ingest-token"}
CONTENT = "PRIVATE-CONTENT-7"


def _send(*events: dict):
    return Client().post(
        "/api/internal/events",
        json.dumps({"events": list(events)}),
        content_type="application/json",
        headers=TOKEN,
    )


def _iso(moment) -> str:
    return moment.isoformat()


@pytest.fixture
def account():
    user = account_upsert(
        external_id="acct-t", email="owner@example.com", account_type="consumer", plan="pro"
    ).user
    message_add(
        user=user,
        conversation_external_id="conv-t",
        kind="chat",
        title="private title",
        message_external_id="msg-t",
        role="user",
        content=CONTENT,
        sent_at=timezone.now() - timedelta(days=2),
    )
    return user


def test_the_token_can_rewrite_an_accounts_email_and_so_receive_its_reset_mail(
    account, django_capture_on_commit_callbacks
):
    response = _send(
        {
            "id": "evt-email",
            "type": "account.upserted",
            "at": _iso(timezone.now()),
            "account": {
                "id": "acct-t",
                "email": "attacker@evil.example",
                "type": "consumer",
                "plan": "pro",
            },
        }
    )
    assert response.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # the mail goes out after the commit
        Client().post("/accounts/password-reset/", {"email": "attacker@evil.example"})
    assert [message.to for message in mail.outbox] == [["attacker@evil.example"]]
    assert re.search(r"/accounts/reset/\S+/", mail.outbox[0].body)


def test_a_backdated_deletion_makes_content_due_at_once_and_the_next_purge_removes_it(account):
    backdated = timezone.now() - timedelta(days=40)
    response = _send(
        {
            "id": "evt-del",
            "type": "conversation.deleted",
            "at": _iso(backdated),
            "account": "acct-t",
            "conversation": "conv-t",
        }
    )
    assert response.status_code == 200
    assert Conversation.objects.get(external_id="conv-t").retain_until < timezone.now()
    purge_due()
    assert not Message.objects.filter(content=CONTENT).exists()
    assert DeletionReceipt.objects.filter(conversation_external_id="conv-t").exists()  # with proof


def test_a_legal_hold_stands_against_a_backdated_deletion(account):
    legal_hold_place(user=account, reason="litigation", placed_by=None)
    backdated = timezone.now() - timedelta(days=40)
    response = _send(
        {
            "id": "evt-del",
            "type": "conversation.deleted",
            "at": _iso(backdated),
            "account": "acct-t",
            "conversation": "conv-t",
        }
    )
    assert response.status_code == 200
    assert (
        Conversation.objects.get(external_id="conv-t").retain_until is None
    )  # never purged while held
    purge_due()
    assert Message.objects.filter(content=CONTENT).exists()


def test_the_token_reads_no_content_back(account):
    from retention.models import TrainingRun, TrainingRunConversation

    run = TrainingRun.objects.create(external_id="run-t", name="t", started_at=timezone.now())
    conversation = Conversation.objects.get(external_id="conv-t")
    TrainingRunConversation.objects.create(
        run=run, conversation=conversation, conversation_external_id="conv-t", user=account
    )
    answers = [
        _send(
            {
                "id": "evt-msg",
                "type": "message.added",
                "at": _iso(timezone.now()),
                "account": "acct-t",
                "conversation": {"id": "conv-t", "kind": "chat"},
                "message": {"id": "msg-t", "role": "user", "content": "something else"},  # a clash
            }
        ),
        Client().post(
            "/api/internal/training-runs",
            json.dumps({"id": "run-t", "name": "t", "started_at": _iso(run.started_at)}),
            content_type="application/json",
            headers=TOKEN,
        ),
        Client().get("/api/internal/training-runs/run-t/conversations", headers=TOKEN),
    ]
    assert answers[2].json() == {"conversations": ["conv-t"], "next": None}  # ids only
    for answer in answers:
        body = answer.content.decode()
        assert (
            CONTENT not in body and "private title" not in body and "owner@example.com" not in body
        )


def test_the_token_appends_consent_but_never_rewrites_the_ledger_or_the_access_log(account):
    consent_record(article_version="v-test", user=account, allowed=True, source="dashboard")
    AccessLog.objects.create(
        role="support_agent", data_kind="metadata", account=account, reason="T-1"
    )
    before = database_fingerprint(only_apps=frozenset({"support"}))
    existing = list(
        ConsentChange.objects.order_by("pk").values_list("pk", "allowed", "effective_at", "source")
    )
    response = _send(
        {
            "id": "evt-c1",
            "type": "consent.changed",
            "at": _iso(timezone.now() - timedelta(days=9)),
            "account": "acct-t",
            "allowed": False,
        },
        {
            "id": "evt-c2",
            "type": "consent.changed",
            "at": _iso(timezone.now()),
            "account": "acct-t",
            "allowed": False,
        },
    )
    assert response.status_code == 200
    after = list(
        ConsentChange.objects.order_by("pk").values_list("pk", "allowed", "effective_at", "source")
    )
    assert after[: len(existing)] == existing  # appended after, nothing before it changed
    assert {row[3] for row in after[len(existing) :]} == {
        "import"
    }  # and marked as the chat service's
    assert database_fingerprint(only_apps=frozenset({"support"})) == before
