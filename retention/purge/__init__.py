"""The purge job: removes what the help article promises to remove, on time.

Deleting data is the one thing here that cannot be undone, so the job follows
one safety rule: never purge early, never purge what is held or commercial.
An item goes only when its stored effective deadline has passed at a cutoff
computed once per run (never later than the real clock), and the claim query
re-checks the account type and active legal holds itself, so a stale deadline
can never purge held or commercial data.

Design: work runs in batches, one transaction each. A batch claims due
conversations (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent workers
split a backlog instead of colliding), deletes their messages and the
conversations with set-based SQL, and writes one hash-chained deletion receipt
per conversation plus de-identified statistics in that same transaction: if
the batch fails, nothing of it happened, receipts included. A crashed or
interrupted run is therefore safe to re-run: the next run simply finds what is
still due. One scheduled run at a time (a lease row, claimed and released in
short transactions, so it works behind PgBouncer); an overlapping run ends at
once, successfully.
"""

from retention.purge.core import (
    DEFAULT_BATCH_SIZE,
    BatchResult,
    PurgeInFuture,
    PurgeReport,
    due_counts,
    purge_backlog_slice,
    purge_batch,
    purge_due,
    purge_feedback_batch,
    purge_scores_batch,
)
from retention.purge.health import DeletionHealth, deletion_health, schedule_interval
from retention.purge.receipts import ChainBreak, receipt_hash, verify_receipt_chain

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "BatchResult",
    "ChainBreak",
    "DeletionHealth",
    "PurgeInFuture",
    "PurgeReport",
    "deletion_health",
    "due_counts",
    "purge_backlog_slice",
    "purge_batch",
    "purge_due",
    "purge_feedback_batch",
    "purge_scores_batch",
    "receipt_hash",
    "schedule_interval",
    "verify_receipt_chain",
]
