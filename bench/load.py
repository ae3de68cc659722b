#!/usr/bin/env python
"""Dashboard throughput under concurrent load (issue 6), on PostgreSQL.

Builds a database of its own (default `portal_bench_load`, dropped at the end):
1,000,000 conversations over about 20,000 accounts, of which one account (the
one that signs in) owns 10,000, spread through the table as real history would
be, with three messages each. The deadlines of every conversation are the
policy's: computed in SQL at insert time and checked against
retention.services.deadlines.refresh_conversation_deadlines (the user's rows
and a sample of others', in a transaction rolled back afterwards).

Then starts gunicorn on 127.0.0.1 with bench/settings.py (the production
settings, DEBUG off, with bench/urls.py: the product's routes plus
/bench/minimal/<pk>/, one primary-key query and a tiny response) and drives it
with wrk, N concurrent connections (16 by default), the dashboard requests
carrying the user's session cookie. The targets are

  minimal    /bench/minimal/<pk>/  one indexed query, no session lookup
  overview   /                     the dashboard's overview page
  list       /conversations/       the first page of the conversation list

measured in rounds, each target for --duration seconds per round, the order
reversed every round, so all three share the machine's load. It prints
requests/s and latency percentiles of each target and the ratio of each page's
throughput to the minimal view's (goal: at least 0.5).

Needs: PostgreSQL (--pg-url, default $PGURL or postgres://postgres@127.0.0.1:5432),
wrk (Debian: `apt-get install -y wrk`), gunicorn (requirements.txt).

    .venv/bin/python bench/load.py                 # the full run, about 2 minutes
    .venv/bin/python bench/load.py --conversations 100000 --duration 5   # a quick look

Traffic goes to 127.0.0.1 only, and each wrk run is bounded by --duration.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness
from bench.harness import ROOT

TEST_EMAIL = "bench-load@example.com"

# wrk reports its summary through this script: it prints one JSON line with
# the request count and the latency percentiles (wrk's own --latency table has
# no 95th percentile).
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--conversations", type=int, default=1_000_000, help="conversations in all (1000000)"
    )
    parser.add_argument(
        "--user-conversations",
        type=int,
        default=10_000,
        help="conversations of the signed-in user (10000)",
    )
    parser.add_argument(
        "--per-other-user",
        type=int,
        default=50,
        help="conversations of each other account (50: about 19,800 accounts)",
    )
    parser.add_argument(
        "--messages", type=int, default=3, help="messages per conversation of the user (3)"
    )
    parser.add_argument("--users", type=int, default=16, help="concurrent connections of wrk (16)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per target and round (5)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds over the targets (4)")
    parser.add_argument(
        "--workers", type=int, default=4, help="gunicorn sync workers (4, for 2 cores)"
    )
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="CONN_MAX_AGE of the server: 60 keeps connections (the stricter "
        "comparison); 0 opens one per request, the settings' default (60)",
    )
    parser.add_argument("--port", type=int, default=8765, help="server port on 127.0.0.1")
    parser.add_argument("--database", default="portal_bench_load", help="database to create")
    harness.add_pg_url_argument(parser)
    harness.add_pgbouncer_argument(parser)
    parser.add_argument(
        "--keep-db", action="store_true", help="keep the database afterwards (for --reuse-db)"
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="profile N requests of each target in this process first: where the time "
        "goes (session, user, SQL, view, templates, middleware) and cProfile's top functions",
    )
    parser.add_argument(
        "--conditional",
        action="store_true",
        help="also measure repeat visits (If-None-Match, answered 304) of the overview and "
        "the list behind dashboard.caching.conditional_page; needs CACHE_URL",
    )
    parser.add_argument(
        "--profile-only",
        action="store_true",
        help="with --profile: stop after the profile (no server, no wrk)",
    )
    parser.add_argument(
        "--reuse-db",
        action="store_true",
        help="use the database as a previous --keep-db run left it (skip the seed)",
    )
    args = parser.parse_args(argv)
    if args.users < 16:
        parser.error("--users must be at least 16 (the issue's goal is for 16 or more)")
    if args.user_conversations <= 0 or args.conversations < args.user_conversations:
        parser.error("--conversations must be at least --user-conversations")
    return args


# ---------------------------------------------------------------------- seed


def seed(args: argparse.Namespace) -> None:
    """Fill the (migrated) database with set-based INSERT ... SELECT statements.

    Conversation g (1..N) belongs to the signed-in user when g is a multiple
    of the stride, so the user's rows are spread over the whole table; the
    others go round-robin to the other accounts. Facts vary with g: a quarter
    coding sessions (2 in 7), a third shared for training, 1 in 47 flagged, 1 in 101 deleted and
    waiting for the purge (rules in the order the policy applies them), last activity within the past 25 days."""
    from django.db import connection

    from accounts.models import User
    from accounts.services import consent_record
    from retention.models import Conversation, Message
    from retention.selectors.settings import policy_durations

    d = policy_durations()
    stride = args.conversations // args.user_conversations
    others = max(1, (args.conversations - args.user_conversations) // args.per_other_user)
    user_t, conv_t, msg_t = (m._meta.db_table for m in (User, Conversation, Message))

    user = User.objects.create_user(email=TEST_EMAIL, password=None, external_id="bench-user")
    consent_record(article_version="v-test", user=user, allowed=True, source="import")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {user_t} (password, is_superuser, email, external_id, account_type,
                                      plan, is_staff, is_active, date_joined)
                SELECT '!', false, 'other' || i || '@example.com', 'other-' || i, 'consumer',
                       'free', false, true, now()
                FROM generate_series(1, %s) AS i""",
            [others],
        )
        cursor.execute(f"SELECT min(id) FROM {user_t} WHERE external_id LIKE 'other-%%'")
        first_other = cursor.fetchone()[0]
        # The deadline columns mirror retention.policy for a consumer account
        # without a legal hold; harness.assert_seeded_deadlines below holds them to the
        # service's answers.
        cursor.execute(
            f"""
            INSERT INTO {conv_t} (user_id, external_id, kind, title, created_at,
                last_activity_at, deleted_at, shared_for_training, flagged_at,
                rule, retain_until, public_rule, public_retain_until)
            SELECT user_id, 'c' || g, kind, 'Conversation ' || g,
                   last - make_interval(hours => g %% 72), last, deleted, shared, flagged,
                   rule, until, rule, until
            FROM (
                SELECT g, user_id, kind, last, deleted, shared, flagged,
                    CASE WHEN flagged IS NOT NULL THEN 'flagged'
                         WHEN deleted IS NOT NULL THEN 'deleted'
                         WHEN shared THEN 'shared_training'
                         ELSE 'not_shared' END AS rule,
                    CASE WHEN flagged IS NOT NULL
                              THEN flagged + make_interval(years => %(flagged_years)s)
                         WHEN deleted IS NOT NULL
                              THEN least(base, deleted + make_interval(days => %(deleted_days)s))
                         ELSE base END AS until
                FROM (
                    SELECT g, user_id, kind, last, deleted, shared, flagged,
                        CASE WHEN shared THEN last + make_interval(years => %(shared_years)s)
                             ELSE last + make_interval(days => %(not_shared_days)s) END AS base
                    FROM (
                        SELECT g,
                            CASE WHEN g %% %(stride)s = 0 THEN %(user_id)s
                                 ELSE %(first_other)s + g %% %(others)s END AS user_id,
                            CASE WHEN g %% 7 < 2 THEN 'coding_session' ELSE 'chat' END AS kind,
                            date_trunc('second', now())
                                - make_interval(mins => ((g::bigint * 7919) %% 36000)::integer) AS last,
                            CASE WHEN g %% 101 = 3 THEN now() - interval '1 day' END AS deleted,
                            g %% 3 = 0 AS shared,
                            g %% 47 = 5 AS is_flagged
                        FROM generate_series(1, %(n)s) AS g
                    ) AS facts
                    CROSS JOIN LATERAL (
                        SELECT CASE WHEN is_flagged THEN last - interval '1 hour' END AS flagged
                    ) AS f
                ) AS based
            ) AS decided
            """,
            {
                "n": args.conversations,
                "stride": stride,
                "user_id": user.pk,
                "first_other": first_other,
                "others": others,
                "flagged_years": d.flagged_content_years,
                "deleted_days": d.deleted_days,
                "shared_years": d.shared_training_years,
                "not_shared_days": d.not_shared_days,
            },
        )
        cursor.execute(
            f"""INSERT INTO {msg_t} (conversation_id, external_id, role, content, sent_at)
                SELECT c.id, c.external_id || '-m' || k,
                       CASE WHEN k %% 2 = 1 THEN 'user' ELSE 'assistant' END,
                       'Message ' || k || ' of ' || c.title,
                       c.last_activity_at - make_interval(mins => %s - k)
                FROM {conv_t} c CROSS JOIN generate_series(1, %s) AS k
                WHERE c.user_id = %s""",
            [args.messages, args.messages, user.pk],
        )
    sample_users = Conversation.objects.filter(external_id__in=["c1", f"c{others // 2 + 1}"])
    harness.assert_seeded_deadlines(
        Conversation.objects.filter(
            user_id__in=[user.pk, *sample_users.values_list("user_id", flat=True)]
        )
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# -------------------------------------------------------------------- server


def start_server(args, env: dict) -> subprocess.Popen:
    log = open(Path(env["PORTAL_VAR_DIR"]) / "gunicorn.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "privacy_portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "sync",
            "--backlog",
            "256",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return server


def fetch(port: int, path: str, headers: dict | None) -> tuple[int, bytes, int]:
    """One GET to 127.0.0.1, redirects not followed (a redirect to the login
    page must count as a failure, not as a page)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        # The size on the wire, as wrk counts it: status line, headers, body.
        head = 17 + sum(len(k) + len(v) + 4 for k, v in response.getheaders()) + 2
        return response.status, body, head + len(body)
    finally:
        conn.close()


def wait_until_up(server: subprocess.Popen, port: int, path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited; see gunicorn.log in the run's var directory.")
        try:
            if fetch(port, path, None)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within 60 s.")


def wrk(url: str, *, users: int, seconds: int, headers: dict | None, script: Path) -> dict:
    command = [
        "wrk",
        "-t1",  # one thread drives 16 connections easily and leaves a core to the server
        f"-c{users}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("{"))
    result = json.loads(line)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    return result


class Phases:
    """Exclusive wall time per phase of a request, by wrapping the functions
    that start each phase (bench-only monkeypatching, undone by restore()).
    Time spent in a nested phase is taken off the phase around it, so the
    phases add up to the handler's total; what no phase claims is the
    middleware and the handler themselves (URL resolving, response headers)."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self._stack: list[list] = []  # [phase, started, time taken by nested phases]
        self._patched: list[tuple[object, str, object]] = []

    def _enter(self, phase: str) -> None:
        self._stack.append([phase, time.perf_counter(), 0.0])

    def _exit(self) -> None:
        phase, started, nested = self._stack.pop()
        spent = time.perf_counter() - started
        self.totals[phase] = self.totals.get(phase, 0.0) + spent - nested
        self.counts[phase] = self.counts.get(phase, 0) + 1
        if self._stack:
            self._stack[-1][2] += spent

    def wrap(self, owner, name: str, phase: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            # Re-entrant calls of the same phase (a template including
            # another) count once, in the outermost.
            if self._stack and self._stack[-1][0] == phase:
                return original(*args, **kwargs)
            self._enter(phase)
            try:
                return original(*args, **kwargs)
            finally:
                self._exit()

        self._patched.append((owner, name, original))
        setattr(owner, name, wrapper)

    def sql(self, execute, sql, params, many, context):
        self._enter("SQL")
        try:
            return execute(sql, params, many, context)
        finally:
            self._exit()

    def restore(self) -> None:
        for owner, name, original in reversed(self._patched):
            setattr(owner, name, original)
        self._patched.clear()

    def reset(self) -> None:
        self.totals.clear()
        self.counts.clear()


def profile_targets(client, targets: dict, connection, requests: int) -> None:
    """Where a request's time goes, one request at a time in this process:
    per target, the mean exclusive time of each phase and the SQL statements,
    then cProfile's top functions by own time."""
    import cProfile
    import importlib
    import io
    import pstats

    from django.conf import settings
    from django.contrib import auth
    from django.core.handlers.base import BaseHandler
    from django.template.base import Template
    from django.test import Client

    phases = Phases()
    store = importlib.import_module(settings.SESSION_ENGINE).SessionStore
    phases.wrap(BaseHandler, "get_response", "middleware and handler")
    phases.wrap(BaseHandler, "_get_response", "view (Python)")
    phases.wrap(store, "load", "session load")
    phases.wrap(auth, "get_user", "user lookup")
    phases.wrap(Template, "render", "template rendering")
    order = [
        "session load",
        "user lookup",
        "SQL",
        "view (Python)",
        "template rendering",
        "middleware and handler",
    ]
    # A new client: its handler binds _get_response when it loads the
    # middleware, so it has to be made after the patching.
    signed_in = client
    client = Client(SERVER_NAME="127.0.0.1")
    client.cookies = signed_in.cookies
    try:
        with connection.execute_wrapper(phases.sql):
            for name, (path, _) in targets.items():
                for _ in range(5):  # warm caches (templates, URL resolvers, connection)
                    client.get(path)
                phases.reset()
                for _ in range(requests):
                    assert client.get(path).status_code == 200
                total = sum(phases.totals.values()) / requests * 1000
                print(f"\nProfile of {name} ({path}), mean of {requests} requests: {total:.2f} ms")
                print(f"  {'phase':<24} {'ms':>7} {'share':>6}")
                for phase in order:
                    ms = phases.totals.get(phase, 0.0) / requests * 1000
                    extra = ""
                    if phase == "SQL":
                        extra = f"  ({phases.counts.get('SQL', 0) / requests:.0f} statements)"
                    print(f"  {phase:<24} {ms:7.2f} {ms / total:6.0%}{extra}")
    finally:
        phases.restore()
    for name, (path, _) in targets.items():
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            client.get(path)
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(15)
        print(f"\ncProfile of {name} ({path}), {requests} requests, top 15 by own time:")
        text = out.getvalue()
        print(text[text.find("   ncalls") :].rstrip())


CONDITIONAL_PATHS = {
    "overview-304": "/bench/conditional/",
    "list-304": "/bench/conditional/conversations/",
}


def _get(port: int, path: str, headers: dict) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response
    finally:
        conn.close()


def conditional_targets(port: int, cookie: str) -> dict:
    """The overview and the list behind @conditional_page (bench/urls.py) as a
    browser revisits them: with its CSRF cookie and the ETag it was given,
    so the server answers 304 (needs CACHE_URL: conditional GET is on only
    with a shared cache). The ETag is fetched again before every round
    (refresh_etag): it changes every PORTAL_ETAG_SECONDS, as a browser's does."""
    set_cookies = _get(port, "/", {"Cookie": cookie}).headers.get_all("Set-Cookie") or []
    csrf = next(c.split(";")[0] for c in set_cookies if c.startswith("csrftoken="))
    browser_cookie = f"{cookie}; {csrf}"
    return {
        name: (path, refresh_etag(port, path, {"Cookie": browser_cookie}))
        for name, path in CONDITIONAL_PATHS.items()
    }


def refresh_etag(port: int, path: str, headers: dict) -> dict:
    headers = {k: v for k, v in headers.items() if k != "If-None-Match"}
    etag = _get(port, path, headers).getheader("ETag")
    if not etag:
        raise SystemExit(
            f"{path} gave no ETag: is CACHE_URL set (conditional GET is off without it)?"
        )
    return {**headers, "If-None-Match": etag}


def serial_breakdown(client, targets: dict, connection, rounds: int = 30) -> dict:
    """Where a request's time goes without concurrency: the median wall time
    of each target through the test Client, and the median time spent waiting
    for SQL, the targets taken round-robin."""
    totals = {name: [] for name in targets}
    sqls = {name: [] for name in targets}
    waited = [0.0]

    def timed(execute, sql, params, many, context):
        begin = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited[0] += time.perf_counter() - begin

    with connection.execute_wrapper(timed):
        for _ in range(rounds):
            for name, (path, _) in targets.items():
                waited[0] = 0.0
                begin = time.perf_counter()
                client.get(path)
                totals[name].append(time.perf_counter() - begin)
                sqls[name].append(waited[0])
    return {
        name: (harness.median_ms(totals[name]), harness.median_ms(sqls[name])) for name in targets
    }


# ---------------------------------------------------------------------- main


def main(argv=None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install -y wrk (Debian/Ubuntu).", file=sys.stderr)
        return 2
    var_dir = Path(tempfile.mkdtemp(prefix="portal-bench-load-"))
    env = {
        **os.environ,
        **harness.bench_environment(
            args.pg_url,
            args.database,
            var_dir,
            pgbouncer=args.pgbouncer,
            CONN_MAX_AGE=str(args.conn_max_age),
        ),
    }
    os.environ.update(env)
    run = harness.Run()
    with harness.database(
        args.pg_url, args.database, keep=args.keep_db, reuse=args.reuse_db
    ) as fresh:
        try:
            return measure(args, env, var_dir, fresh, run)
        finally:
            shutil.rmtree(var_dir, ignore_errors=True)


def measure(args, env: dict, var_dir: Path, fresh: bool, run: harness.Run) -> int:
    server = None
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from accounts.models import User
        from retention.models import Conversation

        if fresh:
            t = time.monotonic()
            call_command("migrate", verbosity=0)
            print(f"Migrated in {time.monotonic() - t:.0f} s.", flush=True)
            t = time.monotonic()
            seed(args)
            print(f"Seeded in {time.monotonic() - t:.0f} s.", flush=True)
        call_command("collectstatic", interactive=False, verbosity=0)
        user = User.objects.get(email=TEST_EMAIL)
        total = Conversation.objects.count()
        own = Conversation.objects.filter(user=user).count()
        probe_pk = Conversation.objects.filter(user=user).order_by("pk").values_list("pk")[0][0]

        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(user)
        cookie = f"sessionid={client.cookies['sessionid'].value}"
        targets = {
            "minimal": (f"/bench/minimal/{probe_pk}/", None),
            "overview": ("/", {"Cookie": cookie}),
            "list": ("/conversations/", {"Cookie": cookie}),
        }
        # Statements per request, through the same stack (in this process).
        statements = {}
        for name, (path, _) in targets.items():
            with CaptureQueriesContext(connection) as queries:
                assert client.get(path).status_code == 200
            statements[name] = len(queries)
        breakdown = serial_breakdown(client, targets, connection)
        if args.profile:
            profile_targets(client, targets, connection, args.profile)
            if args.profile_only:
                print(
                    "SQL statements per request: "
                    + ", ".join(f"{name} {count}" for name, count in statements.items())
                )
                return 0
        connection.close()

        server = start_server(args, env)
        base = f"http://127.0.0.1:{args.port}"
        wait_until_up(server, args.port, targets["minimal"][0])
        if args.conditional:
            targets.update(conditional_targets(args.port, cookie))
        sizes = {}
        for name, (path, target_headers) in targets.items():
            status, _, sizes[name] = fetch(args.port, path, target_headers)
            expected = 304 if name.endswith("-304") else 200
            if status != expected:
                raise SystemExit(f"{name}: {path} answered {status}, not {expected}.")
        if b"Conversation " not in fetch(args.port, "/conversations/", {"Cookie": cookie})[1]:
            raise SystemExit("The list page did not show the user's conversations.")

        script = var_dir / "report.lua"
        script.write_text(WRK_SCRIPT)
        for path, target_headers in targets.values():  # warm every worker
            wrk(base + path, users=args.users, seconds=2, headers=target_headers, script=script)

        print(
            f"\n{total:,} conversations, {own:,} of the signed-in user; gunicorn "
            f"{args.workers} sync workers, CONN_MAX_AGE={args.conn_max_age}; wrk "
            f"{args.users} connections, {args.rounds} rounds x {args.duration} s per target.",
            flush=True,
        )
        print(
            "SQL statements per request: "
            + ", ".join(f"{name} {count}" for name, count in statements.items())
        )
        print(
            "One request at a time, in this process (median of 30, ms): "
            + "; ".join(
                f"{name} {total:.1f} (SQL {sql:.1f})" for name, (total, sql) in breakdown.items()
            )
        )
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        order = list(targets)
        for round_no in range(args.rounds):
            for name in order if round_no % 2 == 0 else reversed(order):
                path, target_headers = targets[name]
                if name in CONDITIONAL_PATHS:
                    target_headers = refresh_etag(args.port, path, target_headers)
                result = wrk(
                    base + path,
                    users=args.users,
                    seconds=args.duration,
                    headers=target_headers,
                    script=script,
                )
                runs[name].append(result)
                print(
                    f"  round {round_no + 1} {name:<9} {result['rps']:8.1f} req/s  "
                    f"p95 {result['p95'] / 1000:7.1f} ms  errors {result['errors']}",
                    flush=True,
                )
        if server.poll() is not None:
            raise SystemExit("gunicorn died during the run.")

        print(
            f"\n{'target':<10} {'path':<26} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'p99 ms':>8} {'requests':>9} {'errors':>6} {'bytes/resp':>10}"
        )
        summary = {}
        for name, results in runs.items():
            requests = sum(r["requests"] for r in results)
            seconds = sum(r["duration_us"] for r in results) / 1e6
            summary[name] = {
                "rps": requests / seconds,
                # wrk cannot merge histograms: the median of the rounds' percentiles.
                "p50": statistics.median(r["p50"] for r in results) / 1000,
                "p95": statistics.median(r["p95"] for r in results) / 1000,
                "p99": statistics.median(r["p99"] for r in results) / 1000,
                "requests": requests,
                "errors": sum(r["errors"] for r in results),
                "bytes": sum(r["bytes"] for r in results) / max(requests, 1),
            }
            s = summary[name]
            print(
                f"{name:<10} {targets[name][0]:<26} {s['rps']:8.1f} {s['p50']:8.1f} "
                f"{s['p95']:8.1f} {s['p99']:8.1f} {s['requests']:9d} {s['errors']:6d} "
                f"{s['bytes']:10.0f}"
            )
        print()
        met = True
        for name in [t for t in targets if t != "minimal"]:
            ratio = summary[name]["rps"] / summary["minimal"]["rps"]
            per_round = [
                p["rps"] / m["rps"] for p, m in zip(runs[name], runs["minimal"], strict=True)
            ]
            p95_ratio = summary[name]["p95"] / summary["minimal"]["p95"]
            ok = ratio >= 0.5 and summary[name]["errors"] == 0
            met = met and ok
            print(
                f"{name} / minimal throughput: {ratio:.2f} (rounds: "
                f"{harness.per_round(per_round)}); p95 {p95_ratio:.1f}x; "
                f"goal >= 0.50: {'met' if ok else 'NOT met'}"
            )
        # Every response the size of the checked 200 page: none was a redirect or an error page.
        for name in targets:
            if abs(summary[name]["bytes"] - sizes[name]) > 0.05 * sizes[name] + 50:
                print(
                    f"warning: {name} responses average {summary[name]['bytes']:.0f} bytes, "
                    f"the checked page has {sizes[name]}: some answers were not that page."
                )
        run.report()
        return 0 if met else 1
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    sys.exit(main())
