"""The portal's decisions reach the outbox in their own transaction, from
every path that makes them (the user's deletions and consent, the chat
service's events, the purge), and what the systems confirmed reaches the
user (/api/me/deleted, the deleted page) and deletion health."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from connected.events import (
    CONSENT_CHANGED,
    CONVERSATION_DELETED,
    CONVERSATION_PURGED,
    FEEDBACK_PURGED,
    SCORES_PURGED,
)
from connected.models import Delivery, OutboxEvent
from connected.services.confirmations import erasure_confirm
from connected.services.dispatch import outbox_dispatch
from ingest.services import events_ingest
from retention.models import Conversation, DeletionReceipt
from retention.purge import deletion_health, purge_due
from retention.services.conversations import conversation_flag, feedback_submit
from tests.factories import UserFactory
from tests.ingest import builders as b

pytestmark = pytest.mark.django_db

ALL = (CONVERSATION_DELETED, CONSENT_CHANGED, CONVERSATION_PURGED, SCORES_PURGED, FEEDBACK_PURGED)


@pytest.fixture
def owner(db):
    return UserFactory(external_id="acct-7", email="owner@example.com")


@pytest.fixture
def client_of(owner):
    client = Client()
    client.force_login(owner)
    return client


def _deleted_rows(client) -> dict:
    body = b"".join(client.get("/api/me/deleted").streaming_content)
    return {row["id"]: row for row in json.loads(body)["deleted"]}


def _events(type_: str) -> list[dict]:
    return list(
        OutboxEvent.objects.filter(type=type_).order_by("pk").values_list("data", flat=True)
    )


def test_nothing_is_written_while_no_system_subscribes(owner, client_of, add_message):
    add_message(owner, timezone.now() - timedelta(days=1), conversation="c-1")
    client_of.post("/conversations/c-1/delete/", {"confirm": "yes"})
    client_of.post("/consent/", {"allowed": "true", "confirm": "on"})
    assert not OutboxEvent.objects.exists()


def test_the_users_deletions_and_consent_reach_the_outbox(register, owner, client_of, add_message):
    register("warehouse", events=ALL)
    now = timezone.now()
    for n in (1, 2, 3):
        add_message(owner, now - timedelta(days=n), conversation=f"c-{n}")
    client_of.post("/conversations/c-1/delete/", {"confirm": "yes"})
    client_of.post("/delete/selected/", {"ids": ["c-2", "c-3"], "confirm": "yes"})
    client_of.post("/consent/", {"allowed": "true", "confirm": "on"})
    deleted = _events(CONVERSATION_DELETED)
    assert [e["conversation"] for e in deleted] == ["c-1", "c-2", "c-3"]
    stored = dict(Conversation.objects.values_list("external_id", "public_retain_until"))
    for event in deleted:
        assert event["account"] == "acct-7"
        assert event["purge_by"] == stored[event["conversation"]].isoformat().replace("+00:00", "Z")
    [consent] = _events(CONSENT_CHANGED)
    assert consent["account"] == "acct-7" and consent["allowed"] is True
    assert "title" not in json.dumps(deleted) and "owner@example.com" not in json.dumps(deleted)


def test_a_deletion_that_rolls_back_writes_nothing(register, owner, add_message):
    register("warehouse", events=ALL)
    add_message(owner, timezone.now(), conversation="c-1")
    from retention.services.conversations import conversations_delete_by_id

    with pytest.raises(RuntimeError), transaction.atomic():
        conversations_delete_by_id(user=owner, external_ids=["c-1"])
        raise RuntimeError("the request failed after the deletion")
    assert not OutboxEvent.objects.exists()
    assert Conversation.objects.get(external_id="c-1").deleted_at is None


def test_decisions_from_a_system_are_not_sent_back_to_it(register):
    chat, _ = register("chat service", events=ALL)
    register("warehouse", events=ALL)
    events_ingest(
        events=[
            b.account_upserted("acct-1"),
            b.message_added("2026-01-02T00:00:00Z", conversation="c-1"),
            b.conversation_deleted("2026-01-03T00:00:00Z", conversation="c-1"),
            b.consent_changed(True, "2026-01-04T00:00:00Z"),
        ],
        origin_system_id=chat.pk,
    )
    assert set(OutboxEvent.objects.values_list("origin_system_id", flat=True)) == {chat.pk}
    outbox_dispatch()
    receivers = set(Delivery.objects.values_list("system__name", flat=True))
    assert receivers == {"warehouse"}


def test_the_purge_tells_every_erasure_with_its_receipt(register, owner, add_message):
    register("warehouse", events=ALL)
    long_ago = timezone.now() - timedelta(days=3 * 365)
    add_message(owner, long_ago, conversation="c-old")
    conversation = Conversation.objects.get(external_id="c-old")
    conversation_flag(conversation=conversation, flagged_at=long_ago, scores={"x": 0.9})
    feedback_submit(
        user=owner,
        external_id="fb-1",
        kind="thumbs_up",
        comment="",
        excerpt="",
        submitted_at=long_ago - timedelta(days=6 * 365),
    )
    purge_due(now=timezone.now() + timedelta(days=10 * 365), dry_run=True)  # counts only
    assert not _events(CONVERSATION_PURGED)
    purge_due(now=timezone.now())
    receipt = DeletionReceipt.objects.get(conversation_external_id="c-old")
    [purged] = _events(CONVERSATION_PURGED)
    assert purged["conversation"] == "c-old" and purged["receipt"] == receipt.sequence
    assert [e["feedback"] for e in _events(FEEDBACK_PURGED)] == ["fb-1"]


def test_confirmations_reach_the_users_api_and_deleted_page(
    register, owner, client_of, add_message
):
    warehouse, _ = register("Warehouse", events=ALL, confirms_erasure=True)
    register("Chat history", events=ALL, confirms_erasure=True)
    add_message(owner, timezone.now() - timedelta(days=40), conversation="c-old")
    add_message(owner, timezone.now(), conversation="c-new")
    client_of.post("/conversations/c-new/delete/", {"confirm": "yes"})
    purge_due(now=timezone.now())
    outbox_dispatch()
    rows = _deleted_rows(client_of)
    assert rows["c-new"]["systems"] == [
        {"name": "Chat history", "confirmed_at": None},
        {"name": "Warehouse", "confirmed_at": None},
    ]
    assert [s["confirmed_at"] for s in rows["c-old"]["systems"]] == [None, None]
    delivery = Delivery.objects.get(system=warehouse, event__type=CONVERSATION_PURGED)
    erasure_confirm(delivery=delivery)
    rows = _deleted_rows(client_of)
    confirmed = {s["name"]: s["confirmed_at"] for s in rows["c-old"]["systems"]}
    assert confirmed["Warehouse"] is not None and confirmed["Chat history"] is None
    page = client_of.get("/deleted/").content.decode()
    assert "confirmed by Warehouse on" in page and "waiting for Chat history since" in page


def test_an_erasure_unconfirmed_past_the_articles_30_days_makes_health_unhealthy(
    register, owner, add_message
):
    register("Warehouse", events=ALL, confirms_erasure=True)
    add_message(owner, timezone.now() - timedelta(days=40), conversation="c-old")
    purge_due(now=timezone.now())
    outbox_dispatch()
    soon = deletion_health(now=timezone.now() + timedelta(days=1))
    assert soon.unconfirmed_erasures == 1 and soon.healthy
    late = deletion_health(now=timezone.now() + timedelta(days=31))
    assert late.unconfirmed_erasures == 1 and not late.healthy


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ten_thousand_deletions_by_one_delete_all_are_delivered(register, receiver_for, owner):
    from connected.models import ConnectedSystem
    from connected.services.delivery import deliver_system
    from retention.models import Rule
    from retention.services.deadlines import refresh_conversation_deadlines

    system, credentials = register("Warehouse", events=(CONVERSATION_DELETED,))
    receiver = receiver_for(credentials.signing_secret)
    ConnectedSystem.objects.filter(pk=system.pk).update(url=receiver.url)
    now = timezone.now()
    Conversation.objects.bulk_create(
        Conversation(
            user=owner,
            external_id=f"c-{n}",
            kind="chat",
            created_at=now - timedelta(days=2),
            last_activity_at=now - timedelta(days=1),
            rule=Rule.NOT_SHARED,
            public_rule=Rule.NOT_SHARED,
        )
        for n in range(10_000)
    )
    refresh_conversation_deadlines(Conversation.objects.filter(user=owner))
    client = Client()
    client.force_login(owner)
    response = client.post("/delete/all/", {"confirmation": "delete all", "confirm": "yes"})
    assert response.status_code == 302
    outbox_dispatch()
    while deliver_system(system_id=system.pk, ignore_backoff=True, limit=10_000).sent:
        pass
    received = [event["data"]["conversation"] for event in receiver.received()]
    assert len(received) == 10_000 and set(received) == {f"c-{n}" for n in range(10_000)}
    assert not Delivery.objects.exclude(state="delivered").exists()
