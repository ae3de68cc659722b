"""The Celery entry points and their beat schedule."""

from django_celery_beat.models import PeriodicTask

from connected.models import Delivery, DeliveryState
from connected.tasks import deliver_events
from tests.connected import factories as f


def test_beat_runs_delivery_every_30_seconds(db):
    task = PeriodicTask.objects.get(name="connected: deliver events")
    assert task.task == "connected.tasks.deliver_events" and task.enabled
    assert (task.interval.every, task.interval.period) == (30, "seconds")


def test_deliver_events_dispatches_then_delivers_each_system(
    register, record, receiver_for, settings
):
    settings.CONNECTED_DELIVERY_TIMEOUT = 2
    system, creds = register("lake", events=["conversation.deleted"])
    receiver = receiver_for(creds.signing_secret)
    system.url = receiver.url
    system.save()
    record(f.deleted("a1", "c1"), dispatch=False)
    assert deliver_events.apply().get() == {"dispatched": 1, "systems": 1}
    assert Delivery.objects.get().state == DeliveryState.DELIVERED
    assert [r["data"]["conversation"] for r in receiver.received()] == ["c1"]
