#!/usr/bin/env python
"""Consent flip for a user with 10 and one with 10,000 conversations (issue 6),
on PostgreSQL.

Builds a database of its own (default `portal_bench_consent`, dropped at the
end): the two consumer accounts, their conversations (a third shared for
training, deadlines written by retention.services.deadlines), consent allowed
since a month ago, and one training run registered yesterday that uses their
shared conversations. Then it drives the dashboard as a signed-in user does,
through Django's test Client (the whole middleware stack, bench/settings.py:
the production settings with DEBUG off), for each user:

  page          GET  /consent/
  preview       POST /consent/ without `confirm`: the preview with real counts
                that the user reads before confirming
  flip form     POST /consent/ with `confirm` (no JavaScript: 302 to the page)
  flip htmx     the same POST from htmx: the panel re-rendered in the answer
  flip api      POST /api/me/consent {"allowed": ...}

Each flip really changes the consent (the value alternates). It first counts
the SQL statements of every request once (CaptureQueriesContext), then times
--rounds rounds, each request of the small and the large user side by side
(their order swapped every round), and prints the medians and the ratio large
/ small. Goals for the flips: the same statement count, time within 1.2x.

    .venv/bin/python bench/consent.py              # about a minute
    .venv/bin/python bench/consent.py --show-sql   # and the statements of a flip

Needs a PostgreSQL server (--pg-url, default $PGURL or postgres://postgres@127.0.0.1:5432).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness

FLIPS = ("flip form", "flip htmx", "flip api")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--small", type=int, default=10, help="conversations of the small user (10)"
    )
    parser.add_argument(
        "--large", type=int, default=10_000, help="conversations of the large user (10000)"
    )
    parser.add_argument(
        "--rounds", type=int, default=30, help="timed rounds (30 flips of each kind per user)"
    )
    parser.add_argument(
        "--show-sql", action="store_true", help="print the statements of the large user's flips"
    )
    parser.add_argument("--database", default="portal_bench_consent", help="database to create")
    harness.add_pg_url_argument(parser)
    return parser.parse_args(argv)


def seed(*, small: int, large: int):
    from django.utils import timezone

    from accounts.models import ConsentSource, User
    from accounts.services import consent_record
    from retention.models import Conversation, Rule
    from retention.services.deadlines import refresh_conversation_deadlines
    from retention.services.training import training_run_register

    now = timezone.now()
    users = []
    for label, count in (("small", small), ("large", large)):
        user = User.objects.create_user(
            email=f"bench-{label}@example.com", password=None, external_id=f"bench-{label}"
        )
        consent_record(
            article_version="v-test",
            user=user,
            allowed=True,
            source=ConsentSource.IMPORT,
            effective_at=now - timedelta(days=30),
        )
        Conversation.objects.bulk_create(
            (
                Conversation(
                    user=user,
                    external_id=f"{label}-c{i}",
                    kind="coding_session" if i % 7 < 2 else "chat",
                    title=f"Conversation {i}",
                    created_at=now - timedelta(days=20, minutes=i),
                    last_activity_at=now - timedelta(days=3, minutes=i),
                    shared_for_training=i % 3 == 0,
                    rule=Rule.NOT_SHARED,
                    public_rule=Rule.NOT_SHARED,
                )
                for i in range(count)
            ),
            batch_size=5000,
        )
        refresh_conversation_deadlines(Conversation.objects.filter(user=user))
        users.append(user)
    training_run_register(
        external_id="bench-run", name="Bench run", started_at=now - timedelta(days=1)
    )
    return users


def main(argv=None) -> int:
    args = parse_args(argv)
    var_dir = Path(tempfile.mkdtemp(prefix="portal-bench-consent-"))
    os.environ.update(harness.bench_environment(args.pg_url, args.database, var_dir))
    run = harness.Run()
    with harness.database(args.pg_url, args.database):
        try:
            return measure(args, run)
        finally:
            shutil.rmtree(var_dir, ignore_errors=True)


def measure(args, run: harness.Run) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import ConsentChange
    from accounts.selectors import consent_allowed

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    small, large = seed(small=args.small, large=args.large)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    people = {"small": small, "large": large}
    clients = {}
    for label, user in people.items():
        clients[label] = Client(SERVER_NAME="127.0.0.1")
        clients[label].force_login(user)
    state = {label: True for label in people}  # consent allowed in the seed

    def value(flag: bool) -> str:
        return "true" if flag else "false"

    def send(kind: str, label: str):
        """One request as the dashboard sends it; flips change the state."""
        client, target = clients[label], not state[label]
        if kind == "page":
            response = client.get("/consent/")
            expected = 200
        elif kind == "preview":
            response = client.post("/consent/", {"allowed": value(target)})
            expected = 200
        elif kind == "flip form":
            response = client.post("/consent/", {"allowed": value(target), "confirm": "on"})
            expected = 302
        elif kind == "flip htmx":
            response = client.post(
                "/consent/",
                {"allowed": value(target), "confirm": "on"},
                headers={"HX-Request": "true"},
            )
            expected = 200
        else:
            response = client.post(
                "/api/me/consent",
                json.dumps({"allowed": target}),
                content_type="application/json",
            )
            expected = 200
        if kind in FLIPS:
            state[label] = target
        return response, expected

    def check(kind: str, label: str, response, expected: int) -> None:
        if response.status_code != expected:
            raise SystemExit(f"{kind} ({label}): HTTP {response.status_code}, not {expected}.")
        if kind == "flip api" and response.json()["changed"] is not True:
            raise SystemExit(f"{kind} ({label}): the consent did not change.")

    kinds = ("page", "preview", *FLIPS)
    # Statement counts: each request once per user, the same pass warms caches.
    statements: dict[tuple[str, str], int] = {}
    sql: dict[str, list[str]] = {}
    for kind in kinds:
        for label in people:
            with CaptureQueriesContext(connection) as queries:
                response, expected = send(kind, label)
            check(kind, label, response, expected)
            statements[kind, label] = len(queries)
            if label == "large":
                sql[kind] = [q["sql"] for q in queries.captured_queries]

    timings: dict[tuple[str, str], list[float]] = {key: [] for key in statements}
    for round_no in range(args.rounds):
        order = ("small", "large") if round_no % 2 == 0 else ("large", "small")
        for kind in kinds:
            for label in order:
                took, (response, expected) = harness.timed(send, kind, label)
                timings[kind, label].append(took)
                check(kind, label, response, expected)

    # Every flip was recorded: one ledger row each, plus the seed's.
    flips = len(FLIPS) * (args.rounds + 1)
    for label, user in people.items():
        rows = ConsentChange.objects.filter(user=user).count()
        if rows != flips + 1 or consent_allowed(user_id=user.pk) != state[label]:
            raise SystemExit(f"{label}: {rows} ledger rows, expected {flips + 1}.")

    print(
        f"Consent, {args.small} vs {args.large} conversations; PostgreSQL; Django test "
        f"Client, bench.settings (DEBUG off); {args.rounds} rounds, median ms.\n"
    )
    print(
        f"{'request':<11} {'statements':>14} {'small ms':>9} {'large ms':>9} "
        f"{'large/small':>11}  goal"
    )
    met = True
    for kind in kinds:
        count_s, count_l = statements[kind, "small"], statements[kind, "large"]
        ms_s = harness.median_ms(timings[kind, "small"])
        ms_l = harness.median_ms(timings[kind, "large"])
        ratio = ms_l / ms_s
        if kind in FLIPS:
            ok = count_s == count_l and ratio <= 1.2
            met = met and ok
            verdict = "met" if ok else "NOT met"
        else:
            verdict = "(no goal)"
        print(
            f"{kind:<11} {f'{count_s} / {count_l}':>14} {ms_s:9.2f} {ms_l:9.2f} "
            f"{ratio:11.2f}  {verdict}"
        )
    print(
        "\nGoal for each flip: the same statement count for both users and time "
        f"within 1.2x: {'met' if met else 'NOT met'}."
    )
    if args.show_sql:
        for kind in ("preview", *FLIPS):
            print(f"\nStatements of '{kind}', large user:")
            for number, statement in enumerate(sql[kind], 1):
                print(f"  {number:2d}. {statement[:160]}")
    run.report()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
