"""The purge's database connection terminated (pg_terminate_backend from
another connection) in the middle of a batch: the run fails cleanly (an
exception, the run recorded as failed, the open batch rolled back whole) and
the next run finishes; receipts equal what is gone and the chain verifies.

Two ways in: a wait point at a chosen step of a batch (in this process, so the
moment is exact), and the real `enforce_retention` command in a subprocess,
terminated whenever PostgreSQL shows its backend inside a write transaction.
"""

import random
import subprocess
import time
import uuid

import psycopg
import pytest
from django.db import DatabaseError, connection

from retention.models import DeletionReceipt, PurgeRun
from retention.purge import core as purge_core
from retention.purge import purge_due
from tests.integration.conftest import ROOT
from tests.reliability.backlog import assert_consistent, seed_backlog
from tests.reliability.postgres import other_connection

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BATCH_SIZE = 5


def _terminate(other: psycopg.Connection, pid: int) -> tuple[str, bool]:
    """Terminate backend `pid` and wait until it is gone. Returns its state
    just before (e.g. "idle in transaction") and whether its transaction had
    written anything (holds a transaction id)."""
    state, writing = other.execute(
        "SELECT state, backend_xid IS NOT NULL FROM pg_stat_activity WHERE pid = %s", [pid]
    ).fetchone()
    assert other.execute("SELECT pg_terminate_backend(%s, 10000)", [pid]).fetchone()[0]
    return state, writing


def _server_pid() -> int:
    """The server backend running this connection's open transaction. Asked
    of the server, not read from the connection: behind PgBouncer the client
    connection's pid is the pooler's, and only a transaction stays on one
    server backend."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


# The steps of a batch's transaction after which the connection is cut.
STEPS = {
    "after the claim": "_claim_conversations",  # rows locked, nothing written
    "after the deletes": "_delete_content",  # messages and conversations deleted
    "after the receipts": "insert_receipts",  # receipts written, statistics not
}


@pytest.mark.parametrize("step", STEPS)
def test_a_connection_terminated_mid_batch_fails_the_run_cleanly_and_the_next_run_finishes(
    postgresql, monkeypatch, step
):
    backlog = seed_backlog(rounds=1, due_per_round=20, rng=random.Random(2))
    cutoff, due = backlog.cutoffs[0], backlog.due_in_round(0)
    receipts_before = DeletionReceipt.objects.count()
    real = getattr(purge_core, STEPS[step])
    seen: dict = {"calls": 0}

    def cut_in_the_second_batch(*args, **kwargs):
        result = real(*args, **kwargs)
        seen["calls"] += 1
        if seen["calls"] == 2:
            with other_connection() as other:
                seen["state"], seen["writing"] = _terminate(other, _server_pid())
        return result

    monkeypatch.setattr(purge_core, STEPS[step], cut_in_the_second_batch)
    try:
        with pytest.raises((DatabaseError, psycopg.Error)) as failure:
            purge_due(now=cutoff, batch_size=BATCH_SIZE)
    finally:
        monkeypatch.undo()
        connection.close()  # the checks below (and the teardown) need a live connection

    # The open batch rolled back whole: only the first one is gone, with receipts ...
    snapshot = assert_consistent(backlog, cutoff=cutoff, complete=False)
    assert snapshot.receipts - receipts_before == BATCH_SIZE
    # ... and the cut did land inside that batch's transaction.
    assert seen["state"] == "idle in transaction"
    assert seen["writing"] or step == "after the claim"
    run = PurgeRun.objects.get(cutoff=cutoff)
    assert run.status == PurgeRun.Status.FAILED, failure.value
    assert run.conversations_purged == BATCH_SIZE and run.batches == 1
    assert "terminat" in run.error or "closed" in run.error, run.error

    report = purge_due(now=cutoff, batch_size=BATCH_SIZE)

    assert report.status == PurgeRun.Status.SUCCEEDED
    assert report.conversations == due - BATCH_SIZE
    assert_consistent(backlog, cutoff=cutoff, complete=True)


def test_the_purge_command_cut_off_inside_a_write_transaction_fails_and_the_next_run_finishes(
    postgresql, subprocess_env, python
):
    backlog = seed_backlog(rounds=1, due_per_round=150, rng=random.Random(3))
    cutoff, due = backlog.cutoffs[0], backlog.due_in_round(0)
    receipts_before = DeletionReceipt.objects.count()
    name = f"purge-under-test-{uuid.uuid4().hex[:8]}"
    command = subprocess.Popen(
        [
            python,
            "manage.py",
            "enforce_retention",
            f"--now={cutoff.isoformat()}",
            f"--batch-size={BATCH_SIZE}",
        ],
        cwd=ROOT,
        env={**subprocess_env, "PGAPPNAME": name},  # libpq names the backend
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with other_connection() as other:
            deadline = time.monotonic() + 60
            while command.poll() is None and time.monotonic() < deadline:
                # Inside a batch: once the run is recorded (claiming the run
                # lock's lease is a write transaction too, before the run).
                row = other.execute(
                    "SELECT pid FROM pg_stat_activity "
                    "WHERE application_name = %s AND backend_xid IS NOT NULL "
                    "AND state = 'idle in transaction' AND EXISTS ("
                    "  SELECT 1 FROM retention_purgerun WHERE cutoff = %s AND status = 'running')",
                    [name, cutoff],
                ).fetchone()
                if row:
                    _terminate(other, row[0])
                    break
            else:
                pytest.fail("never saw the purge's backend inside a write transaction")
        out, err = command.communicate(timeout=60)
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()

    assert command.returncode != 0, out
    # The run logged its failure; the error is the lost connection (its wording
    # depends on whether the client read the server's goodbye before the EOF).
    # Behind PgBouncer the client connection outlives its server session: a
    # backend cut inside the receipts' COPY reaches psycopg as "COPY cannot
    # be mixed with other operations", one cut at the COMMIT as "received 2
    # results from command 'COMMIT'" (InternalError).
    lost = (
        "AdminShutdown",
        "OperationalError",
        "COPY cannot be mixed with other operations",
        "InternalError: received 2 results",
    )
    assert "failed after" in err and any(words in err for words in lost), err
    snapshot = assert_consistent(backlog, cutoff=cutoff, complete=False)
    purged = snapshot.receipts - receipts_before
    assert purged % BATCH_SIZE == 0 and purged < due  # whole batches only
    run = PurgeRun.objects.get(cutoff=cutoff)
    assert run.status == PurgeRun.Status.FAILED and run.conversations_purged == purged

    report = purge_due(now=cutoff, batch_size=BATCH_SIZE)

    assert report.status == PurgeRun.Status.SUCCEEDED
    assert report.conversations == due - purged
    assert_consistent(backlog, cutoff=cutoff, complete=True)
