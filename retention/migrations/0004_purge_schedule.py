"""The default schedule of the purge job: every 15 minutes, through
django-celery-beat's database scheduler, so admins can change it in the admin.

Idempotent: an existing task of that name (perhaps re-timed by an admin) is
left as it is.
"""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "retention: enforce retention"
TASK = "retention.tasks.enforce_retention"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    if PeriodicTask.objects.filter(name=TASK_NAME).exists():
        return
    every_15, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.create(
        name=TASK_NAME,
        task=TASK,
        interval=every_15,
        kwargs="{}",
        enabled=True,
        description="Purges content past its retain-until (retention.purge.purge_due).",
    )
    # Beat reloads its schedule when this timestamp moves (the historical model
    # skips the signal that normally bumps it).
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME, task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0003_purge_lock_and_run_details"),
        ("django_celery_beat", "0014_remove_clockedschedule_enabled"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
