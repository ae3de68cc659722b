#!/usr/bin/env python
"""Ingest API throughput in events/s against a plain bulk INSERT of the same
rows, side by side in one run, on PostgreSQL.

Builds a database of its own (default `portal_bench_ingest`, migrated, dropped
at the end) and generates --events events deterministically (--seed) as the
chat service sends them, in time order over 20 days: accounts upserted (1 in
100 events; 1 in 10 commercial), consent allowed by 6 in 10 consumer accounts
and withdrawn later by 1 in 10 of those, conversations (1 in 10 events starts
one, 2 in 7 coding sessions) whose messages interleave with other
conversations' (about 97% of the events are message.added; user messages of
5 to 60 words, assistant answers of 20 to 300), flags (1 in 50 conversations),
feedback (1 in 10) and deletions (1 in 50). Two variants write them in batches
of --batch-size, one transaction per batch:

  ours     POST /api/internal/events with `Authorization: Bearer <token>`,
           through Django's test Client in this process (the whole middleware
           stack, bench/settings.py: the production settings with DEBUG off,
           one persistent database connection; no WSGI server, no network,
           no connection set-up per request): JSON parsing, pydantic
           validation, the idempotency claim of every event id, the lookups
           and checks of each event, the domain services and the deadline
           rewrites, the JSON answer (checked: 200, every event accepted).
  insert   the floor: the rows `ours` wrote in the first round (users, upsert
           marks, consent ledger, conversations, messages, flags, feedback and
           the processed-event ids), read back and written per batch with
           one multi-row INSERT ... VALUES per table, explicit primary keys,
           through a plain psycopg connection. No HTTP, no JSON parsing, no
           validation, no idempotency check, no lookups, no deadline
           computation; each row is inserted once with its final values (a
           conversation in the batch of its first message), where `ours`
           inserts it and then updates it as messages, flags and deletions
           arrive. The statements are built before the clock starts. A run
           of it lasts about 1 s, so each round takes the median of 5 runs
           (each from the same truncated state).

Every run of a variant starts from the same state: the tables the ingest
writes are truncated (RESTART IDENTITY) and a CHECKPOINT is taken first. The
order of the variants alternates every round. It prints the median events/s
of each, the ratio ours time / insert time (goal: at most 3) and checks that
every run of both variants left the same row counts, table by table.
--profile adds one instrumented pass of `ours`: SQL statements and time
spent in the database per event type, and a cProfile of the middle batch.
The default of 10,000 events gives ours about 8 s a round on a 2-core
machine (about 1,200 events/s, runs of message.added being applied
set-based) and the floor about 0.8 s; with the former default of 1,500, ours
took about 1 s and the floor 0.1 s, within the noise of a few commits.

    .venv/bin/python bench/ingest.py                  # about 45 s
    .venv/bin/python bench/ingest.py --profile        # and where ours spends its time
    .venv/bin/python bench/ingest.py --events 50000 --batch-size 1000 --rounds 1  # 70 s

Needs a PostgreSQL server (--pg-url, default $PGURL or postgres://postgres@127.0.0.1:5432).
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness

# The tables the ingest writes; both variants must leave the same rows in them.
TABLES = (
    "accounts_user",
    "ingest_accountupsertmark",
    "accounts_consentchange",
    "retention_conversation",
    "retention_message",
    "retention_flag",
    "retention_feedback",
    "ingest_ingestedevent",
)
URL = "/api/internal/events"
PARAMS_PER_STATEMENT = 65_535  # PostgreSQL's limit of bind parameters
INSERT_REPEATS = 5  # runs of the floor per round (each from the truncated state)
WORDS = (
    "the a of to and in is it that for on with as this be are we can you your data "
    "model privacy retention consent conversation message training account delete "
    "policy days years flagged feedback summary please explain code function error "
    "test query index table python django request response batch event export plan "
    "weekend trip lisbon recipe budget letter email review draft translate compare"
)
VOCABULARY = WORDS.split()
SCORE_NAMES = ("violence", "self_harm", "harassment", "sexual", "hate", "illicit", "spam")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events",
        type=int,
        default=10_000,
        help="events per run of a variant (10000; ours takes about 8 s for them)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=500,
        help="events per request / per insert transaction (500; the API takes at most 1000)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of both variants (3)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated events (1)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, one instrumented pass of ours: statements and database time "
        "per event type, and a cProfile of the middle batch",
    )
    parser.add_argument("--database", default="portal_bench_ingest", help="database to create")
    harness.add_pg_url_argument(parser)
    harness.add_pgbouncer_argument(parser)
    args = parser.parse_args(argv)
    if args.events < 100:
        parser.error("--events must be at least 100")
    if not 1 <= args.batch_size <= 1000:
        parser.error("--batch-size must be from 1 to 1000 (the API's limit)")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


# ------------------------------------------------------------------- events


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def generate_events(count: int, seed: int, start: datetime) -> list[dict]:
    """`count` events in time order, the same for the same seed and start."""
    rng = random.Random(seed)
    span = timedelta(days=20)
    end = start + span

    def uid(prefix: str) -> str:
        return f"{prefix}_{uuid.UUID(int=rng.getrandbits(128), version=4).hex}"

    def words(low: int, high: int) -> str:
        return " ".join(rng.choices(VOCABULARY, k=rng.randint(low, high)))

    timeline: list[tuple[datetime, int, dict]] = []

    def add(at: datetime, type_: str, **fields) -> None:
        event = {"id": uid("evt"), "type": type_, "at": iso(at), **fields}
        timeline.append((at, len(timeline), event))

    # Accounts, created over the first half of the span; consent for consumers.
    n_accounts = max(1, count // 100)
    accounts = []
    for a in range(n_accounts):
        created = start + span / 2 * (a / n_accounts) + timedelta(seconds=rng.randint(0, 3600))
        account_id = uid("acct")
        commercial = rng.random() < 0.1
        plan = (
            rng.choice(("team", "enterprise", "api"))
            if commercial
            else rng.choices(("free", "pro", "max"), weights=(7, 2, 1))[0]
        )
        add(
            created,
            "account.upserted",
            account={
                "id": account_id,
                "email": f"user{a}.{account_id[-6:]}@example.com",
                "type": "commercial" if commercial else "consumer",
                "plan": plan,
            },
        )
        if not commercial and rng.random() < 0.6:
            add(
                created + timedelta(seconds=30), "consent.changed", account=account_id, allowed=True
            )
            if rng.random() < 0.1:
                withdrawn = created + timedelta(days=rng.uniform(1, 8))
                add(withdrawn, "consent.changed", account=account_id, allowed=False)
        accounts.append((account_id, created))

    # Conversations, their number of messages, flags, feedback and deletions.
    n_conversations = max(1, count // 10)
    n_flags, n_feedback, n_deleted = (
        n_conversations // 50,
        n_conversations // 10,
        n_conversations // 50,
    )
    n_messages = count - len(timeline) - n_flags - n_feedback - n_deleted
    if n_messages < n_conversations:
        raise SystemExit(f"--events {count} leaves too few messages for the conversations")
    weights = [rng.expovariate(1.0) for _ in range(n_conversations)]
    extra = Counter(
        rng.choices(range(n_conversations), weights=weights, k=n_messages - n_conversations)
    )
    flagged = set(rng.sample(range(n_conversations), n_flags))
    with_feedback = set(rng.sample(range(n_conversations), n_feedback))
    deleted = set(rng.sample(range(n_conversations), n_deleted))
    for c in range(n_conversations):
        account_id, created = rng.choice(accounts)
        messages = 1 + extra[c]
        latest = end - timedelta(seconds=120 * messages)
        earliest = created + timedelta(seconds=60)
        at = earliest + (latest - earliest) * rng.random() if latest > earliest else earliest
        conversation = {
            "id": uid("conv"),
            "kind": "coding_session" if rng.random() < 2 / 7 else "chat",
            "title": words(2, 6).capitalize(),
        }
        texts = []
        for k in range(messages):
            role = "user" if k % 2 == 0 else "assistant"
            content = words(5, 60) if role == "user" else words(20, 300)
            texts.append((at, content))
            add(
                at,
                "message.added",
                account=account_id,
                conversation=conversation,
                message={"id": uid("msg"), "role": role, "content": content},
            )
            at += timedelta(seconds=rng.uniform(5, 120))
        last = texts[-1][0]
        if c in with_feedback:
            about_at, about = rng.choice(texts)
            kind = rng.choices(("thumbs_up", "thumbs_down", "bug_report"), weights=(6, 3, 1))[0]
            add(
                about_at + timedelta(seconds=2),
                "feedback.submitted",
                account=account_id,
                feedback={
                    "id": uid("fb"),
                    "kind": kind,
                    "comment": "" if kind == "thumbs_up" else words(3, 30),
                    "conversation": conversation["id"],
                    "excerpt": about[:200],
                },
            )
        if c in flagged:
            scores = {
                name: round(rng.random(), 3)
                for name in rng.sample(SCORE_NAMES, rng.randint(2, len(SCORE_NAMES)))
            }
            add(
                last + timedelta(seconds=rng.uniform(60, 3600)),
                "conversation.flagged",
                account=account_id,
                conversation=conversation["id"],
                scores=scores,
            )
        if c in deleted:
            when = min(last + timedelta(hours=rng.uniform(1, 48)), end)
            add(when, "conversation.deleted", account=account_id, conversation=conversation["id"])
    timeline.sort(key=lambda item: (item[0], item[1]))
    events = [event for _, _, event in timeline]
    assert len(events) == count, (len(events), count)
    return events


# ------------------------------------------------------- the plain INSERT --


def batch_keys(events: list[dict], batch_size: int) -> dict[str, dict]:
    """For each table, the key of each row the events produce -> its batch
    (the batch of the event that creates the row)."""
    keys: dict[str, dict] = defaultdict(dict)
    for index, event in enumerate(events):
        batch = index // batch_size
        kind = event["type"]
        keys["ingest_ingestedevent"][event["id"]] = batch
        at = datetime.fromisoformat(event["at"])
        if kind == "account.upserted":
            keys["accounts_user"].setdefault(event["account"]["id"], batch)
            keys["ingest_accountupsertmark"].setdefault(event["account"]["id"], batch)
        elif kind == "consent.changed":
            keys["accounts_consentchange"][event["account"], at] = batch
        elif kind == "message.added":
            keys["retention_conversation"].setdefault(event["conversation"]["id"], batch)
            keys["retention_message"][event["message"]["id"]] = batch
        elif kind == "conversation.flagged":
            keys["retention_flag"][event["conversation"], at] = batch
        elif kind == "feedback.submitted":
            keys["retention_feedback"][event["feedback"]["id"]] = batch
    return keys


def capture_inserts(conn, events: list[dict], batch_size: int) -> list[list[tuple[str, list]]]:
    """Read back every row the ingest wrote and build, per batch, one
    INSERT ... VALUES per table (explicit keys) that writes them again."""
    from psycopg import sql
    from psycopg.types.json import Jsonb

    keys = batch_keys(events, batch_size)
    n_batches = (len(events) + batch_size - 1) // batch_size
    rows_of: list[dict[str, list]] = [defaultdict(list) for _ in range(n_batches)]
    columns: dict[str, list[str]] = {}
    external_of_user: dict[int, str] = {}
    for table in TABLES:
        cursor = conn.execute(sql.SQL("SELECT * FROM {} ORDER BY 1").format(sql.Identifier(table)))
        columns[table] = names = [d.name for d in cursor.description]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            if table == "accounts_user":
                external_of_user[row["id"]] = row["external_id"]
                key = row["external_id"]
            elif table == "ingest_accountupsertmark":
                key = row["account_external_id"]
            elif table == "accounts_consentchange":
                key = (external_of_user[row["user_id"]], row["effective_at"])
            elif table == "retention_flag":
                key = (row["conversation_external_id"], row["flagged_at"])
            elif table == "ingest_ingestedevent":
                key = row["event_id"]
            else:
                key = row["external_id"]
            batch = keys[table].get(key)
            if batch is None:
                raise SystemExit(f"{table}: a row the events do not account for: {key!r}")
            rows_of[batch][table].append(
                tuple(Jsonb(v) if isinstance(v, dict | list) else v for v in values)
            )
    statements = []
    for batch_rows in rows_of:
        batch_statements = []
        for table in TABLES:
            rows, names = batch_rows.get(table, []), columns[table]
            step = PARAMS_PER_STATEMENT // len(names)
            for offset in range(0, len(rows), step):
                chunk = rows[offset : offset + step]
                row_sql = "(" + ", ".join(["%s"] * len(names)) + ")"
                query = sql.SQL("INSERT INTO {} ({}) VALUES ").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names))
                ) + sql.SQL(", ".join([row_sql] * len(chunk)))
                params = [value for row in chunk for value in row]
                batch_statements.append((query.as_string(conn), params))
        statements.append(batch_statements)
    return statements


# --------------------------------------------------------------------- main


def main(argv=None) -> int:
    args = parse_args(argv)
    var_dir = Path(tempfile.mkdtemp(prefix="portal-bench-ingest-"))
    (var_dir / "staticfiles").mkdir()  # the API serves no static files; whitenoise wants the dir
    token = secrets.token_urlsafe(32)
    os.environ.update(
        harness.bench_environment(
            args.pg_url,
            args.database,
            var_dir,
            pgbouncer=args.pgbouncer,
            PORTAL_INGEST_TOKEN=token,
        )
    )
    run = harness.Run()
    with harness.database(args.pg_url, args.database):
        try:
            return measure(args, token, run)
        finally:
            shutil.rmtree(var_dir, ignore_errors=True)


def measure(args, token: str, run: harness.Run) -> int:
    plain = None
    try:
        import django

        django.setup()
        import psycopg
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client

        call_command("migrate", verbosity=0)

        # Events of 20 days ending yesterday: the same for the same seed and day.
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        events = generate_events(args.events, args.seed, today - timedelta(days=21))
        mix = Counter(event["type"] for event in events)
        batches = [events[i : i + args.batch_size] for i in range(0, len(events), args.batch_size)]
        bodies = [json.dumps({"events": batch}).encode() for batch in batches]

        plain = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        client = Client(SERVER_NAME="127.0.0.1")
        auth = {"Authorization": f"Bearer {token}"}
        truncate = "TRUNCATE {} RESTART IDENTITY CASCADE".format(", ".join(TABLES))

        def reset() -> None:
            plain.execute(truncate)
            plain.execute("CHECKPOINT")

        def counts() -> tuple[int, ...]:
            return tuple(
                plain.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES
            )

        def all_counts() -> dict[str, int]:
            tables = [
                row[0]
                for row in plain.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
                )
            ]
            return {
                table: plain.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                for table in tables
            }

        def post(index: int, body: bytes | None = None, count: int | None = None) -> None:
            body = bodies[index] if body is None else body
            count = len(batches[index]) if count is None else count
            response = client.post(URL, body, content_type="application/json", headers=auth)
            if response.status_code != 200:
                raise SystemExit(
                    f"ours, batch {index}: HTTP {response.status_code}: "
                    f"{response.content[:1000].decode(errors='replace')}"
                )
            answer = response.json()
            if answer != {"accepted": count, "duplicates": 0}:
                raise SystemExit(f"ours, batch {index}: {answer}, not every event accepted")

        statements = 0

        def count_statements(execute, sql, params, many, context):
            nonlocal statements
            statements += 1
            return execute(sql, params, many, context)

        def run_ours() -> float:
            begin = time.perf_counter()
            for index in range(len(bodies)):
                post(index)
            return time.perf_counter() - begin

        inserts: list[list[tuple[str, list]]] = []

        def run_insert() -> float:
            begin = time.perf_counter()
            with plain.cursor() as cursor:
                for batch_statements in inserts:
                    with plain.transaction():
                        for query, params in batch_statements:
                            cursor.execute(query, params)
            return time.perf_counter() - begin

        # Warm-up (imports, URL resolver, pydantic, plans): the first 50 events, undone.
        warm = events[:50]
        post(0, json.dumps({"events": warm}).encode(), len(warm))
        reset()
        others_before = {t: n for t, n in all_counts().items() if t not in TABLES}

        print(
            f"Ingest, {args.events:,} events in {len(batches)} batches of {args.batch_size} "
            f"({', '.join(f'{n:,} {t}' for t, n in mix.most_common())}); PostgreSQL"
            f"{' through PgBouncer (transaction mode)' if args.pgbouncer else ''}; "
            f"{args.rounds} rounds.\n",
            flush=True,
        )
        seconds: dict[str, list[float]] = {"ours": [], "insert": []}
        left: dict[tuple, tuple[int, ...]] = {}
        ours_statements = []
        for round_no in range(args.rounds):
            order = ("ours", "insert") if round_no % 2 == 0 else ("insert", "ours")
            for variant in order:
                reset()
                if variant == "ours":
                    statements = 0
                    with connection.execute_wrapper(count_statements):
                        took = run_ours()
                    ours_statements.append(statements)
                    if not inserts:  # the first run of ours: the rows for the floor
                        others_after = {t: n for t, n in all_counts().items() if t not in TABLES}
                        if others_after != others_before:
                            changed = {
                                t: (others_before.get(t), n)
                                for t, n in others_after.items()
                                if others_before.get(t) != n
                            }
                            raise SystemExit(f"ours wrote tables the floor does not: {changed}")
                        inserts = capture_inserts(plain, events, args.batch_size)
                    left[variant, round_no] = counts()
                    note = ""
                else:
                    # A run of the floor is short (about 1 s by default), within the
                    # noise of a few commits: the median of INSERT_REPEATS runs.
                    tries = []
                    for repeat in range(INSERT_REPEATS):
                        if repeat:
                            reset()
                        tries.append(run_insert())
                        left[variant, round_no, repeat] = counts()
                    took = statistics.median(tries)
                    note = f"  (median of {', '.join(f'{t:.3f}' for t in tries)})"
                seconds[variant].append(took)
                print(
                    f"  round {round_no + 1} {variant:<6} {took:8.3f} s "
                    f"{args.events / took:10,.0f} events/s{note}",
                    flush=True,
                )

        per_round = [o / i for o, i in zip(seconds["ours"], seconds["insert"], strict=True)]
        ours_s, insert_s = statistics.median(seconds["ours"]), statistics.median(seconds["insert"])
        ratio = ours_s / insert_s
        insert_statements = sum(len(b) for b in inserts)
        print(
            f"\nMedian of {args.rounds} rounds; statements through the driver "
            "(BEGIN/COMMIT not counted):\n"
        )
        print(
            f"{'variant':<8} {'seconds':>8} {'events/s':>10} {'statements':>11} {'per event':>10}"
        )
        for name, median, count in (
            ("ours", ours_s, statistics.median(ours_statements)),
            ("insert", insert_s, insert_statements),
        ):
            print(
                f"{name:<8} {median:8.3f} {args.events / median:10,.0f} {count:11,.0f} "
                f"{count / args.events:10.2f}"
            )
        met = ratio <= 3
        print(
            f"\nours time / insert time: {ratio:.1f}x (goal: within 3x: "
            f"{'met' if met else 'NOT met'}); per round {harness.per_round(per_round, digits=1)}"
        )
        distinct = set(left.values())
        reference = left["ours", 0]
        same = len(distinct) == 1
        print(
            "Same rows left by every run of both variants: "
            + ("yes" if same else f"NO: {left}")
            + "; "
            + ", ".join(f"{t} {n:,}" for t, n in zip(TABLES, reference, strict=True))
        )

        if args.profile:
            profile(args, reset, batches, post, connection)

        run.report()
        return 0 if met and same else 1
    finally:
        if plain is not None:
            plain.close()


def profile(args, reset, batches, post, connection) -> None:
    """One more pass of ours, instrumented: wall time, statements and time
    inside the database driver per event type (the per-event path only: the
    set-based path, ingest.batch, counts as the rest of the request) and in
    the conversation deadline rewrites (timers wrapped around the functions in this process
    only; the ingest code is not changed), and a cProfile of the middle batch
    (left out of the timers)."""
    from ingest import services
    from retention.services import conversations

    current = ["(rest of the request)"]  # the event type being applied
    recording = [True]
    in_refresh = [0]
    wall: Counter = Counter()
    db_seconds: Counter = Counter()
    db_statements: Counter = Counter()
    applied: Counter = Counter()
    refresh = "conversation deadline rewrites"

    def timed_execute(execute, sql, params, many, context):
        begin = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if recording[0]:
                took = time.perf_counter() - begin
                db_seconds[current[0]] += took
                db_statements[current[0]] += 1
                if in_refresh[0]:
                    db_seconds[refresh] += took
                    db_statements[refresh] += 1

    def wrap_apply(kind, apply):
        def wrapped(event, *rest):
            current[0] = kind
            begin = time.perf_counter()
            try:
                return apply(event, *rest)
            finally:
                if recording[0]:
                    wall[kind] += time.perf_counter() - begin
                    applied[kind] += 1
                current[0] = "(rest of the request)"

        return wrapped

    def wrap_run(apply_run):
        # Runs of consecutive message.added events are applied together; their
        # time and statements are shared out per event.
        def wrapped(run):
            current[0] = "message.added"
            begin = time.perf_counter()
            try:
                return apply_run(run)
            finally:
                if recording[0]:
                    wall["message.added"] += time.perf_counter() - begin
                    applied["message.added"] += len(run)
                current[0] = "(rest of the request)"

        return wrapped

    def wrap_refresh(function):
        def wrapped(*a, **kw):
            in_refresh[0] += 1
            begin = time.perf_counter()
            try:
                return function(*a, **kw)
            finally:
                in_refresh[0] -= 1
                if recording[0]:
                    wall[refresh] += time.perf_counter() - begin
                    applied[refresh] += 1

        return wrapped

    original = dict(services._APPLY)
    original_run = services._messages_added
    services._messages_added = wrap_run(original_run)
    patched = [
        (module, module.refresh_conversation_deadlines) for module in (services, conversations)
    ]
    for model, apply in original.items():
        kind = model.model_fields["type"].annotation.__args__[0]
        services._APPLY[model] = wrap_apply(kind, apply)
    for module, function in patched:
        module.refresh_conversation_deadlines = wrap_refresh(function)
    middle = len(batches) // 2
    reset()
    total, events = 0.0, 0
    profiler = cProfile.Profile()
    try:
        with connection.execute_wrapper(timed_execute):
            for index in range(len(batches)):
                if index == middle:
                    recording[0] = False
                    profiler.enable()
                    post(index)
                    profiler.disable()
                    recording[0] = True
                    continue
                begin = time.perf_counter()
                post(index)
                total += time.perf_counter() - begin
                events += len(batches[index])
    finally:
        services._APPLY.update(original)
        services._messages_added = original_run
        for module, function in patched:
            module.refresh_conversation_deadlines = function

    print(
        f"\nProfile: one more pass of ours with timers, batch {middle + 1} left out "
        f"({events:,} events in {total:.2f} s, {events / total:,.0f} events/s).\n"
    )
    print(
        f"{'':<30} {'count':>7} {'ms each':>8} {'stmts each':>11} "
        f"{'driver ms each':>15} {'share of time':>14}"
    )
    rows = [kind for kind, _ in applied.most_common() if kind != refresh]
    for kind in rows:
        n = applied[kind]
        print(
            f"{kind:<30} {n:7,} {wall[kind] / n * 1000:8.3f} "
            f"{db_statements[kind] / n:11.1f} {db_seconds[kind] / n * 1000:15.3f} "
            f"{wall[kind] / total:14.0%}"
        )
    rest = "(rest of the request)"
    outside = total - sum(t for kind, t in wall.items() if kind != refresh)
    print(
        f"{rest:<30} {'':>7} {outside / events * 1000:8.3f} "
        f"{db_statements[rest] / events:11.2f} {db_seconds[rest] / events * 1000:15.3f} "
        f"{outside / total:14.0%}"
    )
    if applied[refresh]:
        n = applied[refresh]
        print(
            f"{refresh:<30} {n:7,} {wall[refresh] / n * 1000:8.3f} "
            f"{db_statements[refresh] / n:11.1f} {db_seconds[refresh] / n * 1000:15.3f} "
            f"{wall[refresh] / total:14.0%}"
        )
    print(
        "(rest of the request: per event: HTTP, JSON, validation, the id claim, the answer;\n"
        " conversation deadline rewrites: refresh_conversation_deadlines, called by the event\n"
        " types above and included in their figures)"
    )
    db_total = sum(t for kind, t in db_seconds.items() if kind != refresh)
    statements = sum(n for kind, n in db_statements.items() if kind != refresh)
    print(
        f"\nIn the driver (round trips and PostgreSQL's work): {db_total:.2f} s of {total:.2f} s "
        f"({db_total / total:.0%}); {statements:,} statements, "
        f"{statements / events:.1f} per event; the rest is Python."
    )

    stats = pstats.Stats(profiler)
    wanted = {
        ("views.py", "events"): "the view (whole request below the middleware)",
        ("schemas.py", "json_loads"): "JSON parsing",
        ("services.py", "events_validate"): "validation (pydantic)",
        ("services.py", "_claim"): "idempotency claim (one INSERT ... ON CONFLICT)",
        ("services.py", "_apply"): "applying the events (one transaction)",
        ("batch.py", "_load"): "set-based: loading the rows the batch names",
        ("batch.py", "_messages_added"): "set-based: runs of message.added (in memory)",
        ("batch.py", "_write"): "set-based: the writes, one per table",
        ("deadlines.py", "_rewrite"): "deadline rewrites (every table)",
        ("services.py", "_messages_added"): "runs of message.added (set-based)",
        ("conversations.py", "messages_add_many"): "retention messages_add_many",
        ("query.py", "bulk_create"): "QuerySet.bulk_create()",
        ("query.py", "bulk_update"): "QuerySet.bulk_update()",
        ("services.py", "_account"): "account lookups",
        ("services.py", "_own_conversation"): "conversation lookups",
        ("conversations.py", "message_add"): "retention message_add",
        ("deadlines.py", "refresh_conversation_deadlines"): "deadline rewrites (conversations)",
        ("settings.py", "policy_durations"): "policy settings reads",
        ("selectors.py", "consent_allowed"): "consent lookups",
        ("utils.py", "_execute"): "database driver (Django cursor execute)",
        ("query.py", "first"): "QuerySet.first()",
    }
    found = {}
    for (filename, _line, name), (_cc, calls, _tt, cumulative, _callers) in stats.stats.items():
        key = (Path(filename).name, name)
        if key in wanted and (key not in found or cumulative > found[key][1]):
            found[key] = (calls, cumulative)
    view = found.get(("views.py", "events"), (1, 1.0))[1]
    print(
        f"\ncProfile of batch {middle + 1} of {len(batches)} ({len(batches[middle])} events; "
        "the profiler slows Python calls more than waits), cumulative:\n"
    )
    print(f"{'':<48} {'calls':>7} {'ms':>9} {'of view':>8}")
    for key, label in wanted.items():
        if key in found:
            calls, cumulative = found[key]
            print(f"{label:<48} {calls:7,} {cumulative * 1000:9.1f} {cumulative / view:8.0%}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(10)
    print("\nTop functions by own time:")
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    for line in lines[start:]:
        if line.strip():
            print("  " + line.strip()[:150])


if __name__ == "__main__":
    sys.exit(main())
