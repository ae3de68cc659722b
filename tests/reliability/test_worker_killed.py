"""kill -9 of a Celery worker in the middle of a purge, at random points.

A real worker (a subprocess) takes `retention.tasks.enforce_retention` from
Redis and purges a backlog on PostgreSQL in small batches, on two connections
side by side as production does (RETENTION_PURGE_CONNECTIONS); the test kills it
with SIGKILL at a random moment of the run, lets the purge run again, and
checks the database after each kill against what the facts say (see
backlog.assert_consistent): no half-purged conversation, nothing held,
commercial or not yet due removed, scores kept to their own date, receipts
equal to what is gone, the receipt chain intact.

Two ways to die:
- the pool process running the task is killed (the worker's supervisor
  survives): acks_late + reject_on_worker_lost put the message back and the
  same worker runs the purge again, by itself;
- the whole worker is killed (a lost host): its message stays unacknowledged
  at the broker, and the next run (here, in this process) finishes the work.

The kill moments are random (seeded; the seed is printed, and
RELIABILITY_SEED=... replays it): a random number of receipts to wait for,
then a random few milliseconds. Each round records where its kill landed, and
the tests assert that kills landed mid-run (some but not all of the round's
backlog purged): at least half of the twenty pool-process kills, at least one
of the five whole-worker kills. Otherwise they would prove nothing.
"""

import json
import os
import random
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from retention.models import DeletionReceipt, PurgeRun
from retention.purge import purge_due
from tests.integration.conftest import ROOT
from tests.reliability.backlog import Backlog, assert_consistent, seed_backlog

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BATCH_SIZE = 5
LEASE_SECONDS = 3
TASK = "retention.tasks.enforce_retention"
MID_RUN = "mid-run"


