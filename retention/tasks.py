"""Celery entry points of the purge job. Thin: they take plain JSON values,
call retention.purge, and return a JSON-able summary. Every task is safe to
run twice (a retry or a redelivery only finds what is still due)."""

from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from accounts.data_version import data_version_bump_all
from retention.purge import DEFAULT_BATCH_SIZE, purge_backlog_slice
from retention.purge.fanout import purge_scheduled
from retention.services.auto_delete import BATCH_SIZE as AUTO_DELETE_BATCH
from retention.services.auto_delete import auto_delete_run

# acks_late + reject_on_worker_lost: a worker killed mid-run leaves the message
# to be redelivered; the committed batches are not redone (they are gone) and
# the rolled-back one is simply found again.
_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "serializer": "json",
    "soft_time_limit": settings.CELERY_TASK_SOFT_TIME_LIMIT,
    "time_limit": settings.CELERY_TASK_TIME_LIMIT,
}


@shared_task(name="retention.tasks.enforce_retention", **_TASK_OPTIONS)
def enforce_retention(
    now: str | None = None, batch_size: int = DEFAULT_BATCH_SIZE, fan_out: int | None = None
) -> dict:
    """The scheduled run (cutoff: `now` as ISO 8601, default the clock). With a
    backlog above RETENTION_FANOUT_BATCHES batches it first enqueues `fan_out`
    (default RETENTION_FANOUT_WORKERS, 0 = none) purge_batch tasks at the same
    cutoff so workers on other hosts share the work; this run purges alongside
    them and holds the one-run-at-a-time lock."""
    cutoff = datetime.fromisoformat(now) if now else timezone.now()
    report = purge_scheduled(
        cutoff=cutoff,
        batch_size=batch_size,
        fan_out=fan_out,
        enqueue_batch=lambda: purge_batch.delay_on_commit(
            cutoff=cutoff.isoformat(), batch_size=batch_size
        ),
    )
    _pages_changed(report)
    return report.as_dict()


@shared_task(name="retention.tasks.purge_batch", **_TASK_OPTIONS)
def purge_batch(cutoff: str, batch_size: int = DEFAULT_BATCH_SIZE, max_batches: int = 50) -> dict:
    """Fan-out share of a backlog: up to `max_batches` batches due at `cutoff`.
    Concurrent copies claim disjoint rows (SKIP LOCKED)."""
    report = purge_backlog_slice(
        cutoff=datetime.fromisoformat(cutoff), batch_size=batch_size, max_batches=max_batches
    )
    _pages_changed(report)
    return report.as_dict()


@shared_task(name="retention.tasks.auto_delete", **_TASK_OPTIONS)
def auto_delete(now: str | None = None, batch_size: int = AUTO_DELETE_BATCH) -> dict:
    """The scheduled auto-delete: every conversation past its owner's
    auto-delete moment at `now` (ISO 8601, default the clock) is deleted
    through the user's own deletion service. Idempotent; copies on several
    hosts claim disjoint rows (SKIP LOCKED)."""
    cutoff = datetime.fromisoformat(now) if now else timezone.now()
    return {"deleted": auto_delete_run(now=cutoff, batch_size=batch_size)}


def _pages_changed(report) -> None:
    # What the purge removed changes the owners' pages (counts, receipts):
    # one global version bump per run that removed anything, so no page is
    # answered 304 from before it (accounts/data_version.py).
    if report.conversations or report.scores or report.feedback:
        data_version_bump_all()
