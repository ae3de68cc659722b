"""purge_due and its batches (see the package docstring for the safety rule)."""

import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.selectors import account_external_ids
from connected.events import (
    CONVERSATION_PURGED,
    FEEDBACK_PURGED,
    SCORES_PURGED,
    iso_utc,
)
from connected.selectors import subscribed_types
from connected.services.outbox import OutboxItem, outbox_record_many
from retention.models import PurgeRun, PurgeStatistic
from retention.purge import sql
from retention.purge.health import log_deletion_health
from retention.purge.locks import run_lock
from retention.purge.receipts import chain_receipts, insert_receipts, prepare_receipts
from retention.services.accounts import accounts_erase_emptied

logger = logging.getLogger("retention.purge")

Progress = Callable[[int], None]


# Conversations per batch (one transaction). Each batch pays fixed costs (a
# commit, the chain lock, a statistics upsert), so bigger is cheaper per item;
# 1,000 holds about 10,000 messages' row locks for tens of milliseconds.
DEFAULT_BATCH_SIZE = 1000

# A fan-out batch may run on a host whose clock is slightly behind the one
# that computed the cutoff; beyond this much it is refused as a future cutoff.
CLOCK_SKEW_TOLERANCE = timedelta(seconds=60)


class PurgeInFuture(ValueError):
    """A cutoff later than the clock would purge early: refused."""


def _refuse_future(cutoff: datetime, tolerance: timedelta = CLOCK_SKEW_TOLERANCE) -> None:
    if timezone.is_naive(cutoff):
        raise ValueError("the cutoff must be timezone-aware")
    if cutoff > timezone.now() + tolerance:
        raise PurgeInFuture(
            f"refusing to purge at {cutoff.isoformat()}: later than the clock, it would purge "
            "early (use a dry run to simulate)"
        )


@dataclass
class BatchResult:
    conversations: int = 0
    messages: int = 0
    scores: int = 0
    feedback: int = 0
    by_rule: Counter = field(default_factory=Counter)
    max_delay_seconds: float = 0.0
    external_ids: list[str] = field(default_factory=list)
    # (retain_until, id) of the last conversation claimed: where the next
    # batch of the same run resumes, so it never rescans the dead index
    # entries this run left behind.
    last_key: tuple | None = None

    def add(self, other: "BatchResult") -> None:
        self.conversations += other.conversations
        self.messages += other.messages
        self.scores += other.scores
        self.feedback += other.feedback
        self.by_rule.update(other.by_rule)
        self.max_delay_seconds = max(self.max_delay_seconds, other.max_delay_seconds)


@dataclass
class PurgeReport:
    run_id: int | None
    cutoff: datetime
    status: str
    dry_run: bool = False
    skipped_because_locked: bool = False
    conversations_by_rule: dict[str, int] = field(default_factory=dict)
    conversations: int = 0
    messages: int = 0
    scores: int = 0
    feedback: int = 0
    batches: int = 0
    max_delay_seconds: float = 0.0
    # Records of deleted accounts erased because nothing of them was left.
    accounts_erased: int = 0

    def as_dict(self) -> dict:
        """JSON-able (a Celery result, a log line)."""
        data = asdict(self)
        data["cutoff"] = self.cutoff.isoformat()
        return data


def _fetch_dicts(cursor) -> list[dict]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _delay_seconds(purged_at: datetime, deadlines) -> float:
    deadlines = [sql.as_aware(d) for d in deadlines if d is not None]
    if not deadlines:
        return 0.0
    return max(0.0, (purged_at - min(deadlines)).total_seconds())


