"""Latency of the dashboard's conversation list: a user with 10 conversations
against one with 10,000, and page 200 against page 1 (keyset pagination).

Runs in-process with Django's test Client (full middleware stack, no network),
in a throwaway test database that Django creates and drops (test_<name>), so
no real data is touched. Meant for PostgreSQL: set DATABASE_URL, e.g.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_dashboard \\
        .venv/bin/python bench/dashboard.py

The four requests are timed round-robin in one run, so the ratios compare
measurements taken side by side under the same machine load.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


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
        help="run on SQLite anyway (figures not representative)",
    )
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment, teardown_test_environment
    from django.utils import timezone

    if connection.vendor != "postgresql" and not args.allow_sqlite:
        print(
            "This benchmark is for PostgreSQL: set DATABASE_URL (or pass --allow-sqlite).",
            file=sys.stderr,
        )
        return 2

    from dashboard.presentation import cursor_encode
    from dashboard.selectors import PAGE_SIZE

    needed = args.page * PAGE_SIZE
    if args.large < needed:
        print(f"--large must be at least {needed} to have a page {args.page}.", file=sys.stderr)
        return 2

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
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
                start = time.perf_counter()
                response = client.get(path)
                timings[label].append(time.perf_counter() - start)
                assert response.status_code == 200
        medians = {label: statistics.median(values) * 1000 for label, values in timings.items()}
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
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    return 0


if __name__ == "__main__":
    sys.exit(main())
