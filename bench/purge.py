#!/usr/bin/env python
"""Benchmark of the purge job on PostgreSQL (issue 4).

Seeds a database of its own (default 100,000 conversations x 10 messages: 20%
of them due, some under legal hold, some commercial, some flagged), keeps it
as a template, and for each variant copies the template afresh (CREATE
DATABASE ... TEMPLATE), so every variant starts from byte-identical data:

  ours   retention.purge.purge_due (batches, receipts, statistics), as
         configured by default: RETENTION_PURGE_CONNECTIONS (2) connections
         side by side
  ours1  the same on one connection
  raw    a hand-written raw-SQL purge of the same rows (one transaction,
         no receipts, no statistics): the floor
  naive  QuerySet.delete() of the same rows, on this schema: its foreign keys
         to a conversation act in the database (DB_CASCADE / DB_SET_NULL),
         so Django takes its fast path, one DELETE the database cascades
  collector  the same QuerySet.delete() with the foreign keys declared as a
         default Django app would (CASCADE / SET_NULL in Python), so it goes
         through Django's collector, the "naive delete" the goal was set for

Each variant runs in a child process, which reports its wall time and its peak
resident memory (ru_maxrss) above the baseline after Django has loaded. Then
peak memory of `ours` (and `naive`) at a 10,000 backlog and at the largest
backlog the data allows. All variants must leave the same rows behind.

Usage: .venv/bin/python bench/purge.py [--conversations N] [--messages-per-conversation M]
Needs a PostgreSQL server (PGURL, default postgres://postgres@127.0.0.1:5432).
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness
from bench.harness import ROOT

SEED_DB = "portal_bench_seed"
RUN_DB = "portal_bench"


def _args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per-conversation", type=int, default=10)
    parser.add_argument("--due-fraction", type=float, default=0.2)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=0,
        help="conversations per batch of ours (default: the purge's DEFAULT_BATCH_SIZE)",
    )
    parser.add_argument("--small-backlog", type=int, default=10_000)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of the variants, the order rotated every round; medians reported",
    )
    parser.add_argument(
        "--db-prefix",
        default="portal_bench",
        help="names of its databases: <prefix>_seed and <prefix> (default portal_bench)",
    )
    parser.add_argument(
        "--variants",
        default="raw,ours,ours1,naive,collector",
        help="comma-separated variants to time (raw and ours are always run)",
    )
    parser.add_argument(
        "--skip-memory",
        action="store_true",
        help="skip the peak-memory runs at a small and a large backlog",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of the comparison: one run each of ours and ours1, timing each phase "
        "of a batch per connection and sampling pg_stat_activity's wait events meanwhile",
    )
    parser.add_argument(
        "--baseline",
        help="a checkout of an earlier version (e.g. `git archive <commit> | tar -x -C DIR`): "
        "adds the variants base and base1, its purge as configured and on one connection, "
        "timed side by side with this version's",
    )
    harness.add_pg_url_argument(parser)
    parser.add_argument(
        "--child",
        choices=["ours", "ours1", "raw", "naive", "collector", "setup"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--cutoff", help=argparse.SUPPRESS)
    parser.add_argument("--child-profile", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    global SEED_DB, RUN_DB
    SEED_DB, RUN_DB = f"{args.db_prefix}_seed", args.db_prefix
    return args


# ---------------------------------------------------------------- children --


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _due_sql():
    from retention.purge import sql

    return sql


def _run_raw(cutoff):
    """The floor: the same rows (same due predicate) in four set-based
    statements, one transaction, no receipts, no statistics, no batching."""
    from django.db import connection, transaction

    sql = _due_sql()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {sql.MESSAGE} m USING {sql.CONVERSATION} c, {sql.USER} u "
            f"WHERE m.conversation_id = c.id AND u.id = c.user_id AND {sql.CONVERSATION_DUE}",
            [cutoff],
        )
        cursor.execute(
            f"DELETE FROM {sql.CONVERSATION} c USING {sql.USER} u "
            f"WHERE u.id = c.user_id AND {sql.CONVERSATION_DUE}",
            [cutoff],
        )
        n = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {sql.FLAG} f USING {sql.USER} u "
            f"WHERE u.id = f.user_id AND {sql.SCORES_DUE}",
            [cutoff],
        )
        cursor.execute(
            f"DELETE FROM {sql.FEEDBACK} fb USING {sql.USER} u "
            f"WHERE u.id = fb.user_id AND {sql.FEEDBACK_DUE}",
            [cutoff],
        )
    return n


def _use_django_collector():
    """Declare the conversation's foreign keys as a default Django app would
    (Python-level CASCADE / SET_NULL instead of this schema's database-level
    DB_CASCADE / DB_SET_NULL), so QuerySet.delete() goes through Django's
    collector: it loads the conversations, then deletes and updates their
    related rows relation by relation. The database's own ON DELETE actions
    stay in place and find nothing left to do."""
    from django.db import models

    from retention.models import Feedback, Flag, LegalHold, Message, TrainingRunConversation

    Message._meta.get_field("conversation").remote_field.on_delete = models.CASCADE
    for model in (Flag, Feedback, LegalHold, TrainingRunConversation):
        model._meta.get_field("conversation").remote_field.on_delete = models.SET_NULL


def _run_naive(cutoff):
    from django.db.models import Exists, OuterRef, Q

    from retention.models import Conversation, Feedback, Flag, LegalHold

    def not_held(ref):
        return ~Exists(
            LegalHold.objects.filter(user_id=OuterRef("user_id"), released_at=None).filter(
                Q(scope="account") | Q(conversation_id=OuterRef(ref))
            )
        )

    _deleted, per_model = (
        Conversation.objects.filter(retain_until__lte=cutoff)
        .exclude(rule__in=["commercial", "legal_hold"])
        .exclude(user__account_type="commercial")
        .filter(not_held("pk"))
        .delete()
    )
    Flag.objects.filter(conversation__isnull=True, scores_retain_until__lte=cutoff).exclude(
        user__account_type="commercial"
    ).filter(
        ~Exists(LegalHold.objects.filter(user_id=OuterRef("user_id"), released_at=None))
    ).delete()
    Feedback.objects.filter(retain_until__lte=cutoff).exclude(
        user__account_type="commercial"
    ).filter(
        ~Exists(LegalHold.objects.filter(user_id=OuterRef("user_id"), released_at=None))
    ).delete()
    return per_model.get("retention.Conversation", 0)


class _Phases:
    """Wall time per phase of a batch, per thread (connection): the claim,
    the deletes, the wait for the chain lock, the receipts (hash chain and
    COPY), the statistics upsert, the outbox, the commit; plus the time the
    chain lock is held (from its grant to the end of the commit) and each
    thread's CPU time (Python, the GIL)."""

    def __init__(self) -> None:
        import threading
        from collections import defaultdict

        self.times = defaultdict(lambda: defaultdict(float))
        self.counts = defaultdict(lambda: defaultdict(int))
        self.local = threading.local()

    def add(self, phase: str, seconds: float) -> None:
        import threading

        name = threading.current_thread().name
        self.times[name][phase] += seconds
        self.counts[name][phase] += 1

    def wrap(self, module, attribute: str, phase: str) -> None:
        real = getattr(module, attribute)

        def timed(*args, **kwargs):
            begin = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                self.add(phase, time.perf_counter() - begin)

        setattr(module, attribute, timed)

    def install(self) -> None:
        import threading

        from django.db.backends.postgresql.base import DatabaseWrapper

        from retention.purge import core, receipts

        self.wrap(core, "_claim_conversations", "claim")
        self.wrap(core, "_delete_content", "delete")
        for name, phase in (
            ("build_receipts", "receipts: build (incl. lock wait)"),
            ("prepare_receipts", "receipts: prepare (before the lock)"),
            ("chain_receipts", "receipts: chain (incl. lock wait)"),
        ):
            if hasattr(core, name):
                self.wrap(core, name, phase)
        self.wrap(core, "insert_receipts", "receipts: COPY")
        self.wrap(core, "_add_statistics", "statistics upsert")
        self.wrap(core, "_tell_connected_systems", "outbox")
        self.wrap(core, "purge_batch", "batch total")
        phases = self
        real_head = receipts.chain_head_locked

        def head():
            # The advisory lock's wait alone, then the head read.
            from django.db import connection

            begin = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [receipts.CHAIN_LOCK_KEY])
            granted = time.perf_counter()
            phases.add("chain lock wait", granted - begin)
            phases.local.granted = granted
            return real_head()  # takes it again: re-entrant within the transaction

        receipts.chain_head_locked = head
        real_commit = DatabaseWrapper._commit

        def commit(wrapper):
            begin = time.perf_counter()
            try:
                return real_commit(wrapper)
            finally:
                end = time.perf_counter()
                phases.add("commit", end - begin)
                granted = getattr(phases.local, "granted", None)
                if granted is not None:
                    phases.add("chain lock held (grant to commit end)", end - granted)
                    phases.local.granted = None

        DatabaseWrapper._commit = commit
        real_run = threading.Thread.run

        def run(thread):
            begin = time.thread_time()
            try:
                return real_run(thread)
            finally:
                phases.add("thread CPU (Python + driver)", time.thread_time() - begin)

        threading.Thread.run = run

    def as_dict(self) -> dict:
        return {
            thread: {
                phase: {"seconds": seconds, "calls": self.counts[thread][phase]}
                for phase, seconds in phases.items()
            }
            for thread, phases in self.times.items()
        }


