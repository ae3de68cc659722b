"""The Celery app: configuration comes from Django settings (CELERY_ namespace)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

from privacy_portal import db_router

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "privacy_portal.settings")

app = Celery("privacy_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Tasks (the purge, delivery, mail) read and write the primary only, even a
# task run eagerly inside a request that may read the replica.
_primary_tokens: dict[str, object] = {}


@task_prerun.connect
def _reads_on_primary(task_id=None, **kwargs) -> None:
    _primary_tokens[task_id] = db_router.primary_only_begin()


@task_postrun.connect
def _reads_restored(task_id=None, **kwargs) -> None:
    token = _primary_tokens.pop(task_id, None)
    if token is not None:
        db_router.primary_only_end(token)