@pytest.fixture
def rng() -> random.Random:
    seed = int(os.environ.get("RELIABILITY_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\nreliability seed: {seed} (replay with RELIABILITY_SEED={seed})")
    return random.Random(seed)


@pytest.fixture
def broker(broker_url):
    """A client of the broker and a queue of this test's own, removed after."""
    from celery import Celery

    client = Celery("reliability-test-client", broker=broker_url)
    client.conf.task_serializer = "json"
    queue = f"reliability-{uuid.uuid4().hex[:12]}"
    yield client, queue
    with client.connection_for_write() as conn:
        _forget_queue(conn.default_channel.client, queue)


def _forget_queue(redis, queue: str) -> None:
    """Leave nothing of the test's queue in Redis: its lists and bindings (the
    worker declared them, so this client's queue_delete would not know them),
    and any message a worker killed whole left in kombu's `unacked` hash, to be
    restored after the visibility timeout (an hour by default)."""
    for tag, payload in redis.hgetall("unacked").items():
        if json.loads(payload)[-1] == queue:
            redis.hdel("unacked", tag)
            redis.zrem("unacked_index", tag)
    # The queue's name is unique to this test, so whatever key holds it is its own.
    for key in redis.scan_iter(match=f"*{queue}*"):
        redis.delete(key)


@contextmanager
def celery_worker(
    python: str, env: dict, *, broker_url: str, queue: str, pool: str, log: Path
) -> Iterator[subprocess.Popen]:
    """A worker on `queue`; its log goes to a file (a pipe nobody reads would
    fill up and block it)."""
    with log.open("a") as out:
        worker = subprocess.Popen(
            [
                python,
                "-m",
                "celery",
                "-A",
                "privacy_portal",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
            ],
            cwd=ROOT,
            # The production default: the purge works on two connections. A
            # killed run's lease runs out in 3 s (renewed between batches once
            # 0.3 s have gone by), not the production CELERY_TASK_TIME_LIMIT + 60 s.
            env={
                **env,
                "CELERY_BROKER_URL": broker_url,
                "RETENTION_PURGE_CONNECTIONS": "2",
                "RETENTION_PURGE_LEASE_SECONDS": str(LEASE_SECONDS),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def _pool_process(worker: subprocess.Popen) -> int:
    """The pid of the worker's one pool process (its child)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == worker.pid:
            children.append(int(entry.name))
    assert len(children) == 1, f"expected one pool process, found {children}"
    return children[0]


def _wait_until(condition: Callable[[], bool], *, timeout: float, what: str, worker=None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker exited ({worker.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.002)


def _receipts() -> int:
    return DeletionReceipt.objects.count()


def _succeeded(cutoff: datetime) -> bool:
    return PurgeRun.objects.filter(cutoff=cutoff, status=PurgeRun.Status.SUCCEEDED).exists()


def _kill_when(rng: random.Random, backlog: Backlog, r: int, worker, kill: Callable) -> None:
    """Wait for round r's run to start, then for a random number of receipts
    (0: right after it started), then a random few milliseconds; then kill."""
    cutoff, due = backlog.cutoffs[r], backlog.due_in_round(r)
    before = _receipts()
    _wait_until(
        lambda: PurgeRun.objects.filter(cutoff=cutoff).exists(),
        timeout=60,
        what=f"round {r}'s run to start",
        worker=worker,
    )
    target = 0 if rng.random() < 0.15 else rng.randrange(1, due)
    _wait_until(
        lambda: _receipts() - before >= target or _succeeded(cutoff),
        timeout=60,
        what=f"{target} receipts in round {r}",
        worker=worker,
    )
    time.sleep(rng.uniform(0, 0.02))
    kill()


def _landed(backlog: Backlog, r: int, purged_by_killed_run: int | None) -> str:
    due = backlog.due_in_round(r)
    if purged_by_killed_run is None:
        return "after the run ended"
    if purged_by_killed_run == 0:
        return "before the first batch committed"
    if purged_by_killed_run == due:
        return "after the last conversation batch"
    return MID_RUN


def _print_figures(kind: str, landed: Counter, started: float) -> None:
    print(
        f"{kind}: {sum(landed.values())} kills, {landed[MID_RUN]} mid-run; "
        f"where they landed: {dict(landed)}; {time.monotonic() - started:.1f} s"
    )


ROUNDS_POOL = 20
ROUNDS_WHOLE = 5
DUE_PER_ROUND = 150


def test_a_pool_process_killed_mid_purge_is_redelivered_and_nothing_is_half_purged(
    postgresql, broker_url, broker, subprocess_env, python, rng, tmp_path
):
    started = time.monotonic()
    client, queue = broker
    backlog = seed_backlog(rounds=ROUNDS_POOL, due_per_round=DUE_PER_ROUND, rng=rng)
    landed: Counter = Counter()
    resent = 0
    with celery_worker(
        python,
        subprocess_env,
        broker_url=broker_url,
        queue=queue,
        pool="prefork",
        log=tmp_path / "worker.log",
    ) as worker:
        for r, cutoff in enumerate(backlog.cutoffs):
            client.send_task(
                TASK, kwargs={"now": cutoff.isoformat(), "batch_size": BATCH_SIZE}, queue=queue
            )
            _kill_when(
                rng, backlog, r, worker, lambda: os.kill(_pool_process(worker), signal.SIGKILL)
            )
            # The state the kill left, read while the redelivered task may be
            # running: whole batches only.
            assert_consistent(backlog, cutoff=cutoff, complete=False)

            # The supervisor puts the message back; the same worker runs the
            # purge again. A redelivery that still found the dead run's lock
            # ends "skipped" at once: send the task again, as the schedule would.
            answered: set[int] = set()  # skipped runs already sent again

            def finished(cutoff=cutoff, answered=answered) -> bool:
                nonlocal resent
                latest = PurgeRun.objects.filter(cutoff=cutoff).order_by("-id").first()
                if latest.status == PurgeRun.Status.FAILED:
                    pytest.fail(f"the purge run after the kill failed: {latest.error}")
                if latest.status == PurgeRun.Status.SKIPPED and latest.pk not in answered:
                    answered.add(latest.pk)
                    resent += 1
                    client.send_task(
                        TASK,
                        kwargs={"now": cutoff.isoformat(), "batch_size": BATCH_SIZE},
                        queue=queue,
                    )
                return latest.status == PurgeRun.Status.SUCCEEDED

            _wait_until(finished, timeout=90, what=f"round {r} to finish", worker=worker)
            assert_consistent(backlog, cutoff=cutoff, complete=True)

            runs = PurgeRun.objects.filter(cutoff=cutoff)
            killed = runs.filter(status=PurgeRun.Status.RUNNING).count()
            assert killed <= 1
            rerun = sum(
                runs.filter(status=PurgeRun.Status.SUCCEEDED).values_list(
                    "conversations_purged", flat=True
                )
            )
            landed[_landed(backlog, r, backlog.due_in_round(r) - rerun if killed else None)] += 1

    _print_figures(
        f"pool process killed (redeliveries skipped and resent: {resent})", landed, started
    )
    assert sum(landed.values()) == ROUNDS_POOL
    assert landed[MID_RUN] >= ROUNDS_POOL // 2, f"too few kills landed mid-run: {dict(landed)}"


def test_a_whole_worker_killed_mid_purge_leaves_whole_batches_and_the_next_run_finishes(
    postgresql, broker_url, broker, subprocess_env, python, rng, tmp_path
):
    started = time.monotonic()
    client, queue = broker
    backlog = seed_backlog(rounds=ROUNDS_WHOLE, due_per_round=DUE_PER_ROUND, rng=rng)
    landed: Counter = Counter()
    for r, cutoff in enumerate(backlog.cutoffs):
        before = _receipts()
        with celery_worker(
            python,
            subprocess_env,
            broker_url=broker_url,
            queue=queue,
            pool="solo",
            log=tmp_path / "worker.log",
        ) as worker:
            client.send_task(
                TASK, kwargs={"now": cutoff.isoformat(), "batch_size": BATCH_SIZE}, queue=queue
            )
            _kill_when(rng, backlog, r, worker, lambda: os.kill(worker.pid, signal.SIGKILL))
            worker.wait(timeout=10)
        # Nothing runs now: this is exactly what the kill left.
        snapshot = assert_consistent(backlog, cutoff=cutoff, complete=False)
        finished = _succeeded(cutoff)
        landed[_landed(backlog, r, None if finished else snapshot.receipts - before)] += 1

        # The next run: the dead worker's lease runs out LEASE_SECONDS after
        # its last renewal; until then a run ends "skipped".
        deadline = time.monotonic() + 30
        while (
            report := purge_due(now=cutoff, batch_size=BATCH_SIZE, connections=2)
        ).skipped_because_locked:
            assert time.monotonic() < deadline, "the dead worker's lease never ran out"
            time.sleep(0.05)
        assert report.status == PurgeRun.Status.SUCCEEDED
        assert_consistent(backlog, cutoff=cutoff, complete=True)

    _print_figures("whole worker killed", landed, started)
    # Five rounds only (each starts a worker): at least one must land mid-run;
    # the pool-process test above holds the proportion over twenty.
    assert landed[MID_RUN] >= 1, f"no kill landed mid-run: {dict(landed)}"
