"""The default schedule of webhook delivery: every 30 seconds, through
django-celery-beat's database scheduler (like retention 0004), besides the
task queued after each commit that writes events. It catches retries that
came due and events whose on-commit task was lost.

Idempotent: an existing task of that name (perhaps re-timed by an admin) is
left as it is.
"""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "connected: deliver events"
TASK = "connected.tasks.deliver_events"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    if PeriodicTask.objects.filter(name=TASK_NAME).exists():
        return
    every_30s, _ = IntervalSchedule.objects.get_or_create(every=30, period="seconds")
    PeriodicTask.objects.create(
        name=TASK_NAME,
        task=TASK,
        interval=every_30s,
        kwargs="{}",
        enabled=True,
        description="Dispatches outbox events and delivers due webhooks (connected.tasks).",
    )
    # Beat reloads its schedule when this timestamp moves.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME, task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("connected", "0001_initial"),
        ("django_celery_beat", "0014_remove_clockedschedule_enabled"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
