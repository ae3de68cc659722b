"""Everything at once: users flip their training consent (two tabs each) and
delete conversations while the purge runs and the chat service delivers
duplicated events to the ingest API. All traffic is HTTP to the live server
on 127.0.0.1, bounded in count; the purge runs in a thread of this process.

Afterwards: every accepted event was applied exactly once, each user's
consent ledger is in order and ends at the consent in force, no answer was an
error (the documented 503 of a transient database error, which changed
nothing, is retried after Retry-After and counted; a 500 fails the test with
the server's traceback), and the purge
left no half-purged conversation, receipts equal to what is gone, the chain
intact.
"""

import http.client
import itertools
import json
import logging
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory
from django.utils import timezone
from psycopg import sql

from accounts.models import ConsentChange, User
from accounts.selectors import consent_allowed
from accounts.services import consent_record
from ingest import batch as ingest_batch
from ingest.models import IngestedEvent
from ingest.services import events_ingest
from retention.models import Conversation, DeletionReceipt, Message, PurgeRun
from retention.purge import purge_due
from retention.selectors.documents import current_article_version
from retention.services.conversations import conversations_delete_by_id, message_add
from tests.factories import UserFactory
from tests.ingest import builders
from tests.reliability.backlog import Expected, assert_consistent, seed_backlog
from tests.reliability.postgres import other_connection

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TOKEN = "test-ingest-token"  # tests/settings.py
FLIPS_PER_TAB = 12
DELETES_PER_USER = 20
LIVE_CONVERSATIONS = 3  # per account, fed by the ingest API during the test
MESSAGES_PER_CONVERSATION = 6
RETRIES = 10


@dataclass
class Answers:
    """What every request got back, by kind; appended from many threads.
    `busy`: the documented 503s that were retried, by kind."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    by_kind: dict = field(default_factory=lambda: defaultdict(list))
    busy: Counter = field(default_factory=Counter)

    def add(self, kind: str, *answer) -> None:
        with self.lock:
            self.by_kind[kind].append(answer)


class ServerErrors(logging.Handler):
    """The live server's logged errors (django.request logs every 500 with
    its traceback), so a failing answer shows why, not only its status."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.setFormatter(logging.Formatter("%(message)s"))
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


class Http:
    def __init__(self, url: str):
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port

    def send(self, method: str, path: str, body=None, headers=None) -> tuple[int, dict, dict]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(
                method,
                path,
                body=None if body is None else json.dumps(body),
                headers={"Content-Type": "application/json", **(headers or {})},
            )
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {"body": raw[:200]}
        return response.status, data, dict(response.getheaders())

    def send_until_served(self, busy: Counter, kind: str, *args, **kwargs) -> tuple[int, dict]:
        """send(), again after Retry-After while the portal answers its
        documented 503 (a transient database error: nothing was changed),
        at most RETRIES times; `busy[kind]` counts the 503s."""
        for _ in range(RETRIES):
            status, data, headers = self.send(*args, **kwargs)
            if status != 503:
                break
            busy[kind] += 1
            time.sleep(float(headers.get("Retry-After", 1)))
        return status, data


def _signed_in(user) -> dict:
    """Headers of a browser signed in as `user`: session and CSRF cookies and
    the CSRF header, as the dashboard's pages give them."""
    client = Client()
    client.force_login(user)
    request = RequestFactory().get("/")
    token = get_token(request)
    cookies = {
        settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
        settings.CSRF_COOKIE_NAME: request.META["CSRF_COOKIE"],
    }
    return {
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        "X-CSRFToken": token,
    }


def _flip(http: Http, headers: dict, user_id: int, rng: random.Random, answers: Answers):
    for _ in range(FLIPS_PER_TAB):
        allowed = rng.random() < 0.5
        status, data = http.send_until_served(
            answers.busy, "consent", "POST", "/api/me/consent", {"allowed": allowed}, headers
        )
        answers.add("consent", user_id, status, data.get("changed"))


def _delete(http: Http, headers: dict, names: list[str], answers: Answers):
    for name in names:
        status, _ = http.send_until_served(
            answers.busy, "delete", "DELETE", f"/api/me/conversations/{name}", headers=headers
        )
        answers.add("delete", name, status)


