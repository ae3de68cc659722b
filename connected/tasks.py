"""Celery entry points of delivery. Thin: they take ids, call a service and
return a JSON-able summary; each is safe to run twice (a delivery is sent
only while pending and claimed by this worker).

`deliver_events` is queued after each commit that wrote events (services.
outbox) and by beat every 30 seconds (migration 0002): it dispatches new
events and queues one `deliver_system` per system, so a slow or dead
endpoint holds up only its own task.
"""

from celery import shared_task
from django.conf import settings

from connected.services.delivery import deliver_system, systems_to_deliver
from connected.services.dispatch import outbox_dispatch

_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "serializer": "json",
    "soft_time_limit": settings.CELERY_TASK_SOFT_TIME_LIMIT,
    "time_limit": settings.CELERY_TASK_TIME_LIMIT,
}


@shared_task(name="connected.tasks.deliver_events", **_TASK_OPTIONS)
def deliver_events() -> dict:
    dispatched = outbox_dispatch()
    systems = systems_to_deliver()
    for system_id in systems:
        deliver_system_task.delay(system_id=system_id)
    return {"dispatched": dispatched, "systems": len(systems)}


@shared_task(name="connected.tasks.deliver_system", **_TASK_OPTIONS)
def deliver_system_task(system_id: int) -> dict:
    report = deliver_system(system_id=system_id)
    return {"system": report.system, "sent": report.sent, "failed": report.failed}
