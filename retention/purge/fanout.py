"""The scheduled run and its share-out: with a backlog above
RETENTION_FANOUT_BATCHES batches, the run first enqueues batch tasks at the
same cutoff for workers on other hosts (their claims are disjoint, SKIP
LOCKED), then purges alongside them holding the one-run-at-a-time lock."""

from collections.abc import Callable
from datetime import datetime

from django.conf import settings

from retention.purge.core import PurgeReport, due_counts, purge_due


def purge_scheduled(
    *,
    cutoff: datetime,
    batch_size: int,
    fan_out: int | None,
    enqueue_batch: Callable[[], None],
) -> PurgeReport:
    """`fan_out` batch tasks (default RETENTION_FANOUT_WORKERS, 0 = none),
    each enqueued by `enqueue_batch()` (after the commit, by the caller),
    when the backlog at `cutoff` is above the threshold; then purge_due."""
    workers = fan_out if fan_out is not None else settings.RETENTION_FANOUT_WORKERS
    threshold = settings.RETENTION_FANOUT_BATCHES * batch_size
    if workers and due_counts(cutoff=cutoff).conversations > threshold:
        for _ in range(workers):
            enqueue_batch()
    return purge_due(now=cutoff, batch_size=batch_size)