def _child(args) -> None:
    import django

    django.setup()
    from retention.purge import purge_due

    phases = None
    if args.child_profile:
        phases = _Phases()
        phases.install()

    cutoff = datetime.fromisoformat(args.cutoff)
    if args.child == "setup":  # what every child spends before it works
        rss = _rss_kb()
        print(
            json.dumps(
                {"seconds": 0, "conversations": 0, "rss_baseline_kb": rss, "rss_peak_kb": rss}
            )
        )
        return
    baseline = _rss_kb()
    started = time.perf_counter()
    if args.child in ("ours", "ours1"):
        from retention.purge import DEFAULT_BATCH_SIZE

        batch_size = args.batch_size or DEFAULT_BATCH_SIZE
        connections = 1 if args.child == "ours1" else None
        conversations = purge_due(
            now=cutoff, batch_size=batch_size, connections=connections
        ).conversations
    elif args.child == "raw":
        conversations = _run_raw(cutoff)
    elif args.child == "naive":
        conversations = _run_naive(cutoff)
    else:
        _use_django_collector()
        conversations = _run_naive(cutoff)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "conversations": conversations,
                "rss_baseline_kb": baseline,
                "rss_peak_kb": _rss_kb(),
                "process_cpu": time.process_time(),
                "profile": phases.as_dict() if phases else None,
            }
        )
    )


