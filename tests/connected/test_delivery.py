"""Webhook delivery against the reference receiver (examples/receiver.py)
running as its own process on 127.0.0.1: signatures, retries with backoff,
`deliver_events --all`, order per account, an endpoint down and back, dead
letters, rotation, and a slow endpoint beside a healthy one."""

import socket
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from connected.models import ConnectedSystem, Delivery, DeliveryState
from connected.services.delivery import deliver_system, deliveries_retry, webhook_body
from connected.services.systems import system_rotate
from tests.connected import factories as f
from tests.connected.conftest import ReceiverProcess, free_port

ALL = ["conversation.deleted", "consent.changed", "conversation.purged"]


@pytest.fixture(autouse=True)
def _short_timeout(settings):
    settings.CONNECTED_DELIVERY_TIMEOUT = 2


def _deliver(system, **kwargs):
    return deliver_system(system_id=system.pk, **kwargs)


def _subjects(received):
    return [(r["data"]["account"], r["data"].get("conversation")) for r in received]


def test_events_arrive_signed_with_the_documented_headers_and_body(register, record, receiver_for):
    system, creds = register("lake", events=ALL)
    receiver = receiver_for(creds.signing_secret)
    system.url = receiver.url
    system.save()
    record(f.deleted("a1", "c1"), f.consent("a1", allowed=False))
    report = _deliver(system)
    assert (report.sent, report.failed, report.pending) == (2, 0, 0)
    received = receiver.received()
    assert [r["type"] for r in received] == ["conversation.deleted", "consent.changed"]
    assert received[0]["data"] == f.deleted("a1", "c1")["data"]
    assert received[0]["timestamp"].endswith("Z")
    delivered = Delivery.objects.select_related("event").order_by("seq")
    assert [r["id"] for r in received] == [d.event.public_id for d in delivered]
    assert all(d.state == DeliveryState.DELIVERED and d.delivered_at for d in delivered)
    assert ConnectedSystem.objects.get().last_delivery_at is not None