def _ingest(http: Http, batches: list[list[dict]], answers: Answers):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for batch in batches:
        status, data = http.send_until_served(
            answers.busy, "ingest", "POST", "/api/internal/events", {"events": batch}, auth
        )
        answers.add("ingest", status, data.get("accepted"), data.get("duplicates"), len(batch))


def _purge_until(stop: threading.Event, cutoff, reports: list):
    try:
        while not stop.is_set():
            reports.append(purge_due(now=cutoff, batch_size=2))
            time.sleep(0.02)
    finally:
        connection.close()


def _event_plan(
    accounts: list[str], rng: random.Random
) -> tuple[list[list[list[dict]]], set[str], dict[str, set[str]]]:
    """message.added events for the live conversations, as three senders'
    batches: every event is sent at least twice (by two senders at once, in
    different orders and groupings), one in each batch of the second sender
    twice in the same batch, and some messages are redelivered under a new
    event id by the third. Returns the senders' batches, the distinct event
    ids, and the message ids expected per conversation."""
    start = timezone.now() - timedelta(hours=2)
    events, expected = [], defaultdict(set)
    for a, account in enumerate(accounts):
        for c in range(LIVE_CONVERSATIONS):
            conversation = f"live-{a}-{c}"
            for m in range(1, MESSAGES_PER_CONVERSATION + 1):
                message = f"{conversation}-m{m}"
                at = (start + timedelta(seconds=len(events))).isoformat()
                events.append(
                    builders.message_added(
                        at,
                        account=account,
                        conversation=conversation,
                        message=message,
                        content=f"content of {message}",
                        id=f"evt-{message}",
                    )
                )
                expected[conversation].add(message)
    redelivered = [
        {**event, "id": f"{event['id']}-again"} for event in rng.sample(events, len(events) // 6)
    ]
    in_order = [events[i : i + 6] for i in range(0, len(events), 6)]
    shuffled = rng.sample(events, len(events))
    repeated = [
        [*chunk, chunk[0]] for chunk in (shuffled[i : i + 9] for i in range(0, len(shuffled), 9))
    ]
    mixed = rng.sample(redelivered + rng.sample(events, len(events) // 2), len(redelivered) * 4)
    mixed = [mixed[i : i + 5] for i in range(0, len(mixed), 5)]
    distinct_ids = {e["id"] for e in events} | {e["id"] for e in redelivered}
    return [in_order, repeated, mixed], distinct_ids, expected


def test_consent_flips_deletions_and_duplicated_events_while_the_purge_runs(
    postgresql, live_server
):
    rng = random.Random(6)
    backlog = seed_backlog(rounds=1, due_per_round=200, rng=rng)
    cutoff = backlog.cutoffs[0]
    # The backlog's consumers whose account is not under a legal hold.
    users = list(
        User.objects.filter(account_type="consumer", conversations__isnull=False)
        .exclude(legal_holds__scope="account")
        .distinct()
        .order_by("pk")
    )
    accounts = [u.external_id for u in users]
    for a, user in enumerate(users):  # the live conversations exist before the traffic
        for c in range(LIVE_CONVERSATIONS):
            message_add(
                user=user,
                conversation_external_id=f"live-{a}-{c}",
                kind="chat",
                title="Live",
                message_external_id=f"live-{a}-{c}-m0",
                role="user",
                content="first",
                sent_at=timezone.now() - timedelta(hours=3),
            )
    senders, distinct_ids, expected_messages = _event_plan(accounts, rng)

    http = Http(live_server.url)
    answers = Answers()
    threads = []
    for user in users:
        headers = _signed_in(user)
        for _tab in range(2):
            threads.append(
                threading.Thread(
                    target=_flip,
                    args=(http, headers, user.pk, random.Random(rng.random()), answers),
                )
            )
        owned = list(user.conversations.values_list("external_id", "retain_until"))
        due_first = sorted(owned, key=lambda o: (o[1] is None or o[1] > cutoff, rng.random()))
        names = [name for name, _ in due_first[:DELETES_PER_USER]]
        names += [n for n, until in owned if until is None and not n.startswith("live-")]  # held
        names += rng.sample([n for n, _ in owned if n.startswith("live-")], 2)
        threads.append(threading.Thread(target=_delete, args=(http, headers, names, answers)))
    threads += [threading.Thread(target=_ingest, args=(http, b, answers)) for b in senders]
    stop, reports = threading.Event(), []
    purge = threading.Thread(target=_purge_until, args=(stop, cutoff, reports))

    server_errors = ServerErrors()
    logging.getLogger("django.request").addHandler(server_errors)
    started = timezone.now()
    purge.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    stop.set()
    purge.join(timeout=60)
    ended = timezone.now()
    logging.getLogger("django.request").removeHandler(server_errors)
    assert not any(t.is_alive() for t in [*threads, purge]), "traffic did not finish in time"
    assert {report.status for report in reports} == {PurgeRun.Status.SUCCEEDED}

    # No error answers. A 503 (a transient database error, nothing changed)
    # is documented as retryable: retried above, counted in answers.busy.
    statuses = {
        "consent": Counter(status for _, status, _ in answers.by_kind["consent"]),
        "delete": Counter(status for _, status in answers.by_kind["delete"]),
        "ingest": Counter(answer[0] for answer in answers.by_kind["ingest"]),
    }
    print(
        f"\nanswers by status: {statuses}; 503s retried: {dict(answers.busy)}; "
        f"purge runs: {len(reports)}"
    )
    why = "\n".join(server_errors.texts)
    assert set(statuses["consent"]) == {200}, why
    assert set(statuses["ingest"]) == {200}, why
    assert set(statuses["delete"]) <= {204, 404}, why

    # Deletions: a 404 only for a conversation the purge had just removed;
    # a 204 either stuck or the conversation was purged since.
    purged = set(DeletionReceipt.objects.values_list("conversation_external_id", flat=True))
    stored_deleted = dict(Conversation.objects.values_list("external_id", "deleted_at"))
    for name, status in answers.by_kind["delete"]:
        if status == 404:
            assert name in purged, f"{name}: 404 but not purged"
        else:
            assert name in purged or stored_deleted[name] is not None, f"{name}: 204, not deleted"

    # Ingest: each distinct event accepted once, each message stored once.
    ok = [a for a in answers.by_kind["ingest"] if a[0] == 200]
    assert sum(a[1] for a in ok) == len(distinct_ids)
    assert all(a[1] + a[2] == a[3] for a in ok)
    assert IngestedEvent.objects.filter(event_id__in=distinct_ids).count() == len(distinct_ids)
    for conversation, messages in expected_messages.items():
        stored = set(
            Message.objects.filter(conversation__external_id=conversation).values_list(
                "external_id", flat=True
            )
        )
        assert stored == messages | {f"{conversation}-m0"}, conversation

    # The consent ledger: one entry per change answered, in order, ending at
    # the consent in force.
    changed = Counter(user_id for user_id, status, was in answers.by_kind["consent"] if was)
    for user in users:
        ledger = list(
            ConsentChange.objects.filter(user=user, recorded_at__gte=started).order_by("id")
        )
        assert len(ledger) == changed[user.pk], user
        full = list(ConsentChange.objects.filter(user=user).order_by("id"))
        times = [entry.effective_at for entry in full]
        assert times == sorted(set(times)), f"ledger of {user} out of order: {times}"
        values = [entry.allowed for entry in full]
        assert all(a != b for a, b in itertools.pairwise(values)), f"{user}: a no-op change"
        if full:
            assert full[-1].allowed == consent_allowed(user_id=user.pk)

    # The purge ran during the traffic, and left everything consistent.
    during = DeletionReceipt.objects.filter(purged_at__gte=started, purged_at__lte=ended)
    assert during.exists()
    purge_due(now=cutoff)
    for conversation, messages in expected_messages.items():
        backlog.conversations[conversation] = Expected(None, len(messages) + 1)
    assert_consistent(backlog, cutoff=cutoff, complete=True)


def test_a_consent_change_that_waited_for_another_tab_is_recorded_after_it(postgresql):
    """The race the traffic above exposed, made exact: another tab's change
    holds the account's lock and commits while this one waits for it."""
    user = UserFactory()
    result: dict = {}

    def this_tab():
        try:
            result["change"] = consent_record(
                article_version="v-test", user=user, allowed=True, source="dashboard"
            )
        finally:
            connection.close()

    with other_connection(autocommit=False) as other_tab, other_connection() as watcher:
        other_tab.execute(
            sql.SQL("SELECT id FROM {} WHERE id = %s FOR UPDATE").format(
                sql.Identifier(User._meta.db_table)
            ),
            [user.pk],
        )
        waiting = threading.Thread(target=this_tab)
        waiting.start()
        deadline = time.monotonic() + 30
        while not watcher.execute(
            "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s",
            [connection.settings_dict["NAME"]],
        ).fetchone():
            assert time.monotonic() < deadline, "this tab never waited for the other's lock"
            time.sleep(0.01)
        other_tab.execute(
            sql.SQL(
                "INSERT INTO {} (user_id, allowed, effective_at, recorded_at, source, "
                "article_version) VALUES (%s, true, clock_timestamp(), clock_timestamp(), "
                "'dashboard', %s)"
            ).format(sql.Identifier(ConsentChange._meta.db_table)),
            [user.pk, current_article_version()],
        )
        other_tab.commit()
    waiting.join(timeout=30)

    assert result["change"] is None  # the other tab had already allowed it
    ledger = list(ConsentChange.objects.filter(user=user).order_by("id"))
    assert [entry.allowed for entry in ledger] == [True]
    assert consent_allowed(user_id=user.pk)


def test_a_deletion_commits_while_an_ingest_batch_holds_the_same_account(postgresql, monkeypatch):
    """The deadlock the traffic above exposed (a DELETE answered 500), made
    exact. A deletion updates its conversation twice (deleted_at, then the
    deadlines), and PostgreSQL checks the row's foreign key to the account at
    the commit when a row is updated again in the transaction that last
    wrote it: a KEY SHARE lock on the account row. An ingest batch locks the
    accounts it writes; with FOR UPDATE that check waited for the batch while
    the batch waited for the deleted conversation. The account lock is FOR
    NO KEY UPDATE, which serialises writers just the same but never blocks a
    foreign-key check: the deletion commits while the batch holds the lock."""
    user = UserFactory()
    message_add(
        user=user,
        conversation_external_id="to-delete",
        kind="chat",
        title="To delete",
        message_external_id="to-delete-m1",
        role="user",
        content="first",
        sent_at=timezone.now() - timedelta(hours=1),
    )
    holding, release = threading.Event(), threading.Event()
    real_load = ingest_batch._load

    def load_then_hold(events):
        loaded = real_load(events)  # the account row is locked from here
        holding.set()
        release.wait(timeout=60)
        return loaded

    monkeypatch.setattr(ingest_batch, "_load", load_then_hold)
    outcome: dict = {}

    def ingest():
        try:
            event = builders.message_added(
                timezone.now().isoformat(), account=user.external_id, conversation="new-one"
            )
            outcome["ingest"] = events_ingest(events=[event])
        finally:
            connection.close()

    def delete():
        try:
            outcome["deleted"] = conversations_delete_by_id(user=user, external_ids=["to-delete"])
        finally:
            connection.close()

    ingesting = threading.Thread(target=ingest)
    deleting = threading.Thread(target=delete)
    ingesting.start()
    try:
        assert holding.wait(timeout=30), "the ingest batch never took its locks"
        deleting.start()
        with other_connection() as watcher:
            deadline = time.monotonic() + 30
            while deleting.is_alive():
                waiting = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = %s",
                    [connection.settings_dict["NAME"]],
                ).fetchone()[0]
                assert not waiting, "the deletion waited for the account the ingest batch holds"
                assert time.monotonic() < deadline, "the deletion did not finish"
                time.sleep(0.01)
    finally:
        release.set()
        ingesting.join(timeout=30)
        if deleting.ident is not None:
            deleting.join(timeout=30)

    assert outcome["deleted"] == 1
    assert Conversation.objects.get(external_id="to-delete").deleted_at is not None
    assert outcome["ingest"].accepted == 1
    assert Message.objects.filter(conversation__external_id="new-one").count() == 1
