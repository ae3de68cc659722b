"""The default schedule of the auto-delete job: every 15 minutes, through
django-celery-beat's database scheduler (as the purge, 0004), so admins can
change it in the admin. A conversation's content is kept at least the
deletion window (30 days) after its auto-delete moment, so a late run never
loses the window; it only leaves the conversation in the history a little
longer.

Idempotent: an existing task of that name (perhaps re-timed) is left as it is.
"""

from django.db import migrations
from django.utils import timezone

TASK_NAME = "retention: auto-delete"
TASK = "retention.tasks.auto_delete"


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
        description="Deletes conversations past their owner's auto-delete moment "
        "(retention.services.auto_delete.auto_delete_run).",
    )
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=TASK_NAME, task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("retention", "0010_auto_delete_rule"),
        ("django_celery_beat", "0014_remove_clockedschedule_enabled"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