def _claim_conversations(cutoff: datetime, limit: int, after: tuple | None) -> list[dict]:
    resume, params = "", [cutoff]
    if after is not None:
        resume, params = "AND (c.retain_until, c.id) > (%s, %s)", [cutoff, *after]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT c.id, c.user_id, c.external_id, c.kind, c.rule, c.deleted_at,
                   c.retain_until, u.plan, u.external_id AS account
            FROM {sql.CONVERSATION} c JOIN {sql.USER} u ON u.id = c.user_id
            WHERE {sql.CONVERSATION_DUE} {resume}
            ORDER BY c.retain_until, c.id
            LIMIT %s
            {sql.skip_locked("c")}
            """,
            [*params, limit],
        )
        return _fetch_dicts(cursor)


def _delete_content(ids: list[int]) -> dict[int, int]:
    """Delete the messages and then the conversations `ids`; returns messages
    removed per conversation."""
    where, params = sql.in_ids("conversation_id", ids)
    with sql.array_cursor() as cursor:
        if sql.is_postgresql():
            cursor.execute(
                f"WITH gone AS (DELETE FROM {sql.MESSAGE} WHERE {where} RETURNING conversation_id) "
                "SELECT conversation_id, count(*) FROM gone GROUP BY conversation_id",
                params,
            )
            removed = dict(cursor.fetchall())
        else:
            cursor.execute(
                f"SELECT conversation_id, count(*) FROM {sql.MESSAGE} WHERE {where} "
                "GROUP BY conversation_id",
                params,
            )
            removed = dict(cursor.fetchall())
            cursor.execute(f"DELETE FROM {sql.MESSAGE} WHERE {where}", params)
            if cursor.rowcount != sum(removed.values()):
                raise RuntimeError("messages changed under the purge's write lock")
        where, params = sql.in_ids("id", ids)
        cursor.execute(f"DELETE FROM {sql.CONVERSATION} WHERE {where}", params)
        if cursor.rowcount != len(ids):
            # A claimed row vanished: never write receipts that do not match.
            raise RuntimeError(f"claimed {len(ids)} conversations but deleted {cursor.rowcount}")
    return removed


def _statistics(rows: list[dict], *, day) -> list:
    """The batch's de-identified counts: [day, rule, plan, kind, conversations,
    messages] per (rule, plan, kind), in key order."""
    totals: Counter = Counter()
    messages: Counter = Counter()
    for row in rows:
        key = (row["rule"], row["plan"], row["kind"])
        totals[key] += 1
        messages[key] += row["messages_removed"]
    params: list = []
    for (rule, plan, kind), count in sorted(totals.items()):
        params += [day, rule, plan, kind, count, messages[(rule, plan, kind)]]
    return params


def _add_statistics(params: list) -> None:
    """De-identified counts (day, rule, plan, kind) += the batch's (from
    _statistics), as one upsert. Runs under the chain lock, so concurrent
    batches never deadlock on the same statistic rows."""
    table = PurgeStatistic._meta.db_table
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * (len(params) // 6))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, rule, plan, kind, conversations, messages) "
            f"VALUES {values} ON CONFLICT (day, rule, plan, kind) DO UPDATE SET "
            f"conversations = {table}.conversations + excluded.conversations, "
            f"messages = {table}.messages + excluded.messages",
            params,
        )


def purge_batch(
    *, cutoff: datetime, batch_size: int = DEFAULT_BATCH_SIZE, after: tuple | None = None
) -> BatchResult:
    """Claim up to `batch_size` due conversations and purge them in one
    transaction: messages, conversations, receipts, statistics. Concurrent
    callers on PostgreSQL claim disjoint rows (SKIP LOCKED). Returns what went;
    an empty result means nothing claimable is left (after `after`, the
    `last_key` of this run's previous batch)."""
    _refuse_future(cutoff)
    result = BatchResult()
    with transaction.atomic():
        rows = _claim_conversations(cutoff, batch_size, after)
        if not rows:
            return result
        removed = _delete_content([row["id"] for row in rows])
        purged_at = timezone.now()
        for row in rows:
            row["messages_removed"] = removed.get(row["id"], 0)
            row["deleted_at"] = sql.as_aware(row["deleted_at"])
            row["retain_until"] = sql.as_aware(row["retain_until"])
        # Everything that does not depend on the chain head is made before
        # the chain lock: batches on other connections queue on that lock
        # until this transaction commits, so only the hash chain, the writes
        # and the commit happen while it is held.
        prepared = prepare_receipts(rows, purged_at=purged_at)
        events = [
            {"account": row["account"], "conversation": row["external_id"], "receipt": None}
            for row in rows
        ]
        statistics = _statistics(rows, day=purged_at.date())
        receipts = chain_receipts(prepared)
        insert_receipts(receipts)
        _add_statistics(statistics)
        for event, receipt in zip(events, receipts, strict=True):
            event["receipt"] = receipt[0]  # its sequence number
        _tell_connected_systems(CONVERSATION_PURGED, events, purged_at)
    result.conversations = len(rows)
    result.messages = sum(removed.values())
    result.by_rule = Counter(row["rule"] for row in rows)
    result.max_delay_seconds = _delay_seconds(purged_at, [row["retain_until"] for row in rows])
    result.external_ids = [row["external_id"] for row in rows]
    result.last_key = (rows[-1]["retain_until"], rows[-1]["id"])
    return result


def _tell_connected_systems(event_type: str, items: list[dict], purged_at: datetime) -> None:
    """One `*.purged` event per item, in the batch's transaction (the outbox):
    gone here and told to every system holding a copy, or neither. When no
    enabled system subscribes to the type, nothing is built (the outbox
    would drop the events after validating them: 7% of a batch, under the
    chain lock)."""
    if event_type not in subscribed_types():
        return
    at = iso_utc(purged_at)
    outbox_record_many(
        events=[
            OutboxItem(type=event_type, account=item["account"], data={**item, "purged_at": at})
            for item in items
            if item["account"]
        ]
    )


def _delete_claimed(
    table: str, alias: str, predicate: str, deadline: str, subject: str, cutoff, limit
) -> list[tuple]:
    """Delete up to `limit` due rows; (deadline, owner id, `subject`) of each."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM {table} WHERE id IN (
                SELECT {alias}.id FROM {table} {alias}
                JOIN {sql.USER} u ON u.id = {alias}.user_id
                WHERE {predicate}
                ORDER BY {alias}.{deadline}, {alias}.id LIMIT %s {sql.skip_locked(alias)}
            ) RETURNING {deadline}, user_id, {subject}
            """,
            [cutoff, limit],
        )
        rows = cursor.fetchall()
        if rows:
            accounts = account_external_ids({user_id for _, user_id, _ in rows})
            event_type, key = _PURGED_EVENTS[table]
            _tell_connected_systems(
                event_type,
                [{"account": accounts.get(user_id), key: item} for _, user_id, item in rows],
                timezone.now(),
            )
        return rows


