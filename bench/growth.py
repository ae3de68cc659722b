#!/usr/bin/env python
"""Growth: how costs change from 1 million to 10 million conversations (issue 14).

Two steps, so the slow one runs once:

  seed     builds one database (`--database`, default bench_purge_growth_<n>)
           with set-based SQL only (INSERT ... SELECT generate_series), the
           indexes and foreign keys of the two big tables dropped during the
           load and recreated (and validated) after it, then VACUUM ANALYZE.
           Logged tables, as in production. N conversations, --messages
           (default 3) each; one signed-in user owns 10,000 of them spread
           over the whole table, the others belong to N/50 accounts; 2 in 100
           conversations was deleted by its owner 31 to 60 days ago and is due
           (rule "deleted", retain-until = deleted + 30 days), the rest are
           shared for training (retain-until = last activity + 5 years), last
           activity spread over two years before the last 61 days. Deadlines follow
           retention.policy for these facts (checked against the service on a
           sample, as bench/load.py does).

  measure  given several seeded databases (--databases a,b), alternates
           between them round by round in one process, so every size sees the
           same machine load, and times the per-user reads for the user with
           10,000 conversations: the conversation list (first page and the
           next, dashboard.selectors.conversation_page), the consent preview
           (dashboard.selectors.consent_preview), the export (the whole
           /api/me/export document, dashboard.export.export_chunks). Then the
           batch work on each database in turn: the purge (purge_due as
           configured) of a fixed 10,000 conversations and then of the rest
           of what is due (2% of N), a registered connected system subscribed
           to conversation.purged receiving the purge's events, and delivery
           (connected.services.delivery.deliver_system against the reference
           receiver) of the first --deliver events of that backlog. The purge
           and delivery change the data: reseed to measure them again.

Goal (issue 14): batch work linear in the work done (seconds per item the same
at both sizes), per-user pages flat (the same time at both sizes).

    .venv/bin/python bench/growth.py seed --conversations 1000000
    .venv/bin/python bench/growth.py seed --conversations 10000000
    .venv/bin/python bench/growth.py measure \\
        --databases bench_purge_growth_1000000,bench_purge_growth_10000000

Needs PostgreSQL (--pg-url, default $PGURL or postgres://postgres@127.0.0.1:5432).
The databases are kept (they take minutes to build); drop them with
`dropdb` or `growth.py drop --databases ...`.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness
from bench.harness import ROOT

USER_EMAIL = "bench-growth@example.com"
BIG_TABLES = ("retention_conversation", "retention_message")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=["seed", "measure", "repurge", "drop"])
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=3, help="messages per conversation")
    parser.add_argument("--user-conversations", type=int, default=10_000)
    parser.add_argument("--per-other-user", type=int, default=50)
    parser.add_argument("--database", help="seed: the database (default bench_purge_growth_<n>)")
    parser.add_argument("--databases", help="measure/drop: comma-separated seeded databases")
    parser.add_argument("--rounds", type=int, default=7, help="rounds of the per-user reads")
    parser.add_argument("--fixed-purge", type=int, default=10_000)
    parser.add_argument("--deliver", type=int, default=2_000, help="events delivered per size")
    parser.add_argument(
        "--skip", default="", help="comma-separated: reads, purge, delivery (measure only)"
    )
    harness.add_pg_url_argument(parser)
    args = parser.parse_args(argv)
    if args.step in ("measure", "drop") and not args.databases:
        parser.error(f"{args.step} needs --databases (the seeded databases, comma-separated)")
    return args


def _setup(pg_url: str, database: str, var_dir: Path) -> None:
    os.environ.update(
        harness.bench_environment(
            pg_url,
            database,
            var_dir,
            settings="privacy_portal.settings",
            # Delivery is driven here; the purge's after-commit task goes nowhere.
            CELERY_BROKER_URL="memory://",
            CELERY_TASK_ALWAYS_EAGER="false",
        )
    )
    import django

    django.setup()


def _use(database: str) -> None:
    """Point Django's default connection at `database` (the next query
    reconnects)."""
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = database


# ---------------------------------------------------------------------- seed


def _drop_keys_and_indexes(cursor) -> list[str]:
    """Drop the foreign keys touching the big tables, their unique and
    primary keys and their indexes; returns the statements that put them
    back (keys first, then indexes, then foreign keys)."""
    tables = ", ".join(f"'{t}'::regclass" for t in BIG_TABLES)
    cursor.execute(
        f"""SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype
            FROM pg_constraint
            WHERE contype IN ('p', 'u', 'f')
              AND (conrelid IN ({tables}) OR confrelid IN ({tables}))"""
    )
    constraints = cursor.fetchall()
    cursor.execute(
        f"""SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
            FROM pg_index WHERE indrelid IN ({tables})
              AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conindid <> 0)"""
    )
    indexes = cursor.fetchall()
    restore = []
    for table, name, _definition, _kind in sorted(constraints, key=lambda c: c[3] != "f"):
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table, name, definition, kind in constraints:
        if kind != "f":
            restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for name, definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
        restore.append(definition)
    for table, name, definition, kind in constraints:
        if kind == "f":
            restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    return restore


def seed(args) -> int:
    database = args.database or f"bench_purge_growth_{args.conversations}"
    var_dir = Path(tempfile.mkdtemp(prefix="portal-bench-growth-"))
    run = harness.Run()
    harness.create_database(args.pg_url, database)
    env = {
        **os.environ,
        **harness.bench_environment(
            args.pg_url, database, var_dir, settings="privacy_portal.settings"
        ),
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    _setup(args.pg_url, database, var_dir)
    from django.db import connection, transaction
    from django.db.models import Q

    from accounts.models import User
    from accounts.services import consent_record
    from retention.models import Conversation
    from retention.selectors.settings import policy_durations

    d = policy_durations()
    n = args.conversations
    stride = n // args.user_conversations
    others = max(1, (n - args.user_conversations) // args.per_other_user)
    user = User.objects.create_user(email=USER_EMAIL, password=None, external_id="growth-user")
    consent_record(article_version="v-test", user=user, allowed=True, source="import")
    steps = []

    def step(label: str, sql: str, params=None) -> None:
        begin = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        steps.append((label, time.perf_counter() - begin))
        print(f"  {label}: {steps[-1][1]:.0f} s", flush=True)

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            restore = _drop_keys_and_indexes(cursor)
        step(
            "accounts",
            """INSERT INTO accounts_user (password, is_superuser, email, external_id,
                   account_type, plan, is_staff, is_active, date_joined)
               SELECT '!', false, 'other' || i || '@example.com', 'other-' || i, 'consumer',
                      (ARRAY['free', 'pro', 'max'])[1 + i %% 3], false, true,
                      now() - interval '3 years'
               FROM generate_series(1, %s) AS i""",
            [others],
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(id) FROM accounts_user WHERE external_id LIKE 'other-%%'")
            first_other = cursor.fetchone()[0]
        # Facts of conversation g: the signed-in user's when g is a multiple
        # of the stride; 2 in 100 (g % 50 = 7, never the user's) deleted
        # 31 to 60 days ago and so due; last activity spread over two years.
        step(
            "conversations",
            """
            INSERT INTO retention_conversation (id, user_id, external_id, kind, title,
                created_at, last_activity_at, deleted_at, shared_for_training, flagged_at,
                rule, retain_until, public_rule, public_retain_until)
            SELECT g, user_id, 'c' || g, kind, 'Conversation ' || g,
                   last - make_interval(hours => g %% 72), last, deleted, true, NULL,
                   rule, until, rule, until
            FROM (
                SELECT g, user_id, kind, last, due,
                       CASE WHEN due THEN now() - make_interval(days => 31 + g %% 30,
                                                              secs => g %% 86400) END AS deleted,
                       CASE WHEN due THEN 'deleted' ELSE 'shared_training' END AS rule
                FROM (
                    SELECT g,
                        CASE WHEN g %% %(stride)s = 0 THEN %(user_id)s
                             ELSE %(first_other)s + g %% %(others)s END AS user_id,
                        CASE WHEN g %% 7 < 2 THEN 'coding_session' ELSE 'chat' END AS kind,
                        date_trunc('second', now()) - interval '61 days'
                            - make_interval(mins => ((g::bigint * 7919) %% 1036800)::integer)
                            AS last,
                        g %% 50 = 7 AND g %% %(stride)s <> 0 AS due
                    FROM generate_series(1, %(n)s) AS g
                ) AS facts
            ) AS decided
            CROSS JOIN LATERAL (
                SELECT CASE WHEN due THEN least(
                                last + make_interval(years => %(shared_years)s),
                                deleted + make_interval(days => %(deleted_days)s))
                            ELSE last + make_interval(years => %(shared_years)s) END AS until
            ) AS deadline
            """,
            {
                "n": n,
                "stride": stride,
                "user_id": user.pk,
                "first_other": first_other,
                "others": others,
                "shared_years": d.shared_training_years,
                "deleted_days": d.deleted_days,
            },
        )
        step(
            "messages",
            """INSERT INTO retention_message (conversation_id, external_id, role, content, sent_at)
               SELECT c.id, 'c' || c.id || '-m' || k,
                      CASE WHEN k %% 2 = 1 THEN 'user' ELSE 'assistant' END,
                      'Message ' || k || ' of conversation ' || c.id,
                      c.last_activity_at - make_interval(mins => %s - k)
               FROM retention_conversation c CROSS JOIN generate_series(1, %s) AS k""",
            [args.messages, args.messages],
        )
        for statement in restore:
            step(statement[:70], statement)
        with connection.cursor() as cursor:
            for table in ("accounts_user", *BIG_TABLES):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
    harness.assert_seeded_deadlines(  # the user's rows and some due ones
        Conversation.objects.filter(Q(user_id=user.pk) | Q(pk__lte=1000))
    )
    begin = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    steps.append(("VACUUM ANALYZE", time.perf_counter() - begin))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    print(f"Seeded {database}: {n:,} conversations x {args.messages} messages, {size}")
    run.report()
    return 0


# ------------------------------------------------------------------- measure


def _reads(user, now) -> dict:
    """The per-user reads: name -> callable returning a size (rows or bytes)."""
    from dashboard.export import export_chunks
    from dashboard.selectors import consent_preview, conversation_page

    def list_first():
        return len(conversation_page(user=user, now=now).rows)

    def list_next():
        first = conversation_page(user=user, now=now)
        return len(conversation_page(user=user, now=now, cursor=first.next_cursor).rows)

    def preview():
        return consent_preview(user=user, allowed=False, now=now).shared_stored

    def export():
        return sum(len(chunk) for chunk in export_chunks(user=user, now=now))

    return {
        "list, first page": list_first,
        "list, first + next page": list_next,
        "consent preview": preview,
        "export (whole document)": export,
    }


def measure_reads(args, databases: list[str]) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User

    times: dict = {(db, name): [] for db in databases for name in _reads(None, None)}
    queries: dict = {}
    sizes: dict = {}
    for round_no in range(args.rounds):
        order = databases if round_no % 2 == 0 else list(reversed(databases))
        for db in order:
            _use(db)
            user = User.objects.get(email=USER_EMAIL)
            now = timezone.now()
            for name, read in _reads(user, now).items():
                with CaptureQueriesContext(connection) as captured:
                    seconds, size = harness.timed(read)
                if round_no:  # the first round warms the caches
                    times[(db, name)].append(seconds)
                queries[(db, name)] = len(captured)
                sizes[(db, name)] = size
    print(f"\nPer-user reads, user with 10,000 conversations, median of {args.rounds - 1} rounds")
    print("(the databases alternate every round; the first round only warms the caches)\n")
    print("| read | " + " | ".join(f"{db} ms (queries)" for db in databases) + " | ratio |")
    print("|---|" + "---:|" * (len(databases) + 1))
    result = {}
    for name in _reads(None, None):
        medians = [harness.median_ms(times[(db, name)]) for db in databases]
        ratio = medians[-1] / medians[0]
        result[name] = ratio
        cells = " | ".join(
            f"{m:.1f} ({queries[(db, name)]})" for m, db in zip(medians, databases, strict=True)
        )
        print(f"| {name} | {cells} | {ratio:.2f} |")
        if len({sizes[(db, name)] for db in databases}) != 1:
            print(f"  (sizes differ: {[sizes[(db, name)] for db in databases]})")
    return result


def _register_system():
    """A connected system subscribed to conversation.purged, at a reference
    receiver: the purge's events are delivery's work."""
    from connected.events import CONVERSATION_PURGED
    from connected.models import ConnectedSystem
    from connected.services.systems import system_register

    probe, credentials = system_register(name="growth", events=[CONVERSATION_PURGED])
    return ConnectedSystem.objects.get(pk=probe.pk), credentials.signing_secret


def measure_batch(args, database: str, skip: set[str]) -> dict:
    from django.db import connection
    from django.utils import timezone

    from connected.models import Delivery
    from connected.services.delivery import deliver_system
    from connected.services.dispatch import outbox_dispatch
    from retention.purge import purge_due

    _use(database)
    out = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM retention_conversation")
        out["conversations"] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT retain_until FROM retention_conversation WHERE retain_until <= now() "
            "ORDER BY retain_until, id OFFSET %s LIMIT 1",
            [args.fixed_purge - 1],
        )
        found = cursor.fetchone()
    system = secret = None
    if "delivery" not in skip:
        system, secret = _register_system()
    if "purge" not in skip and found:
        fixed_cutoff = found[0]
        for label, cutoff in (("fixed", fixed_cutoff), ("rest", timezone.now())):
            load = os.getloadavg()[0]
            seconds, report = harness.timed(lambda c=cutoff: purge_due(now=c))
            out[f"purge {label}"] = (seconds, report.conversations, report.messages, load)
            print(
                f"  {database}: purge ({label}) {report.conversations:,} conversations, "
                f"{report.messages:,} messages in {seconds:.2f} s "
                f"({report.conversations / seconds:,.0f} conversations/s; load {load:.1f})",
                flush=True,
            )
    if system is not None:
        receiver = harness.Receiver(secret)
        system.url = receiver.url
        system.save(update_fields=["url"])
        try:
            seconds, _ = harness.timed(outbox_dispatch)
            pending = Delivery.objects.filter(system=system, state="pending").count()
            out["dispatch"] = (seconds, pending)
            load = os.getloadavg()[0]
            begin, sent = time.perf_counter(), 0
            while sent < args.deliver:
                result = deliver_system(
                    system_id=system.pk, ignore_backoff=True, limit=args.deliver - sent
                )
                if not result.sent:
                    break
                sent += result.sent
            seconds = time.perf_counter() - begin
            out["delivery"] = (seconds, sent, pending, load)
            print(
                f"  {database}: dispatch of {pending:,} events {out['dispatch'][0]:.2f} s; "
                f"delivery of {sent:,} of them {seconds:.2f} s ({sent / seconds:,.0f} events/s; "
                f"load {load:.1f})",
                flush=True,
            )
        finally:
            receiver.stop()
            system.enabled = False
            system.save(update_fields=["enabled"])
    return out


def measure(args) -> int:
    import logging

    # The seed's due items are overdue by design: the health check's ERROR
    # after each purge says so, and is not what is measured.
    logging.getLogger("retention.purge.health").setLevel(logging.CRITICAL)
    databases = args.databases.split(",")
    skip = set(filter(None, args.skip.split(",")))
    var_dir = Path(tempfile.mkdtemp(prefix="portal-bench-growth-"))
    run = harness.Run()
    _setup(args.pg_url, databases[0], var_dir)
    if "reads" not in skip:
        measure_reads(args, databases)
    batch = {db: measure_batch(args, db, skip) for db in databases}
    print("\n| database | conversations | work | items | seconds | us per item | load |")
    print("|---|---:|---|---:|---:|---:|---:|")
    per_item = {}
    for db, out in batch.items():
        for key, value in out.items():
            if key.startswith("purge"):
                seconds, items, _messages, load = value
            elif key == "delivery":
                seconds, items, _pending, load = value
            else:
                continue
            per_item[(db, key)] = seconds / max(items, 1)
            print(
                f"| {db} | {out['conversations']:,} | {key} | {items:,} | {seconds:.2f} "
                f"| {per_item[(db, key)] * 1e6:.0f} | {load:.1f} |"
            )
    first, last = databases[0], databases[-1]
    for key in ("purge fixed", "purge rest", "delivery"):
        if (first, key) in per_item and (last, key) in per_item:
            print(
                f"- {key}: cost per item at {last} / at {first}: "
                f"{per_item[(last, key)] / per_item[(first, key)]:.2f}x (linear = 1.0)"
            )
    run.report()
    return 0


def repurge(args) -> int:
    """After `measure` (which purged the seed's due set): on each database in
    turn, --fixed-purge conversations of every age (every 50th id, from the
    8th, never the signed-in user's) become deleted by their owners 40 days
    ago, as a user's deletions fall due, and are purged; twice, alternating
    the databases, so the second pass runs on warm caches at both sizes."""
    import logging

    databases = args.databases.split(",")
    var_dir = Path(tempfile.mkdtemp(prefix="portal-bench-growth-"))
    run = harness.Run()
    _setup(args.pg_url, databases[0], var_dir)
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from retention.purge import purge_due

    logging.getLogger("retention.purge.health").setLevel(logging.CRITICAL)
    print("\n| pass | database | conversations | messages | seconds | us per conversation | load |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for n in (1, 2):
        for db in databases if n == 1 else list(reversed(databases)):
            _use(db)
            user = User.objects.get(email=USER_EMAIL)
            with connection.cursor() as cursor:
                # The policy's answer for a shared conversation deleted 40 days
                # ago: deleted + 30 days (sooner than last activity + 5 years).
                cursor.execute(
                    "UPDATE retention_conversation SET deleted_at = now() - interval '40 days', "
                    "rule = 'deleted', public_rule = 'deleted', "
                    "retain_until = now() - interval '10 days', "
                    "public_retain_until = now() - interval '10 days' "
                    "WHERE id IN (SELECT id FROM retention_conversation WHERE id %% 50 = 8 "
                    "AND user_id <> %s AND deleted_at IS NULL ORDER BY id LIMIT %s)",
                    [user.pk, args.fixed_purge],
                )
            load = os.getloadavg()[0]
            seconds, report = harness.timed(lambda: purge_due(now=timezone.now()))
            print(
                f"| {n} | {db} | {report.conversations:,} | {report.messages:,} | {seconds:.2f} "
                f"| {seconds / max(report.conversations, 1) * 1e6:.0f} | {load:.1f} |",
                flush=True,
            )
    run.report()
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.step == "repurge":
        return repurge(args)
    if args.step == "seed":
        return seed(args)
    if args.step == "drop":
        for db in args.databases.split(","):
            harness.drop_database(args.pg_url, db)
        return 0
    return measure(args)


if __name__ == "__main__":
    sys.exit(main())
