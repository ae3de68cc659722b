"""Latency of the dashboard's conversation list: a user with 10 conversations
against one with 10,000, and page 200 against page 1 (keyset pagination).

Runs in-process with Django's test Client (full middleware stack, no network,
tests/settings.py), in a throwaway database on the server DATABASE_URL names,
test_<name>, created and dropped by the run, so no real data is touched. Meant
for PostgreSQL: set DATABASE_URL, e.g.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_dashboard \\
        .venv/bin/python bench/dashboard.py

The four requests are timed round-robin in one run, so the ratios compare
measurements taken side by side under the same machine load.
"""

import argparse
import os
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness


def parse_args() -> argparse.Namespace:
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
        "--page", type=int, default=200, help="the far page to compare with page 1 (200)"
    )
    parser.add_argument(
        "--rounds", type=int, default=30, help="timed rounds of the four requests (30)"
    )
    parser.add_argument(
        "--allow-sqlite",
        action="store_true",
        help="run on SQLite (a file of the run's own) when DATABASE_URL is not "
        "PostgreSQL (figures not representative)",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    url = os.environ.get("DATABASE_URL", "")
    postgresql = url.startswith(("postgres://", "postgresql://"))
    if not postgresql and not args.allow_sqlite:
        print(
            "This benchmark is for PostgreSQL: set DATABASE_URL (or pass --allow-sqlite).",
            file=sys.stderr,
        )
        return 2
    var_dir = Path(tempfile.mkdtemp(prefix="portal-bench-dashboard-"))
    try:
        if postgresql:
            pg_url, name = harness.split_database_url(url)
            os.environ.update(
                harness.bench_environment(
                    pg_url, f"test_{name}", var_dir, settings="tests.settings"
                )
            )
            with harness.database(pg_url, f"test_{name}"):
                return measure(args)
        # SQLite: a file in the run's var directory, removed with it.
        environment = harness.bench_environment("", "", var_dir, settings="tests.settings")
        environment["DATABASE_URL"] = f"sqlite:///{var_dir / 'bench.sqlite3'}"
        os.environ.update(environment)
        return measure(args)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def measure(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment, teardown_test_environment
    from django.utils import timezone

    from dashboard.presentation import cursor_encode
    from dashboard.selectors.common import PAGE_SIZE

    needed = args.page * PAGE_SIZE
    if args.large < needed:
        print(f"--large must be at least {needed} to have a page {args.page}.", file=sys.stderr)
        return 2

    # The test Client's host name and locmem mail, as in the test suite.
    setup_test_environment()
    try:
        call_command("migrate", verbosity=0)
        from retention.models import Conversation, Rule
        from retention.services.deadlines import refresh_conversation_deadlines
        from tests.factories import UserFactory

        def make(user, n):
            now = timezone.now()
            Conversation.objects.bulk_create(
                (
                    Conversation(
                        user=user,
                        external_id=f"{user.pk}-c{i}",
                        kind="chat",
                        title=f"Conversation {i}",
                        created_at=now - timedelta(minutes=i + 1),
                        last_activity_at=now - timedelta(minutes=i),
                        shared_for_training=i % 2 == 0,
                        rule=Rule.NOT_SHARED,
                        public_rule=Rule.NOT_SHARED,
                    )
                    for i in range(n)
                ),
                batch_size=5000,
            )
            refresh_conversation_deadlines(Conversation.objects.filter(user=user))

        small, large = UserFactory(), UserFactory()
        make(small, args.small)
        make(large, args.large)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {Conversation._meta.db_table}")
        # The cursor a reader holds after paging to page N: after row N*size-size.
        last_of_previous = (
            Conversation.objects.filter(user=large, deleted_at__isnull=True)
            .order_by("-last_activity_at", "-pk")
            .values_list("last_activity_at", "pk")[needed - PAGE_SIZE - 1]
        )
        far_cursor = cursor_encode(*last_of_previous)

        clients = {}
        for name, user in (("small", small), ("large", large)):
            clients[name] = Client()
            clients[name].force_login(user)
        requests = {
            f"list, {args.small} conversations": (clients["small"], "/conversations/"),
            f"list, {args.large} conversations": (clients["large"], "/conversations/"),
            "page 1": (clients["large"], "/conversations/"),
            f"page {args.page}": (clients["large"], f"/conversations/?cursor={far_cursor}"),
        }
        for client, path in requests.values():  # warm caches and the session
            assert client.get(path).status_code == 200
        timings = {label: [] for label in requests}
        for _ in range(args.rounds):
            for label, (client, path) in requests.items():
                took, response = harness.timed(client.get, path)
                timings[label].append(took)
                assert response.status_code == 200
        medians = {label: harness.median_ms(values) for label, values in timings.items()}
        print(
            f"Database: {connection.vendor}; in-process Django test Client; {args.rounds} rounds, median ms"
        )
        for label, ms in medians.items():
            print(f"  {label:<28} {ms:8.2f} ms")
        labels = list(medians)
        print(
            f"Ratio {args.large} / {args.small} conversations: {medians[labels[1]] / medians[labels[0]]:.2f}"
        )
        print(
            f"Ratio page {args.page} / page 1:            {medians[labels[3]] / medians[labels[2]]:.2f}"
        )
    finally:
        teardown_test_environment()
    return 0


if __name__ == "__main__":
    sys.exit(main())
