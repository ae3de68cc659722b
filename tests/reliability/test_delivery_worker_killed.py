"""kill -9 of a delivery worker in the middle of a pass (PostgreSQL): nothing
is lost, and what is sent again is at most what that worker had claimed and
not yet recorded (the receiver dedupes on webhook-id, as docs/connected-
systems.md asks every receiver to)."""

import signal
import subprocess
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from connected.events import CONVERSATION_DELETED
from connected.models import ConnectedSystem, Delivery, DeliveryState
from connected.services.delivery import CLAIM_BATCH, deliver_system
from connected.services.dispatch import outbox_dispatch
from connected.services.outbox import OutboxItem, outbox_record_many
from connected.services.systems import system_register
from tests.connected.conftest import ReceiverProcess

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

EVENTS = 1500


def test_a_delivery_worker_killed_mid_pass_loses_nothing(
    postgresql, subprocess_env, python, tmp_path
):
    system, credentials = system_register(name="warehouse", events=[CONVERSATION_DELETED])
    receiver = ReceiverProcess(tmp_path, credentials.signing_secret).start()
    try:
        ConnectedSystem.objects.filter(pk=system.pk).update(url=receiver.url)
        with transaction.atomic():
            outbox_record_many(
                events=[
                    OutboxItem(
                        type=CONVERSATION_DELETED,
                        account=f"acct-{n % 7}",
                        data={
                            "account": f"acct-{n % 7}",
                            "conversation": f"c-{n}",
                            "deleted_at": "2026-12-01T00:00:00Z",
                            "purge_by": "2026-12-31T00:00:00Z",
                        },
                    )
                    for n in range(EVENTS)
                ]
            )
        outbox_dispatch()
        worker = subprocess.Popen(
            [python, "manage.py", "deliver_events", "--all"],
            env=subprocess_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len(receiver.received()) < 100 and time.monotonic() < deadline:
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        got_before = len(receiver.received())
        assert 100 <= got_before < EVENTS, "the worker was not killed mid-pass"
        recorded = Delivery.objects.filter(system=system, state=DeliveryState.DELIVERED).count()
        # Sent but not recorded when it died: at most one claimed batch.
        assert got_before - recorded <= CLAIM_BATCH

        # The next pass, once the dead worker's claims have run out, sends the rest.
        later = timezone.now() + timedelta(hours=1)
        while deliver_system(system_id=system.pk, now=later, ignore_backoff=True).sent:
            pass
        received = [event["data"]["conversation"] for event in receiver.received()]
        assert sorted(received) == sorted(f"c-{n}" for n in range(EVENTS))  # each once
        assert (
            not Delivery.objects.filter(system=system)
            .exclude(state=DeliveryState.DELIVERED)
            .exists()
        )
    finally:
        receiver.stop()