def test_the_signature_verifies_with_standardwebhooks_and_a_tampered_or_old_one_is_refused(
    register, record, receiver_for
):
    _, creds = register("lake", events=ALL)
    receiver = receiver_for(creds.signing_secret)
    record(f.deleted("a1", "c1"))
    delivery = Delivery.objects.select_related("event").get()
    body = webhook_body(delivery)
    msg_id = delivery.event.public_id

    def post(data: str, at: int, signed: str | None = None):
        signature = Webhook(creds.signing_secret).sign(
            msg_id, datetime.fromtimestamp(at, UTC), signed or data
        )
        request = urllib.request.Request(  # noqa: S310 (the test's own http URL)
            receiver.url,
            data=data.encode(),
            method="POST",
            headers={
                "webhook-id": msg_id,
                "webhook-timestamp": str(at),
                "webhook-signature": signature,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    now = int(time.time())
    tampered = body.replace('"c1"', '"c2"')
    assert post(tampered, now, signed=body) == 401
    assert post(body, now - 600) == 400  # a replay from ten minutes ago
    assert receiver.received() == []
    assert post(body, now) == 200
    assert post(body, now) == 200  # a redelivery is acknowledged, recorded once
    assert len(receiver.received()) == 1


def test_a_failed_delivery_waits_for_its_backoff_and_deliver_events_all_ignores_it(
    register, record, tmp_path
):
    port = free_port()
    system, creds = register("lake", events=ALL, url=f"http://127.0.0.1:{port}/hooks")
    record(f.deleted("a1", "c1"))
    report = _deliver(system)  # nobody listening yet
    assert (report.sent, report.failed) == (0, 1)
    delivery = Delivery.objects.get()
    assert delivery.attempts == 1 and delivery.state == DeliveryState.PENDING
    assert "unreachable" in delivery.last_error
    wait = delivery.next_attempt_at - delivery.last_attempt_at
    assert timedelta(seconds=5) <= wait <= timedelta(seconds=10)

    receiver = ReceiverProcess(tmp_path, creds.signing_secret)
    receiver.port, receiver.url = port, system.url
    receiver.start()
    try:
        assert _deliver(system).sent == 0  # still backing off
        out = StringIO()
        call_command("deliver_events", "--all", stdout=out)
        assert "lake: 1 sent, 0 failed, 0 dead-lettered, 0 pending" in out.getvalue()
        assert len(receiver.received()) == 1
        out = StringIO()
        call_command("deliver_events", stdout=out)
        assert "lake: 0 sent, 0 failed, 0 dead-lettered, 0 pending" in out.getvalue()
    finally:
        receiver.stop()


def test_a_receiver_down_for_a_while_then_back_gets_every_event_once_in_order_per_account(
    register, record, tmp_path
):
    system, creds = register("lake", events=ALL)
    receiver = ReceiverProcess(tmp_path, creds.signing_secret)
    system.url = receiver.url
    system.save()
    record(f.deleted("a1", "c1"), f.deleted("a2", "d1"), f.deleted("a1", "c2"))
    assert _deliver(system).failed == 1  # down: the pass stops at the first refusal
    record(f.deleted("a2", "d2"), f.deleted("a1", "c3"))
    assert _deliver(system, ignore_backoff=True).failed == 1
    receiver.start()
    try:
        later = timezone.now() + timedelta(minutes=5)  # past every backoff
        report = _deliver(system, now=later)
        assert (report.sent, report.failed, report.pending) == (5, 0, 0)
        assert _deliver(system, ignore_backoff=True).sent == 0  # nothing twice
        received = _subjects(receiver.received())
        assert sorted(received) == sorted(set(received))
        assert [c for a, c in received if a == "a1"] == ["c1", "c2", "c3"]
        assert [c for a, c in received if a == "a2"] == ["d1", "d2"]
    finally:
        receiver.stop()


def test_after_the_retry_window_a_delivery_is_dead_and_holds_back_only_its_account(
    register, record, receiver_for, settings
):
    port = free_port()
    system, creds = register("lake", events=ALL, url=f"http://127.0.0.1:{port}/")
    record(f.deleted("a1", "c1"))
    _deliver(system)
    almost = timezone.now() + timedelta(days=settings.CONNECTED_RETRY_DAYS) - timedelta(minutes=1)
    assert _deliver(system, now=almost, ignore_backoff=True).dead == 0
    past = timezone.now() + timedelta(days=settings.CONNECTED_RETRY_DAYS, minutes=1)
    report = _deliver(system, now=past, ignore_backoff=True)
    assert (report.failed, report.dead, report.pending) == (1, 1, 0)
    dead = Delivery.objects.get()
    assert dead.state == DeliveryState.DEAD and dead.attempts == 3

    # The endpoint comes back: other accounts flow, a1 waits behind its dead letter.
    receiver = receiver_for(creds.signing_secret)
    system.url = receiver.url
    system.save()
    record(f.deleted("a1", "c2"), f.deleted("a2", "d1"))
    assert _deliver(system).sent == 1
    assert _subjects(receiver.received()) == [("a2", "d1")]
    # "Retry now" (admin) sends the dead letter, then what waited behind it, in order.
    assert deliveries_retry(delivery_ids=[dead.pk]) == 1
    assert _deliver(system).sent == 2
    assert _subjects(receiver.received())[1:] == [("a1", "c1"), ("a1", "c2")]


def test_after_a_rotation_both_signatures_are_sent_and_either_secret_verifies(
    register, record, receiver_for
):
    system, old = register("lake", events=ALL)
    new = system_rotate(system_id=system.pk)
    with_old = receiver_for(old.signing_secret)
    with_new = receiver_for(new.signing_secret)
    for receiver, conversation in ((with_old, "c1"), (with_new, "c2")):
        ConnectedSystem.objects.filter(pk=system.pk).update(url=receiver.url)
        record(f.deleted("a1", conversation))
        assert _deliver(system).sent == 1
        [received] = receiver.received()
        assert received["data"]["conversation"] == conversation
        assert received["signatures"] == 2


def test_once_the_overlap_is_over_only_the_new_secret_signs(
    register, record, receiver_for, settings
):
    settings.CONNECTED_SECRET_OVERLAP_HOURS = 0
    system, old = register("lake", events=ALL)
    new = system_rotate(system_id=system.pk)
    with_old = receiver_for(old.signing_secret)
    ConnectedSystem.objects.filter(pk=system.pk).update(url=with_old.url)
    record(f.deleted("a1", "c1"))
    report = _deliver(system)
    assert (report.sent, report.failed) == (0, 1)
    assert Delivery.objects.get().last_error == "HTTP 401"
    with_new = receiver_for(new.signing_secret)
    ConnectedSystem.objects.filter(pk=system.pk).update(url=with_new.url)
    assert _deliver(system, ignore_backoff=True).sent == 1
    assert with_new.received()[0]["signatures"] == 1


def test_a_slow_endpoint_costs_one_timeout_and_never_holds_up_the_others(
    register, record, receiver_for, settings
):
    settings.CONNECTED_DELIVERY_TIMEOUT = 0.5
    silent = socket.socket()  # accepts connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        port = silent.getsockname()[1]
        register("aaa-slow", events=ALL, url=f"http://127.0.0.1:{port}/")
        healthy, creds = register("zzz-healthy", events=ALL)
        receiver = receiver_for(creds.signing_secret)
        healthy.url = receiver.url
        healthy.save()
        record(*[f.deleted(f"a{n}", "c1") for n in range(5)])
        out = StringIO()
        started = time.monotonic()
        call_command("deliver_events", stdout=out)
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    lines = out.getvalue().splitlines()
    assert "aaa-slow: 0 sent, 1 failed, 0 dead-lettered, 5 pending" in lines
    assert "zzz-healthy: 5 sent, 0 failed, 0 dead-lettered, 0 pending" in lines
    assert len(receiver.received()) == 5
    assert elapsed < 3
    first = Delivery.objects.filter(system__name="aaa-slow").order_by("seq").first()
    assert first.last_error.startswith("unreachable")


def test_a_disabled_system_gets_nothing(register, record, receiver_for):
    system, creds = register("lake", events=ALL)
    receiver = receiver_for(creds.signing_secret)
    system.url = receiver.url
    system.save()
    record(f.deleted("a1", "c1"))
    ConnectedSystem.objects.filter(pk=system.pk).update(enabled=False)
    record(f.deleted("a1", "c2"))
    assert _deliver(system, ignore_backoff=True).sent == 0
    assert receiver.received() == []
    assert Delivery.objects.count() == 1  # none was made while it was disabled


class _CountingEndpoint:
    """An endpoint in this process that counts every request per webhook-id
    (no dedupe), slowly enough that two workers overlap."""

    def __init__(self):
        import http.server
        import threading
        from collections import Counter

        self.counts: Counter[str] = Counter()
        lock = threading.Lock()
        counts = self.counts

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    counts[self.headers["webhook-id"]] += 1
                time.sleep(0.01)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_at_once_never_send_one_event_twice(monkeypatch):
    import threading

    from django.db import connection, connections

    from tests.connected.conftest import record_committed

    if connection.vendor != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) are PostgreSQL's; SQLite has one writer")
    # Not the eager task after the commit: the workers below do the sending.
    monkeypatch.setattr("connected.tasks.deliver_events.delay", lambda: None)
    endpoint = _CountingEndpoint()
    try:
        system = ConnectedSystem.objects.create(
            name="lake", url=endpoint.url, events=ALL, signing_secret=f.secret()
        )
        record_committed(*[f.deleted(f"a{n % 60}", f"c{n}") for n in range(120)])
        reports, barrier = [], threading.Barrier(3)

        def worker():
            barrier.wait()
            try:
                reports.append(deliver_system(system_id=system.pk))
            finally:
                connections.close_all()

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        endpoint.close()
    assert sum(r.sent for r in reports) == 120
    assert len(endpoint.counts) == 120
    assert set(endpoint.counts.values()) == {1}
    assert sum(r.sent > 0 for r in reports) >= 2  # they really shared the work


def test_an_endpoint_answering_garbage_is_a_failed_delivery_retried_later(register, record):
    import threading

    garbage = socket.socket()
    garbage.bind(("127.0.0.1", 0))
    garbage.listen(4)

    def answer():
        connection, _ = garbage.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        port = garbage.getsockname()[1]
        system, _ = register("lake", events=ALL, url=f"http://127.0.0.1:{port}/")
        record(f.deleted("a1", "c1"))
        report = _deliver(system)
    finally:
        thread.join(timeout=5)
        garbage.close()
    assert (report.sent, report.failed) == (0, 1)
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING and delivery.claimed_until is None
    assert delivery.last_error.startswith("bad answer")