_PURGED_EVENTS = {
    sql.FLAG: (SCORES_PURGED, "conversation"),
    sql.FEEDBACK: (FEEDBACK_PURGED, "feedback"),
}


def purge_scores_batch(*, cutoff: datetime, batch_size: int = DEFAULT_BATCH_SIZE) -> BatchResult:
    """Classification scores past their own deadline whose content is gone."""
    _refuse_future(cutoff)
    rows = _delete_claimed(
        sql.FLAG,
        "f",
        sql.SCORES_DUE,
        "scores_retain_until",
        "conversation_external_id",
        cutoff,
        batch_size,
    )
    return BatchResult(
        scores=len(rows),
        max_delay_seconds=_delay_seconds(timezone.now(), [row[0] for row in rows]),
    )


def purge_feedback_batch(*, cutoff: datetime, batch_size: int = DEFAULT_BATCH_SIZE) -> BatchResult:
    """Feedback past its retain-until (5 years from submission by default)."""
    _refuse_future(cutoff)
    rows = _delete_claimed(
        sql.FEEDBACK, "fb", sql.FEEDBACK_DUE, "retain_until", "external_id", cutoff, batch_size
    )
    return BatchResult(
        feedback=len(rows),
        max_delay_seconds=_delay_seconds(timezone.now(), [row[0] for row in rows]),
    )


