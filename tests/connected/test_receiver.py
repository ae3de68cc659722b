"""The reference receiver (examples/receiver.py) end to end: the portal
delivers a conversation.purged to it, it confirms the erasure back to the
portal (a live server) with its key, and the user's pages can show it."""

import pytest

from connected.models import Delivery, DeliveryState
from connected.selectors import erasure_confirmations
from connected.services.delivery import deliver_system
from connected.services.systems import system_register
from tests.connected import factories as f
from tests.connected.conftest import free_port, record_committed


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_receiver_confirms_a_purge_back_to_the_portal(live_server, receiver_for, monkeypatch):
    monkeypatch.setattr("connected.tasks.deliver_events.delay", lambda: None)
    system, creds = system_register(
        name="lake", events=["conversation.purged"], confirms_erasure=True
    )
    receiver = receiver_for(creds.signing_secret, portal=live_server.url, key=creds.api_key)
    system.url = receiver.url
    system.save()
    record_committed(f.purged("a1", "c1"))
    report = deliver_system(system_id=system.pk)
    assert (report.sent, report.failed) == (1, 0)
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.confirmed_at is not None
    [confirmation] = erasure_confirmations(account="a1", conversations=["c1"])["c1"]
    assert (confirmation.name, confirmation.confirmed_at) == ("lake", delivery.confirmed_at)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_while_the_portal_cannot_take_the_confirmation_the_event_comes_again(
    receiver_for, monkeypatch
):
    monkeypatch.setattr("connected.tasks.deliver_events.delay", lambda: None)
    system, creds = system_register(
        name="lake", events=["conversation.purged"], confirms_erasure=True
    )
    nowhere = f"http://127.0.0.1:{free_port()}"
    receiver = receiver_for(creds.signing_secret, portal=nowhere, key=creds.api_key)
    system.url = receiver.url
    system.save()
    record_committed(f.purged("a1", "c1"))
    report = deliver_system(system_id=system.pk)
    assert (report.sent, report.failed) == (0, 1)
    assert Delivery.objects.get().last_error == "HTTP 503"
    assert receiver.received() == []  # not recorded: it will be handled on redelivery
