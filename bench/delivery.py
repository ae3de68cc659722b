#!/usr/bin/env python
"""Delivery to connected systems (issue 10), on PostgreSQL, against the
reference receiver (examples/receiver.py) in its own process on 127.0.0.1.

Builds a database of its own (default `portal_bench_delivery`, dropped at the
end) and measures four things side by side:

  throughput   --events events delivered by the portal's delivery pass
               (connected.services.delivery.deliver_system: claim, sign, POST,
               record), against a bare loop of signed POSTs of the same
               bodies to the same receiver. Goal: at least 0.5x.
  latency      --users users delete their conversations at once (a thread
               each, the whole dashboard request through Django's test
               Client), with one worker delivering (a process of its own
               running the dispatcher and the delivery pass back to back, as
               the Celery worker does): the time from the start of the
               delete request to the receiver's receipt. Goal: p95 under 2 s.
  outbox cost  the delete request with a subscribed system (the outbox
               write) against the same request with none. Goal: at most
               1.10x.
  backlog      --events events delivered from the front of a backlog of
               each of --backlogs pending deliveries (with as many already
               delivered before them: a system's history), the sizes
               alternating round by round. Goal: linear, the cost per event
               the same at 10x the backlog (at most 1.25x, the noise here).

    .venv/bin/python bench/delivery.py              # about 1.5 minutes
    .venv/bin/python bench/delivery.py --events 500 --rounds 1

Needs a PostgreSQL server (--pg-url, default $PGURL or postgres://postgres@127.0.0.1:5432).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import harness


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2000, help="events per throughput round")
    parser.add_argument("--rounds", type=int, default=3, help="throughput and cost rounds")
    parser.add_argument("--users", type=int, default=16, help="concurrent users (latency)")
    parser.add_argument("--deletes", type=int, default=20, help="deletions per user (latency)")
    parser.add_argument("--requests", type=int, default=40, help="delete requests per cost round")
    parser.add_argument(
        "--backlogs",
        default="20000,200000",
        help="two comma-separated backlog sizes (pending deliveries); '' skips the measure",
    )
    parser.add_argument("--database", default="portal_bench_delivery", help="database to create")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # the latency worker
    parser.add_argument("--stop-file", help=argparse.SUPPRESS)
    harness.add_pg_url_argument(parser)
    return parser.parse_args(argv)


def worker(system_id: int, stop_file: Path) -> int:
    """The latency run's one worker, in a process of its own (the parent's
    environment): dispatch and deliver back to back until `stop_file` exists."""
    import django

    django.setup()
    from connected.services.delivery import deliver_system
    from connected.services.dispatch import outbox_dispatch

    while not stop_file.exists():
        outbox_dispatch()
        if not deliver_system(system_id=system_id, ignore_backoff=True).sent:
            time.sleep(0.01)
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(args.worker, Path(args.stop_file))
    var_dir = Path(tempfile.mkdtemp(prefix="portal-bench-delivery-"))
    os.environ.update(
        harness.bench_environment(
            args.pg_url,
            args.database,
            var_dir,
            # Delivery runs in the bench's own worker thread; tasks queued on
            # commit go to an in-memory broker nobody reads.
            CELERY_BROKER_URL="memory://",
            CELERY_TASK_ALWAYS_EAGER="false",
        )
    )
    run = harness.Run()
    with harness.database(args.pg_url, args.database):
        try:
            return measure(args, run, var_dir)
        finally:
            shutil.rmtree(var_dir, ignore_errors=True)


def measure(args, run: harness.Run, var_dir: Path) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    throughput = measure_throughput(args)
    latencies = measure_latency(args, var_dir)
    costs = measure_outbox_cost(args)
    backlogs = measure_backlogs(args) if args.backlogs else {}

    ratios = [bare / ours for ours, bare in throughput]
    print(f"\nThroughput, {args.events} events a round (ours vs a bare loop of signed POSTs):")
    for (ours, bare), ratio in zip(throughput, ratios, strict=True):
        print(
            f"  ours {args.events / ours:7.0f} events/s, bare {args.events / bare:7.0f} events/s:"
            f" {ratio:.2f}x"
        )
    median_ratio = statistics.median(ratios)
    print(f"  median {median_ratio:.2f}x (goal: at least 0.5x: {verdict(median_ratio >= 0.5)})")

    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    print(
        f"\nDelete request to receiver, {args.users} users x {args.deletes} deletions, one worker:"
        f" p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
        f" (goal: p95 under 2 s: {verdict(p95 < 2)})"
    )

    with_outbox = harness.median_ms(t for pair in costs for t in pair[0])
    without = harness.median_ms(t for pair in costs for t in pair[1])
    cost_ratio = with_outbox / without
    print(
        f"\nDelete request: {with_outbox:.2f} ms with a subscribed system, {without:.2f} ms"
        f" without: {cost_ratio:.2f}x (goal: at most 1.10x: {verdict(cost_ratio <= 1.10)});"
        f" per round {harness.per_round(statistics.median(a) / statistics.median(b) for a, b in costs)}"
    )
    if backlogs:
        (small, small_times), (large, large_times) = backlogs.items()
        per_event = {
            n: statistics.median(times) / args.events * 1000 for n, times in backlogs.items()
        }
        growth = per_event[large] / per_event[small]
        print(
            f"\n{args.events} events from the front of a backlog: {per_event[small]:.2f} ms per event"
            f" at {small:,}, {per_event[large]:.2f} at {large:,}: {growth:.2f}x (goal: linear,"
            f" at most 1.25x: {verdict(growth <= 1.25)}); per round"
            f" {harness.per_round(b / a for a, b in zip(small_times, large_times, strict=True))}"
        )
    run.report()
    return 0


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def _conversations(user, count: int, prefix: str) -> list[str]:
    """`count` conversations of `user`, with their deadlines as ingest leaves them."""
    from django.utils import timezone

    from retention.models import Conversation, Rule
    from retention.services.deadlines import refresh_conversation_deadlines

    now = timezone.now()
    ids = [f"{prefix}-{i}" for i in range(count)]
    Conversation.objects.bulk_create(
        Conversation(
            user=user,
            external_id=external_id,
            kind="chat",
            title="Bench",
            created_at=now - timedelta(days=2),
            last_activity_at=now - timedelta(days=1),
            rule=Rule.NOT_SHARED,
            public_rule=Rule.NOT_SHARED,
        )
        for external_id in ids
    )
    refresh_conversation_deadlines(Conversation.objects.filter(external_id__in=ids))
    return ids


def measure_throughput(args) -> list[tuple[float, float]]:
    """(ours, bare) seconds for --events events, each round."""
    from django.db import transaction
    from standardwebhooks.webhooks import Webhook

    from connected.events import CONVERSATION_DELETED
    from connected.models import Delivery
    from connected.services.delivery import deliver_system
    from connected.services.dispatch import outbox_dispatch
    from connected.services.outbox import OutboxItem, outbox_record_many
    from connected.services.systems import system_register

    probe, credentials = system_register(name="throughput", events=[CONVERSATION_DELETED])
    receiver = harness.Receiver(credentials.signing_secret)
    system = type(probe).objects.get(pk=probe.pk)
    system.url = receiver.url
    system.save(update_fields=["url"])
    webhook = Webhook(credentials.signing_secret)
    results = []
    try:
        for round_number in range(args.rounds):
            items = [
                OutboxItem(
                    type=CONVERSATION_DELETED,
                    account=f"acct-{i % 50}",
                    data={
                        "account": f"acct-{i % 50}",
                        "conversation": f"r{round_number}-c{i}",
                        "deleted_at": "2026-12-01T00:00:00Z",
                        "purge_by": "2026-12-31T00:00:00Z",
                    },
                )
                for i in range(args.events)
            ]
            with transaction.atomic():
                outbox_record_many(events=items)
            outbox_dispatch()

            def ours():
                while Delivery.objects.filter(system=system, state="pending").exists():
                    deliver_system(
                        system_id=system.pk, ignore_backoff=True, limit=args.events, seconds=600
                    )

            def bare(items=items, round_number=round_number):
                for i, item in enumerate(items):
                    body = json.dumps(
                        {"type": item.type, "timestamp": "2026-12-01T00:00:00Z", "data": item.data}
                    )
                    msg_id = f"bare-{round_number}-{i}"
                    now = datetime.now(UTC)
                    request = urllib.request.Request(
                        receiver.url,
                        data=body.encode(),
                        method="POST",
                        headers={
                            "Content-Type": "application/json",
                            "webhook-id": msg_id,
                            "webhook-timestamp": str(int(now.timestamp())),
                            "webhook-signature": webhook.sign(msg_id, now, body),
                        },
                    )
                    with urllib.request.urlopen(request, timeout=5) as response:
                        response.read()

            # Side by side, the order swapped every round.
            if round_number % 2:
                bare_seconds, _ = harness.timed(bare)
                ours_seconds, _ = harness.timed(ours)
            else:
                ours_seconds, _ = harness.timed(ours)
                bare_seconds, _ = harness.timed(bare)
            results.append((ours_seconds, bare_seconds))
    finally:
        receiver.stop()
        system.enabled = False
        system.save(update_fields=["enabled"])
    return results


def measure_backlogs(args) -> dict[int, list[float]]:
    """{backlog: seconds to deliver --events events from its front, each round}."""
    from django.db import connection

    from connected.events import CONVERSATION_DELETED
    from connected.models import ConnectedSystem
    from connected.services.delivery import deliver_system
    from connected.services.systems import system_register

    sizes = [int(size) for size in args.backlogs.split(",")]
    if len(sizes) != 2 or min(sizes) < args.events:
        raise SystemExit(f"--backlogs: two sizes of at least --events ({args.events})")
    probe, credentials = system_register(name="backlog", events=[CONVERSATION_DELETED])
    receiver = harness.Receiver(credentials.signing_secret)
    ConnectedSystem.objects.filter(pk=probe.pk).update(url=receiver.url)
    results: dict[int, list[float]] = {size: [] for size in sizes}
    try:
        for round_number in range(args.rounds):
            for size in sizes if round_number % 2 == 0 else reversed(sizes):
                with connection.cursor() as cursor:
                    _seed_backlog(cursor, system_id=probe.pk, pending=size, delivered=size)
                seconds, sent = harness.timed(
                    lambda: deliver_system(system_id=probe.pk, limit=args.events, seconds=600).sent
                )
                if sent != args.events:
                    raise SystemExit(f"backlog {size}: {sent} of {args.events} delivered")
                results[size].append(seconds)
                with connection.cursor() as cursor:
                    cursor.execute(
                        "DELETE FROM connected_delivery WHERE system_id = %s", [probe.pk]
                    )
    finally:
        receiver.stop()
        ConnectedSystem.objects.filter(pk=probe.pk).update(enabled=False)
    return results


def _seed_backlog(cursor, *, system_id: int, pending: int, delivered: int) -> None:
    """`delivered` deliveries already sent, then `pending` due ones, to one
    system (SQL: dispatching 400,000 events through the outbox would take
    the run's time), their events spread over 5,000 accounts."""
    cursor.execute("SELECT coalesce(max(id), 0), coalesce(max(seq), 0) FROM connected_outboxevent")
    first_id, first_seq = cursor.fetchone()
    total = pending + delivered
    cursor.execute(
        """
        INSERT INTO connected_outboxevent (id, public_id, type, account, subject, data, created_at, seq)
        SELECT %(id)s + g, 'evt_bench_' || (%(id)s + g), 'conversation.deleted',
               'acct-' || (g %% 5000), 'c-' || g,
               jsonb_build_object('account', 'acct-' || (g %% 5000), 'conversation', 'c-' || g,
                                  'deleted_at', '2026-12-01T00:00:00Z',
                                  'purge_by', '2026-12-31T00:00:00Z'),
               now(), %(seq)s + g
        FROM generate_series(1, %(total)s) g
        """,
        {"id": first_id, "seq": first_seq, "total": total},
    )
    cursor.execute(
        """
        INSERT INTO connected_delivery (event_id, system_id, seq, account, state, attempts,
                                        next_attempt_at, last_error, created_at, delivered_at)
        SELECT id, %(system)s, seq, account,
               CASE WHEN seq <= %(seq)s + %(delivered)s THEN 'delivered' ELSE 'pending' END,
               0, now() - interval '1 second', '', created_at,
               CASE WHEN seq <= %(seq)s + %(delivered)s THEN now() END
        FROM connected_outboxevent WHERE id > %(id)s
        """,
        {"system": system_id, "seq": first_seq, "delivered": delivered, "id": first_id},
    )
    cursor.execute("ANALYZE connected_delivery")


def measure_latency(args, var_dir: Path) -> list[float]:
    """Seconds from each delete request's start to the receiver's receipt."""
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from connected.events import CONVERSATION_DELETED
    from connected.services.systems import system_register

    log = var_dir / "received.jsonl"
    probe, credentials = system_register(name="latency", events=[CONVERSATION_DELETED])
    receiver = harness.Receiver(credentials.signing_secret, log=log)
    type(probe).objects.filter(pk=probe.pk).update(url=receiver.url)
    users = []
    for n in range(args.users):
        user = User.objects.create_user(
            email=f"bench-{n}@example.com", password=None, external_id=f"bench-{n}"
        )
        users.append((user, _conversations(user, args.deletes, f"u{n}")))
    started: dict[str, float] = {}
    stop_file = var_dir / "stop-worker"

    def user_session(user, ids):
        try:
            client = Client(SERVER_NAME="127.0.0.1")
            client.force_login(user)
            for external_id in ids:
                started[external_id] = time.time()
                response = client.post(f"/conversations/{external_id}/delete/", {"confirm": "yes"})
                if response.status_code != 302:
                    raise SystemExit(f"delete {external_id}: HTTP {response.status_code}")
        finally:
            connection.close()

    delivering = subprocess.Popen(
        [sys.executable, __file__, "--worker", str(probe.pk), "--stop-file", str(stop_file)]
    )
    sessions = [threading.Thread(target=user_session, args=pair) for pair in users]
    try:
        for thread in sessions:
            thread.start()
        for thread in sessions:
            thread.join()
        expected = args.users * args.deletes
        deadline = time.monotonic() + 60
        received: dict[str, float] = {}
        while len(received) < expected and time.monotonic() < deadline:
            time.sleep(0.1)
            if log.exists():
                for line in log.read_text().splitlines():
                    record = json.loads(line)
                    at = datetime.fromisoformat(record["received_at"]).timestamp()
                    received.setdefault(record["data"]["conversation"], at)
        if len(received) < expected:
            raise SystemExit(f"only {len(received)} of {expected} deletions reached the receiver")
    finally:
        stop_file.touch()
        delivering.wait(timeout=60)
        receiver.stop()
        type(probe).objects.filter(pk=probe.pk).update(enabled=False)
    return [received[external_id] - started[external_id] for external_id in started]


def measure_outbox_cost(args) -> list[tuple[list[float], list[float]]]:
    """Per round: the delete request's seconds with a subscribed system, and
    without any (every system disabled)."""
    from django.test import Client

    from accounts.models import User
    from connected.events import CONVERSATION_DELETED
    from connected.models import ConnectedSystem
    from connected.services.systems import system_register

    listener, _ = system_register(name="cost", events=[CONVERSATION_DELETED])
    user = User.objects.create_user(email="bench-cost@example.com", external_id="bench-cost")
    ids = iter(_conversations(user, 2 * args.rounds * args.requests + 10, "cost"))
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)

    def delete_one() -> float:
        external_id = next(ids)
        begin = time.perf_counter()
        response = client.post(f"/conversations/{external_id}/delete/", {"confirm": "yes"})
        elapsed = time.perf_counter() - begin
        if response.status_code != 302:
            raise SystemExit(f"delete {external_id}: HTTP {response.status_code}")
        return elapsed

    def requests_with(enabled: bool) -> list[float]:
        ConnectedSystem.objects.filter(pk=listener.pk).update(enabled=enabled)
        return [delete_one() for _ in range(args.requests)]

    for _ in range(5):  # warm the connection and the templates
        delete_one()
    rounds = []
    for round_number in range(args.rounds):
        if round_number % 2:
            without = requests_with(False)
            with_outbox = requests_with(True)
        else:
            with_outbox = requests_with(True)
            without = requests_with(False)
        rounds.append((with_outbox, without))
    return rounds


if __name__ == "__main__":
    sys.exit(main())