# ------------------------------------------------------------------ parent --


def _env(args, name):
    """The children's environment: the product's own settings on `name`."""
    return {
        **os.environ,
        **harness.bench_environment(
            args.pg_url, name, args.var_dir, settings="privacy_portal.settings"
        ),
    }


def _seed(args, cutoff: datetime) -> dict:
    """Returns facts about the seed: due count, eligible count, cutoffs."""
    import psycopg

    n, m = args.conversations, args.messages_per_conversation
    harness.create_database(args.pg_url, SEED_DB)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env=_env(args, SEED_DB),
        check=True,
    )
    users = max(20, n // 20)
    due_target = round(n * args.due_fraction)
    long_ago = cutoff - timedelta(days=400)
    text = "lorem ipsum dolor sit amet " * 8

    def commercial(u):
        return u % 20 == 19

    def held(u):
        return not commercial(u) and u % 25 == 24

    with psycopg.connect(f"{args.pg_url}/{SEED_DB}") as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY accounts_user (id, password, is_superuser, email, external_id, account_type,"
            " plan, is_staff, is_active, date_joined) FROM STDIN"
        ) as copy:
            for u in range(1, users + 1):
                copy.write_row(
                    (
                        u,
                        "!",
                        False,
                        f"u{u}@bench.test",
                        f"acct_{u}",
                        "commercial" if commercial(u) else "consumer",
                        "team" if commercial(u) else ("free", "pro", "max")[u % 3],
                        False,
                        True,
                        long_ago,
                    )
                )
        with cur.copy(
            "COPY retention_legalhold (id, user_id, scope, conversation_external_id, reason,"
            " placed_at) FROM STDIN"
        ) as copy:
            for u in range(1, users + 1):
                if held(u):
                    copy.write_row((u, u, "account", "", "bench hold", long_ago))
        eligible = 0
        flagged_rows = []
        with cur.copy(
            "COPY retention_conversation (id, user_id, external_id, kind, title, created_at,"
            " last_activity_at, deleted_at, shared_for_training, flagged_at, rule, retain_until,"
            " public_rule, public_retain_until) FROM STDIN"
        ) as copy:
            for i in range(1, n + 1):
                u = (i % users) + 1
                flagged = i % 10 == 3
                if commercial(u):
                    rule, until, public = "commercial", None, "commercial"
                else:
                    eligible += 1
                    # Deadlines one second apart in eligible order: exactly
                    # `due_target` are due at the cutoff, more at later cutoffs.
                    until = cutoff + timedelta(seconds=eligible - due_target)
                    public = "flagged" if flagged else ("shared_training", "not_shared")[i % 2]
                    rule = public
                    if held(u):
                        eligible -= 1
                        rule, until = "legal_hold", None
                activity = long_ago + timedelta(seconds=i)
                copy.write_row(
                    (
                        i,
                        u,
                        f"conv_{i}",
                        "chat" if i % 4 else "coding_session",
                        f"Title {i}",
                        activity,
                        activity,
                        activity if i % 7 == 0 else None,
                        i % 2 == 0,
                        activity if flagged else None,
                        rule,
                        until,
                        public,
                        until,
                    )
                )
                if flagged:
                    flagged_rows.append((i, u, until))
        with cur.copy(
            "COPY retention_message (id, conversation_id, external_id, role, content, sent_at)"
            " FROM STDIN"
        ) as copy:
            mid = 0
            for i in range(1, n + 1):
                at = long_ago + timedelta(seconds=i)
                for k in range(m):
                    mid += 1
                    copy.write_row((mid, i, f"msg_{mid}", ("user", "assistant")[k % 2], text, at))
        with cur.copy(
            "COPY retention_flag (id, user_id, conversation_id, conversation_external_id,"
            " flagged_at, scores, scores_retain_until) FROM STDIN"
        ) as copy:
            fid = 0
            for i, u, until in flagged_rows:
                fid += 1
                later = until + timedelta(days=5 * 365) if until else None
                copy.write_row((fid, u, i, f"conv_{i}", long_ago, '{"x": 0.9}', later))
            for k in range(n // 100):  # scores whose content is already gone
                fid += 1
                u = (k % users) + 1
                until = None if commercial(u) else cutoff + timedelta(seconds=k - n // 200)
                copy.write_row((fid, u, None, f"gone_{k}", long_ago, '{"x": 0.5}', until))
        with cur.copy(
            "COPY retention_feedback (id, user_id, external_id, kind, comment, excerpt,"
            " conversation_external_id, submitted_at, public_retain_until, retain_until)"
            " FROM STDIN"
        ) as copy:
            for k in range(n // 10):
                u = (k % users) + 1
                until = cutoff + timedelta(seconds=k - n // 50)
                copy.write_row(
                    (
                        k + 1,
                        u,
                        f"fb_{k}",
                        "thumbs_up",
                        "",
                        "an excerpt",
                        "",
                        long_ago,
                        until,
                        None if commercial(u) or held(u) else until,
                    )
                )
        for table in (
            "accounts_user",
            "retention_legalhold",
            "retention_conversation",
            "retention_message",
            "retention_flag",
            "retention_feedback",
        ):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        conn.commit()
    with psycopg.connect(f"{args.pg_url}/{SEED_DB}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return {"eligible": eligible, "due": min(due_target, eligible)}


def _sample_waits(pg_url: str, stop, samples: list) -> None:
    """Every 5 ms, what each backend of the run's database is doing: active
    or not, its wait event, the start of its statement."""
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as conn:
        while not stop.is_set():
            samples.append(
                conn.execute(
                    "SELECT pid, state, coalesce(wait_event_type, 'CPU'), "
                    "coalesce(wait_event, 'running'), left(regexp_replace(query, '\\s+', ' ', "
                    "'g'), 60) FROM pg_stat_activity WHERE datname = %s "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                    [RUN_DB],
                ).fetchall()
            )
            time.sleep(0.005)


def _backend_cpu(pg_url: str, stop, cpu: dict) -> None:
    """CPU seconds (user + system) of each backend of the run's database, read
    from /proc every 10 ms while it lives (the server is on this machine):
    on a shared machine CPU time says what a variant costs when wall time
    mostly says how busy the others were."""
    import psycopg

    tick = os.sysconf("SC_CLK_TCK")
    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as conn:
        while not stop.is_set():
            pids = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [RUN_DB],
            ).fetchall()
            for (pid,) in pids:
                try:
                    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                cpu[pid] = max(cpu.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / tick)
            time.sleep(0.01)


def _run_variant(args, variant: str, cutoff: datetime, *, profile: bool = False) -> dict:
    harness.create_database(args.pg_url, RUN_DB, template=SEED_DB)
    import threading

    import psycopg

    with psycopg.connect(f"{args.pg_url}/{RUN_DB}", autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # same planner statistics in every copy
    stop, samples, server_cpu = threading.Event(), [], {}
    cpu_sampler = threading.Thread(target=_backend_cpu, args=(args.pg_url, stop, server_cpu))
    cpu_sampler.start()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    sampler = None
    if profile:
        sampler = threading.Thread(target=_sample_waits, args=(args.pg_url, stop, samples))
        sampler.start()
    root, child = ROOT, variant
    if variant in ("base", "base1"):
        root, child = Path(args.baseline).resolve(), {"base": "ours", "base1": "ours1"}[variant]
    out = subprocess.run(
        [
            sys.executable,
            str(root / "bench" / "purge.py"),
            "--child",
            child,
            "--cutoff",
            cutoff.isoformat(),
            "--batch-size",
            str(args.batch_size),
            *(["--child-profile"] if profile else []),
        ],
        cwd=root,
        env=_env(args, RUN_DB),
        check=True,
        capture_output=True,
        text=True,
    )
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    stop.set()
    cpu_sampler.join()
    if sampler is not None:
        sampler.join()
        result_samples = samples
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["client_cpu"] = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    result["server_cpu"] = sum(server_cpu.values())
    if sampler is not None:
        result["samples"] = result_samples
    with psycopg.connect(f"{args.pg_url}/{RUN_DB}") as conn:
        result["left"] = [
            conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in (
                "retention_conversation",
                "retention_message",
                "retention_flag",
                "retention_feedback",
            )
        ]
        result["receipts"] = conn.execute(
            "SELECT count(*) FROM retention_deletionreceipt"
        ).fetchone()[0]
    result["peak_mb"] = (result["rss_peak_kb"] - result["rss_baseline_kb"]) / 1024
    return result


def _print_profile(variant: str, r: dict) -> None:
    from collections import Counter

    print(
        f"\n### {variant}: {r['seconds']:.2f} s wall, process CPU {r['process_cpu']:.2f} s, "
        f"{r['conversations']:,} conversations\n"
    )
    if r.get("profile"):
        threads = sorted(r["profile"])
        phases = []
        for thread in threads:
            phases += [p for p in r["profile"][thread] if p not in phases]
        print("| phase | " + " | ".join(f"{t} s (calls)" for t in threads) + " |")
        print("|---|" + "---:|" * len(threads))
        for phase in phases:
            cells = []
            for thread in threads:
                cell = r["profile"][thread].get(phase)
                cells.append(f"{cell['seconds']:.3f} ({cell['calls']})" if cell else "")
            print(f"| {phase} | " + " | ".join(cells) + " |")
    per_state = Counter()
    total = 0
    for sample in r.get("samples", []):
        for _pid, state, wait_type, wait, query in sample:
            if state != "active":
                key = (f"not in a statement ({state})", "", "")
            else:
                key = (wait_type, wait, query[:40])
            per_state[key] += 1
            total += 1
    ticks = len(r.get("samples", []))
    print(
        f"\npg_stat_activity: {ticks} samples (every ~5 ms) of the run's backends, "
        f"{total} backend-samples\n"
    )
    print("| share | wait type | wait event | statement |")
    print("|---:|---|---|---|")
    for (wait_type, wait, query), n in per_state.most_common(14):
        print(f"| {100 * n / max(total, 1):.1f}% | {wait_type} | {wait} | `{query}` |")


def main(argv=None) -> int:
    args = _args(argv)
    if args.child:
        _child(args)
        return 0
    args.var_dir = Path(tempfile.mkdtemp(prefix="portal-bench-purge-"))
    try:
        return measure(args)
    finally:
        harness.drop_database(args.pg_url, RUN_DB)
        harness.drop_database(args.pg_url, SEED_DB)
        shutil.rmtree(args.var_dir, ignore_errors=True)


def measure(args) -> int:
    t0 = time.perf_counter()
    run = harness.Run()
    cutoff = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
    print(
        f"Seeding {args.conversations:,} conversations x {args.messages_per_conversation} "
        f"messages into {SEED_DB} ...",
        flush=True,
    )
    facts = _seed(args, cutoff)
    print(f"  seeded in {time.perf_counter() - t0:.0f} s: {facts}", flush=True)
    if args.profile:
        for variant in ("ours", "ours1", "raw"):
            _print_profile(variant, _run_variant(args, variant, cutoff, profile=True))
        run.report()
        return 0

    variants = ["raw", "ours"] + [
        v for v in args.variants.split(",") if v and v not in ("raw", "ours")
    ]
    if args.baseline:
        variants += ["base", "base1"]
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    setup_cpu = []
    for round_no in range(args.rounds):
        setup_cpu.append(_run_variant(args, "setup", cutoff)["client_cpu"])
        # Rotate the order so no variant always runs first (cold caches) or last.
        shift = round_no % len(variants)
        order = variants[shift:] + variants[:shift]
        for variant in order:
            r = _run_variant(args, variant, cutoff)
            runs[variant].append(r)
            print(
                f"  round {round_no + 1} {variant:5}: {r['seconds']:7.2f} s, "
                f"CPU client {r['client_cpu']:.2f} s server {r['server_cpu']:.2f} s, "
                f"{r['conversations']:,} conversations, peak +{r['peak_mb']:.1f} MB, "
                f"left {r['left']}",
                flush=True,
            )
    setup = statistics.median(setup_cpu)
    for rs in runs.values():
        for r in rs:
            r["cpu"] = max(0.0, r["client_cpu"] - setup) + r["server_cpu"]
    results = {
        v: {
            **rs[0],
            "seconds": statistics.median(r["seconds"] for r in rs),
            "cpu": statistics.median(r["cpu"] for r in rs),
        }
        for v, rs in runs.items()
    }

    def per_round_ratio(a: str, b: str) -> list[float]:
        return [x["seconds"] / y["seconds"] for x, y in zip(runs[a], runs[b], strict=True)]

    lefts = {tuple(r["left"]) for rs in runs.values() for r in rs}
    same = len(lefts) == 1

    memory = {}
    if not args.skip_memory:
        small = min(args.small_backlog, facts["eligible"])
        for label, backlog in (("small", small), ("large", facts["eligible"])):
            at = cutoff + timedelta(seconds=backlog - facts["due"])
            for variant in ("ours", "naive", "collector"):
                r = _run_variant(args, variant, at)
                memory[(label, variant)] = (backlog, r)
                print(
                    f"  memory {variant:5} backlog {r['conversations']:,}: "
                    f"peak +{r['peak_mb']:.1f} MB in {r['seconds']:.1f} s",
                    flush=True,
                )

    raw = results["raw"]
    print()
    print(
        "| variant | time (s) | CPU s (client + server) | conversations purged | receipts "
        "| peak memory above baseline |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in variants:
        r = results[name]
        print(
            f"| {name} | {r['seconds']:.2f} | {r['cpu']:.2f} | {r['conversations']:,} "
            f"| {r['receipts']:,} | {r['peak_mb']:.1f} MB |"
        )
    print()
    print(
        f"(medians of {args.rounds} rounds; CPU: the child process's, less the "
        f"{setup:.2f} s a child spends starting Django, plus its database backends')"
    )
    for name in variants:
        if name != "raw":
            cpu = [r["cpu"] / w["cpu"] for r, w in zip(runs[name], runs["raw"], strict=True)]
            print(f"- CPU {name} / raw: per round {harness.per_round(cpu)}")
    print()
    vs_raw = results["ours"]["seconds"] / raw["seconds"]
    print(
        f"- ours / raw SQL: {vs_raw:.2f}x (goal <= 1.0x: {'met' if vs_raw <= 1.0 else 'NOT met'}); "
        f"per round {harness.per_round(per_round_ratio('ours', 'raw'))}"
    )
    if "ours1" in results:
        ours1_vs_raw = results["ours1"]["seconds"] / raw["seconds"]
        speedup = results["ours1"]["seconds"] / results["ours"]["seconds"]
        print(
            f"- ours1 (one connection) / raw SQL: {ours1_vs_raw:.2f}x; "
            f"per round {harness.per_round(per_round_ratio('ours1', 'raw'))}"
        )
        print(
            f"- speed-up of the configured connections over one (ours1 / ours): {speedup:.2f}x "
            f"(goal >= 1.8x with 2: {'met' if speedup >= 1.8 else 'NOT met'}); "
            f"per round {harness.per_round(per_round_ratio('ours1', 'ours'))}"
        )
    if "base" in results:
        for new, old in (("ours", "base"), ("ours1", "base1")):
            if new in results:
                print(
                    f"- {new} / {old} (this version against the baseline): "
                    f"{results[new]['seconds'] / results[old]['seconds']:.2f}x; per round "
                    f"{harness.per_round(per_round_ratio(new, old))}"
                )
        print(
            f"- baseline: base / raw {results['base']['seconds'] / raw['seconds']:.2f}x, "
            f"base1 / base {results['base1']['seconds'] / results['base']['seconds']:.2f}x"
        )
    for other in ("naive", "collector"):
        if other in results:
            ratio = results[other]["seconds"] / results["ours"]["seconds"]
            print(
                f"- {other} / ours: {ratio:.2f}x (goal >= 2x faster than naive: "
                f"{'met' if ratio >= 2 else 'NOT met'}); "
                f"per round {harness.per_round(per_round_ratio(other, 'ours'))}"
            )
    print(f"- same rows left by every variant: {'yes' if same else 'NO: ' + str(lefts)}")
    if memory:
        print()
        print("| backlog | ours peak memory | naive peak memory | collector peak memory |")
        print("|---:|---:|---:|---:|")
        for label in ("small", "large"):
            _backlog, o = memory[(label, "ours")]
            _, nv = memory[(label, "naive")]
            _, co = memory[(label, "collector")]
            print(
                f"| {o['conversations']:,} | +{o['peak_mb']:.1f} MB ({o['seconds']:.1f} s) "
                f"| +{nv['peak_mb']:.1f} MB ({nv['seconds']:.1f} s) "
                f"| +{co['peak_mb']:.1f} MB ({co['seconds']:.1f} s) |"
            )
        mem_small = memory[("small", "ours")][1]["peak_mb"]
        mem_large = memory[("large", "ours")][1]["peak_mb"]
        flat = mem_large <= max(mem_small * 1.5, mem_small + 5)
        print()
        print(f"- ours memory flat from small to large backlog: {'met' if flat else 'NOT met'}")
    print(f"- total bench time: {time.perf_counter() - t0:.0f} s")
    run.report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