def due_counts(*, cutoff: datetime) -> BatchResult:
    """What a purge at `cutoff` would remove, per rule; nothing is changed."""
    counts = BatchResult()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT c.rule, count(DISTINCT c.id), count(m.id)
            FROM {sql.CONVERSATION} c JOIN {sql.USER} u ON u.id = c.user_id
            LEFT JOIN {sql.MESSAGE} m ON m.conversation_id = c.id
            WHERE {sql.CONVERSATION_DUE}
            GROUP BY c.rule
            """,
            [cutoff],
        )
        for rule, conversations, messages in cursor.fetchall():
            counts.by_rule[rule] = conversations
            counts.conversations += conversations
            counts.messages += messages
        cursor.execute(
            f"SELECT count(*) FROM {sql.FLAG} f JOIN {sql.USER} u ON u.id = f.user_id "
            f"WHERE {sql.SCORES_DUE}",
            [cutoff],
        )
        counts.scores = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT count(*) FROM {sql.FEEDBACK} fb JOIN {sql.USER} u ON u.id = fb.user_id "
            f"WHERE {sql.FEEDBACK_DUE}",
            [cutoff],
        )
        counts.feedback = cursor.fetchone()[0]
    return counts


def _finish(run: PurgeRun, report: PurgeReport, status: str, error: str = "") -> None:
    run.status = status
    run.finished_at = timezone.now()
    run.conversations_purged = report.conversations
    run.messages_purged = report.messages
    run.scores_purged = report.scores
    run.feedback_purged = report.feedback
    run.batches = report.batches
    run.counts_by_rule = report.conversations_by_rule
    run.max_delay_seconds = report.max_delay_seconds
    run.error = error
    run.save()
    report.status = status


INTERRUPTED = "interrupted: the process running it stopped before it finished (killed or lost)"


def _close_interrupted_runs() -> int:
    """Mark as failed the runs that still say "running" but cannot be alive:
    started longer ago than Celery's hard time limit, which kills any task by
    then. (Called with the run lock held, so no other locked run is alive;
    fan-out slices take no lock, hence the age test rather than "all".) Such a
    row was left by a process that died (kill -9, a lost host) before it could
    record its end. Its committed batches stand, with their receipts."""
    started_before = timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    closed = PurgeRun.objects.filter(
        status=PurgeRun.Status.RUNNING, started_at__lt=started_before
    ).update(status=PurgeRun.Status.FAILED, finished_at=timezone.now(), error=INTERRUPTED)
    if closed:
        logger.warning("purge: %s earlier run(s) had stopped without finishing", closed)
    return closed


@dataclass
class _Tally:
    """Adds each batch's result to a run's totals; shared by the batch
    threads of a parallel run, hence the lock."""

    report: PurgeReport
    total: BatchResult
    progress: Progress | None = None
    renew: Callable[[], None] = lambda: None  # the run lock's lease (SQLite)
    guard: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, result: BatchResult, items: int) -> None:
        with self.guard:
            self.total.add(result)
            self.report.batches += 1
        self.renew()
        if self.progress is not None:
            self.progress(items)


def _drain(
    batch,
    *,
    cutoff,
    batch_size,
    tally: _Tally,
    stop: threading.Event | None = None,
    max_batches: int | None = None,
) -> None:
    """Run `batch` until it finds nothing left (or `stop` is set, or
    `max_batches` have run). Conversation batches resume after the last key
    of the previous one, so they never rescan what this loop left behind."""
    after, batches = None, 0
    while not (stop is not None and stop.is_set()) and (
        max_batches is None or batches < max_batches
    ):
        resume = {"after": after} if batch is purge_batch else {}
        result = batch(cutoff=cutoff, batch_size=batch_size, **resume)
        items = result.conversations + result.scores + result.feedback
        if not items:
            return
        after, batches = result.last_key, batches + 1
        tally(result, items)


def _drain_in_parallel(*, cutoff, batch_size, connections: int, tally: _Tally) -> None:
    """Conversation batches on `connections` database connections at once
    (threads, each with its own connection), as fan-out workers on several
    hosts would: their claims are disjoint (SKIP LOCKED), deletes run side by
    side and only the receipt append queues on the chain lock. Each thread
    resumes after its own last key: what it skipped was locked by another
    thread, which purges it, or by someone else, and waits for the next run.
    The first failure stops the others after their current batch (committed
    or rolled back whole) and is raised here."""
    stop = threading.Event()
    failures: list[BaseException] = []
    started = [threading.Event() for _ in range(connections)]
    finished = [threading.Event() for _ in range(connections)]

    def work(n: int) -> None:
        started[n].set()
        try:
            _drain(purge_batch, cutoff=cutoff, batch_size=batch_size, tally=tally, stop=stop)
        except BaseException as exc:
            failures.append(exc)
            stop.set()
        finally:
            connection.close()  # this thread's own connection
            finished[n].set()

    threads = [
        threading.Thread(target=work, args=(n,), name=f"purge-batches-{n}", daemon=True)
        for n in range(connections)
    ]
    try:
        for thread in threads:
            thread.start()
        for done in finished:
            done.wait()
    except BaseException:
        # A soft time limit or an interrupt lands in this thread, possibly
        # while it is still starting the others: every thread that runs
        # finishes the batch in hand before the run is failed, so nothing
        # outlives it. Events, not Thread.join(): CPython 3.12 marks a thread
        # stopped when a signal interrupts a join of it, and joining it again
        # then returns at once. A thread not running within the grace period
        # was never spawned.
        stop.set()
        for ran, done in zip(started, finished, strict=True):
            if ran.wait(THREAD_START_GRACE_SECONDS):
                done.wait()
        raise
    if failures:
        raise failures[0]


THREAD_START_GRACE_SECONDS = 5.0


def _purge_connections(requested: int | None) -> int:
    """Connections for conversation batches: RETENTION_PURGE_CONNECTIONS by
    default; always 1 on SQLite, which has a single writer."""
    if not sql.is_postgresql():
        return 1
    if requested is None:
        requested = settings.RETENTION_PURGE_CONNECTIONS
    return max(1, requested)


def purge_due(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    connections: int | None = None,
) -> PurgeReport:
    """Purge everything due at `now` (default: the clock, read once): content
    of due conversations (with receipts and statistics), then classification
    scores whose content is gone, then feedback. Batches of `batch_size`, one
    transaction each; safe to re-run after any failure. `progress` is called
    with the number of items each batch removed. Conversation batches run on
    `connections` database connections at once (default
    RETENTION_PURGE_CONNECTIONS; always 1 on SQLite). A cutoff later than the
    clock is refused unless `dry_run` (which only counts, per rule)."""
    cutoff = now or timezone.now()
    if timezone.is_naive(cutoff):
        raise ValueError("the cutoff must be timezone-aware")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if dry_run:
        return _dry_run(cutoff)
    _refuse_future(cutoff, tolerance=timedelta(0))
    return _locked_run(cutoff, batch_size=batch_size, progress=progress, connections=connections)


def _dry_run(cutoff: datetime) -> PurgeReport:
    """What a run at `cutoff` would remove, per rule, recorded as a dry-run
    PurgeRun. Takes no lock and changes nothing else."""
    counts = due_counts(cutoff=cutoff)
    # Never "running": only purge runs hold that status, so the next run
    # can tell a dead one (see _close_interrupted_runs).
    run = PurgeRun.objects.create(
        cutoff=cutoff, status=PurgeRun.Status.DRY_RUN, finished_at=timezone.now()
    )
    report = PurgeReport(
        run_id=run.pk,
        cutoff=cutoff,
        status=PurgeRun.Status.DRY_RUN,
        dry_run=True,
        conversations_by_rule=dict(counts.by_rule),
        conversations=counts.conversations,
        messages=counts.messages,
        scores=counts.scores,
        feedback=counts.feedback,
    )
    _finish(run, report, PurgeRun.Status.DRY_RUN)
    return report


def _locked_run(
    cutoff: datetime, *, batch_size: int, progress: Progress | None, connections: int | None
) -> PurgeReport:
    """The purge proper, under the run lock: close runs that died, then every
    batch, recorded as a PurgeRun; the deletion health is logged once the
    lock is released. Ends at once, "skipped", when another run holds the lock."""
    with run_lock() as lock:
        if not lock.acquired:
            return _skipped(cutoff)
        _close_interrupted_runs()
        run = PurgeRun.objects.create(cutoff=cutoff, status=PurgeRun.Status.RUNNING)
        report = PurgeReport(run_id=run.pk, cutoff=cutoff, status=PurgeRun.Status.RUNNING)
        total = BatchResult()
        tally = _Tally(report, total, progress=progress, renew=lock.renew)
        try:
            _drain_all(cutoff=cutoff, batch_size=batch_size, connections=connections, tally=tally)
            # Last: an account whose last item this run purged is erased now.
            report.accounts_erased = accounts_erase_emptied(now=cutoff)
        except BaseException as exc:
            # Committed batches stay committed (with their receipts); the one
            # that failed rolled back whole. Record what was done, then fail.
            logger.exception("purge run %s failed after %s batches", run.pk, report.batches)
            _fill(report, total)
            _record_failure(run, report, exc)
            raise
        _fill(report, total)
        _finish(run, report, PurgeRun.Status.SUCCEEDED)
    logger.info(
        "purge run %s: %s conversations, %s messages, %s scores, %s feedback in %s batches; "
        "%s deleted accounts erased",
        run.pk,
        report.conversations,
        report.messages,
        report.scores,
        report.feedback,
        report.batches,
        report.accounts_erased,
    )
    log_deletion_health()
    return report


def _record_failure(run: PurgeRun, report: PurgeReport, exc: BaseException) -> None:
    """Mark the run failed. The connection whose server session was cut may
    be unusable for it: directly on PostgreSQL it is closed, but behind
    PgBouncer the client connection outlives its server session and can be
    out of step with it (psycopg: "received 2 results from command
    'COMMIT'"). Then a fresh connection records the failure."""
    error = f"{type(exc).__name__}: {exc}"
    try:
        _finish(run, report, PurgeRun.Status.FAILED, error=error)
    except DatabaseError:
        connection.close()
        _finish(run, report, PurgeRun.Status.FAILED, error=error)


def _skipped(cutoff: datetime) -> PurgeReport:
    run = PurgeRun.objects.create(
        cutoff=cutoff, status=PurgeRun.Status.SKIPPED, finished_at=timezone.now()
    )
    logger.info("purge run %s skipped: another run holds the lock", run.pk)
    return PurgeReport(
        run_id=run.pk,
        cutoff=cutoff,
        status=PurgeRun.Status.SKIPPED,
        skipped_because_locked=True,
    )


def _drain_all(*, cutoff, batch_size, connections: int | None, tally: _Tally) -> None:
    """Conversations (on several connections where allowed), then scores,
    then feedback, each until nothing is left."""
    parallel = _purge_connections(connections)
    batches = (purge_batch, purge_scores_batch, purge_feedback_batch)
    if parallel > 1:
        _drain_in_parallel(cutoff=cutoff, batch_size=batch_size, connections=parallel, tally=tally)
        batches = batches[1:]
    for batch in batches:
        _drain(batch, cutoff=cutoff, batch_size=batch_size, tally=tally)


def _fill(report: PurgeReport, total: BatchResult) -> None:
    report.conversations = total.conversations
    report.messages = total.messages
    report.scores = total.scores
    report.feedback = total.feedback
    report.conversations_by_rule = dict(total.by_rule)
    report.max_delay_seconds = total.max_delay_seconds


def purge_backlog_slice(
    *, cutoff: datetime, batch_size: int = DEFAULT_BATCH_SIZE, max_batches: int = 50
) -> PurgeReport:
    """A fan-out share of a large backlog: up to `max_batches` conversation
    batches at a cutoff computed by the scheduled run. Takes no run lock (the
    claims are disjoint); recorded as its own PurgeRun for deletion health."""
    _refuse_future(cutoff)
    run = PurgeRun.objects.create(cutoff=cutoff, status=PurgeRun.Status.RUNNING)
    report = PurgeReport(run_id=run.pk, cutoff=cutoff, status=PurgeRun.Status.RUNNING)
    total = BatchResult()
    try:
        _drain(
            purge_batch,
            cutoff=cutoff,
            batch_size=batch_size,
            tally=_Tally(report, total),
            max_batches=max_batches,
        )
    except BaseException as exc:
        _fill(report, total)
        _finish(run, report, PurgeRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    _fill(report, total)
    _finish(run, report, PurgeRun.Status.SUCCEEDED)
    return report
