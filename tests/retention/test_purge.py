"""The purge job (retention.purge): what goes, what stays, when, and proof."""

import ast
import itertools
import os
import signal
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections
from django.utils import timezone

from accounts.services import consent_record
from retention.models import (
    Conversation,
    DeletionReceipt,
    Feedback,
    Flag,
    Message,
    PurgeLock,
    PurgeRun,
    PurgeStatistic,
    Rule,
)
from retention.policy import add_days, add_years
from retention.purge import (
    PurgeInFuture,
    deletion_health,
    purge_batch,
    purge_due,
    verify_receipt_chain,
)
from retention.purge import core as purge_core
from retention.purge.locks import LEASE_NAME
from retention.services.conversations import (
    conversation_flag,
    conversations_delete,
    feedback_submit,
)
from retention.services.holds import legal_hold_place, legal_hold_release
from tests.factories import CommercialUserFactory, StaffFactory, UserFactory

SECOND = timedelta(seconds=1)
postgres_only = pytest.mark.skipif(
    "postgresql" not in connection.settings_dict["ENGINE"], reason="needs PostgreSQL"
)


@pytest.fixture
def base():
    """A moment far enough back that even the 7-year deadlines are past."""
    return (timezone.now() - timedelta(days=365 * 9)).replace(microsecond=0)


def _conversation(user, add_message, at, name, **kwargs) -> Conversation:
    add_message(user, at, conversation=name, **kwargs)
    add_message(user, at - timedelta(minutes=5), conversation=name, **kwargs)
    return Conversation.objects.get(external_id=name)


def _exists(name: str) -> bool:
    return Conversation.objects.filter(external_id=name).exists()


def _boundary_case(kind, user, add_message, base):
    """Builds one item of `kind`; returns (its deadline, a function telling
    whether it still exists)."""
    if kind == "not_shared":
        conversation = _conversation(user, add_message, base, "c")
        return base + timedelta(days=30), lambda: _exists("c")
    if kind == "shared_training":
        consent_record(
            article_version="v-test",
            user=user,
            allowed=True,
            source="dashboard",
            effective_at=base - SECOND,
        )
        _conversation(user, add_message, base, "c")
        return add_years(base, 5), lambda: _exists("c")
    if kind == "deleted":
        consent_record(
            article_version="v-test",
            user=user,
            allowed=True,
            source="dashboard",
            effective_at=base - SECOND,
        )
        conversation = _conversation(user, add_message, base, "c")
        deleted_at = base + timedelta(days=3)
        conversations_delete(
            user=user,
            conversations=Conversation.objects.filter(pk=conversation.pk),
            deleted_at=deleted_at,
        )
        return deleted_at + timedelta(days=30), lambda: _exists("c")
    if kind == "flagged_content":
        conversation = _conversation(user, add_message, base, "c")
        conversation_flag(conversation=conversation, flagged_at=base + SECOND, scores={"x": 0.9})
        return add_years(base + SECOND, 2), lambda: _exists("c")
    if kind == "flagged_scores":
        conversation = _conversation(user, add_message, base, "c")
        conversation_flag(conversation=conversation, flagged_at=base + SECOND, scores={"x": 0.9})
        purge_due(now=add_years(base + SECOND, 2))  # the content goes first
        assert not _exists("c")
        return add_years(base + SECOND, 7), lambda: Flag.objects.exists()
    if kind == "feedback":
        feedback_submit(
            user=user,
            external_id="f1",
            kind="thumbs_up",
            comment="",
            excerpt="hi",
            submitted_at=base,
        )
        return add_years(base, 5), lambda: Feedback.objects.exists()
    raise AssertionError(kind)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind",
    ["not_shared", "shared_training", "deleted", "flagged_content", "flagged_scores", "feedback"],
)
def test_each_item_stays_until_its_deadline_and_goes_just_after(kind, consumer, add_message, base):
    deadline, still_there = _boundary_case(kind, consumer, add_message, base)

    purge_due(now=deadline - SECOND)
    assert still_there(), "purged one second early"

    purge_due(now=deadline + SECOND)
    assert not still_there(), "still stored one second after its deadline"


@pytest.mark.django_db
def test_stored_deadlines_match_the_rules(consumer, add_message, base):
    conversation = _conversation(consumer, add_message, base, "c")
    assert conversation.rule == Rule.NOT_SHARED
    assert conversation.retain_until == add_days(base, 30)


@pytest.mark.django_db
def test_messages_go_with_their_conversation_and_nothing_else_does(consumer, add_message, base):
    _conversation(consumer, add_message, base, "old")
    _conversation(consumer, add_message, timezone.now() - timedelta(days=1), "recent")

    report = purge_due()

    assert report.conversations == 1 and report.messages == 2
    assert not Message.objects.filter(conversation__external_id="old").exists()
    assert Message.objects.filter(conversation__external_id="recent").count() == 2


@pytest.mark.django_db
def test_account_hold_keeps_everything_and_release_purges_at_next_run(consumer, add_message, base):
    _conversation(consumer, add_message, base, "c")
    conversation_flag(
        conversation=Conversation.objects.get(external_id="c"), flagged_at=base, scores={"x": 1}
    )
    feedback_submit(
        user=consumer,
        external_id="f1",
        kind="bug_report",
        comment="",
        excerpt="",
        submitted_at=base,
    )
    hold = legal_hold_place(user=consumer, reason="litigation", placed_by=StaffFactory())

    report = purge_due()
    assert (report.conversations, report.scores, report.feedback) == (0, 0, 0)
    assert _exists("c") and Flag.objects.exists() and Feedback.objects.exists()

    legal_hold_release(hold=hold, released_by=None)
    report = purge_due()
    assert (report.conversations, report.scores, report.feedback) == (1, 1, 1)
    assert not _exists("c") and not Flag.objects.exists() and not Feedback.objects.exists()
    receipt = DeletionReceipt.objects.get()
    assert receipt.rule == Rule.FLAGGED  # the rule that applied once the hold was gone


@pytest.mark.django_db
def test_conversation_hold_keeps_only_that_conversation(consumer, add_message, base):
    held = _conversation(consumer, add_message, base, "held")
    _conversation(consumer, add_message, base, "free")
    legal_hold_place(user=consumer, reason="subpoena", placed_by=None, conversation=held)

    purge_due()

    assert _exists("held") and not _exists("free")


@pytest.mark.django_db
def test_commercial_accounts_are_never_purged(add_message, base):
    customer = CommercialUserFactory()
    _conversation(customer, add_message, base - timedelta(days=3000), "c")
    feedback_submit(
        user=customer, external_id="f1", kind="thumbs_up", comment="", excerpt="", submitted_at=base
    )

    report = purge_due()

    assert report.conversations == report.feedback == 0
    assert _exists("c") and Feedback.objects.exists()


@pytest.mark.django_db
def test_a_stale_deadline_never_purges_held_or_commercial_data(consumer, add_message, base):
    held = _conversation(consumer, add_message, base, "held")
    legal_hold_place(user=consumer, reason="litigation", placed_by=None, conversation=held)
    customer = CommercialUserFactory()
    _conversation(customer, add_message, base, "commercial")
    # A bug elsewhere left due-looking deadlines on both: the claim must still refuse.
    Conversation.objects.update(retain_until=base, rule=Rule.NOT_SHARED)

    report = purge_due()

    assert report.conversations == 0
    assert _exists("held") and _exists("commercial")


@pytest.mark.django_db
def test_flagged_then_deleted_keeps_content_two_years_and_scores_seven(consumer, add_message, base):
    conversation = _conversation(consumer, add_message, base, "c")
    conversation_flag(conversation=conversation, flagged_at=base, scores={"violence": 0.97})
    conversations_delete(
        user=consumer,
        conversations=Conversation.objects.filter(pk=conversation.pk),
        deleted_at=base + timedelta(days=1),
    )

    purge_due(now=base + timedelta(days=40))  # the 30 days of a deletion are long past
    assert _exists("c"), "flagged content must outlive the deletion"

    purge_due(now=add_years(base, 2) + SECOND)
    assert not _exists("c")
    flag = Flag.objects.get()
    assert flag.conversation_id is None and flag.scores == {"violence": 0.97}

    purge_due(now=add_years(base, 7) - SECOND)
    assert Flag.objects.exists()
    purge_due(now=add_years(base, 7) + SECOND)
    assert not Flag.objects.exists()


@pytest.mark.django_db
def test_receipts_prove_each_purge_without_content(add_message, base):
    users = [UserFactory(plan="pro"), UserFactory(plan="free")]
    for i in range(5):
        _conversation(
            users[i % 2],
            add_message,
            base + i * SECOND,
            f"c{i}",
            title="Secret title",
            content="secret",
        )

    report = purge_due(batch_size=2)

    assert report.conversations == 5 and report.batches == 3
    receipts = list(DeletionReceipt.objects.order_by("sequence"))
    assert [r.sequence for r in receipts] == [1, 2, 3, 4, 5]
    assert sorted(r.conversation_external_id for r in receipts) == [f"c{i}" for i in range(5)]
    assert all(r.messages_removed == 2 and r.rule == Rule.NOT_SHARED for r in receipts)
    assert receipts[0].previous_hash == "0" * 64
    assert all(b.previous_hash == a.receipt_hash for a, b in itertools.pairwise(receipts))
    stored = " ".join(str(v) for r in DeletionReceipt.objects.values() for v in r.values())
    assert "secret" not in stored.lower()
    assert verify_receipt_chain() == (5, None)
    stats = {
        (s.plan, s.rule, s.kind): (s.conversations, s.messages)
        for s in PurgeStatistic.objects.all()
    }
    assert stats == {("pro", "not_shared", "chat"): (3, 6), ("free", "not_shared", "chat"): (2, 4)}


@pytest.mark.django_db
def test_dry_run_counts_per_rule_and_deletes_nothing(consumer, add_message, base):
    consent_record(
        article_version="v-test",
        user=consumer,
        allowed=True,
        source="dashboard",
        effective_at=base - timedelta(days=3000),
    )
    _conversation(consumer, add_message, base - timedelta(days=2000), "shared")
    conversation_flag(
        conversation=_conversation(consumer, add_message, base, "flagged"),
        flagged_at=base,
        scores={"x": 1},
    )
    consent_record(
        article_version="v-test",
        user=consumer,
        allowed=False,
        source="dashboard",
        effective_at=base + SECOND,
    )
    _conversation(consumer, add_message, base + timedelta(days=1), "plain")

    report = purge_due(dry_run=True)

    assert report.dry_run and report.status == PurgeRun.Status.DRY_RUN
    assert report.conversations_by_rule == {"shared_training": 1, "flagged": 1, "not_shared": 1}
    assert report.messages == 6
    assert Conversation.objects.count() == 3 and not DeletionReceipt.objects.exists()


@pytest.mark.django_db
def test_a_cutoff_later_than_the_clock_is_refused_but_can_be_simulated(consumer, add_message):
    _conversation(consumer, add_message, timezone.now() - timedelta(days=1), "c")
    future = timezone.now() + timedelta(days=60)

    with pytest.raises(PurgeInFuture):
        purge_due(now=future)
    assert purge_due(now=future, dry_run=True).conversations == 1
    assert _exists("c")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_batch_failing_halfway_leaves_nothing_half_purged_and_the_next_run_finishes(
    monkeypatch, add_message, base
):
    user = UserFactory()
    for i in range(5):
        _conversation(user, add_message, base + i * SECOND, f"c{i}")
    real = purge_core._add_statistics
    calls = {"n": 0}

    def fail_second_batch(rows, **kwargs):
        calls["n"] += 1
        real(rows, **kwargs)  # the batch has already deleted and written receipts
        if calls["n"] == 2:
            raise RuntimeError("worker lost mid-batch")

    monkeypatch.setattr(purge_core, "_add_statistics", fail_second_batch)
    with pytest.raises(RuntimeError):
        purge_due(batch_size=2)

    # First batch committed whole; the failing one rolled back whole.
    assert Conversation.objects.count() == 3
    for conversation in Conversation.objects.all():
        assert conversation.messages.count() == 2
    assert DeletionReceipt.objects.count() == 2
    assert PurgeRun.objects.get(status=PurgeRun.Status.FAILED).conversations_purged == 2

    monkeypatch.setattr(purge_core, "_add_statistics", real)
    report = purge_due(batch_size=2)
    assert report.conversations == 3
    assert not Conversation.objects.exists() and not Message.objects.exists()
    assert sorted(DeletionReceipt.objects.values_list("conversation_external_id", flat=True)) == [
        f"c{i}" for i in range(5)
    ]
    assert verify_receipt_chain() == (5, None)


def test_a_run_left_running_by_a_dead_process_is_closed_by_the_next_run(db, settings):
    """kill -9 leaves a run "running"; the next run marks it failed once it is
    older than Celery's hard time limit (a fan-out slice younger than that may
    be alive: it stays running)."""
    now = timezone.now()
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    dead = PurgeRun.objects.create(cutoff=now, started_at=now - limit - SECOND)
    alive = PurgeRun.objects.create(cutoff=now, started_at=now - limit + 60 * SECOND)

    purge_due(dry_run=True)  # a dry run closes nothing and never says "running"
    dead.refresh_from_db()
    assert dead.status == PurgeRun.Status.RUNNING
    assert not PurgeRun.objects.filter(status=PurgeRun.Status.DRY_RUN, finished_at=None).exists()

    report = purge_due()
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == PurgeRun.Status.FAILED
    assert dead.finished_at is not None and dead.error.startswith("interrupted")
    assert alive.status == PurgeRun.Status.RUNNING
    assert PurgeRun.objects.get(pk=report.run_id).status == PurgeRun.Status.SUCCEEDED


def _hold_run_lock_elsewhere():
    """Take the run lock as another process would; returns a release function."""
    PurgeLock.objects.update_or_create(
        name=LEASE_NAME,
        defaults={
            "holder": "another-process",
            "locked_until": timezone.now() + timedelta(minutes=5),
        },
    )
    return lambda: PurgeLock.objects.filter(name=LEASE_NAME).delete()


@pytest.mark.django_db
def test_an_overlapping_run_ends_at_once_successfully_saying_so(consumer, add_message, base):
    _conversation(consumer, add_message, base, "c")
    release = _hold_run_lock_elsewhere()
    try:
        report = purge_due()
    finally:
        release()

    assert report.skipped_because_locked and report.status == PurgeRun.Status.SKIPPED
    assert PurgeRun.objects.get(pk=report.run_id).status == PurgeRun.Status.SKIPPED
    assert _exists("c")
    assert purge_due().conversations == 1  # lock released: the next run works


@pytest.mark.django_db
def test_a_dry_run_takes_no_run_lock(consumer, add_message, base):
    _conversation(consumer, add_message, base, "c")
    release = _hold_run_lock_elsewhere()
    try:
        report = purge_due(dry_run=True)
    finally:
        release()

    assert report.status == PurgeRun.Status.DRY_RUN and not report.skipped_because_locked
    assert report.conversations == 1 and _exists("c")


@pytest.mark.django_db
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_naive_cutoff_or_an_empty_batch_is_refused_before_anything_runs(dry_run):
    with pytest.raises(ValueError, match="timezone-aware"):
        purge_due(now=timezone.now().replace(tzinfo=None), dry_run=dry_run)
    with pytest.raises(ValueError, match="batch_size"):
        purge_due(batch_size=0, dry_run=dry_run)
    assert not PurgeRun.objects.exists()


@pytest.mark.django_db
def test_an_expired_lease_of_a_crashed_run_does_not_block_the_schedule(consumer, add_message, base):
    _conversation(consumer, add_message, base, "c")
    PurgeLock.objects.create(
        name=LEASE_NAME, holder="crashed", locked_until=timezone.now() - SECOND
    )

    assert purge_due().conversations == 1


@pytest.mark.django_db
def test_deletion_health_reports_delay_and_overdue_and_logs_an_error(
    consumer, add_message, base, caplog
):
    _conversation(consumer, add_message, base, "c")
    health = deletion_health()
    assert health.overdue_now == 1 and health.overdue_beyond_interval == 1
    assert health.interval == timedelta(minutes=15)
    assert "periodic task" in health.interval_source
    assert not health.healthy

    purge_due()

    health = deletion_health()
    assert health.overdue_now == 0 and health.healthy
    expected_delay = timezone.now() - (base + timedelta(days=30))
    assert abs(health.max_delay - expected_delay) < timedelta(minutes=1)

    _conversation(consumer, add_message, base, "late")
    with caplog.at_level("ERROR", logger="retention.purge.health"):
        purge_due(now=base + timedelta(days=29))  # a cutoff that misses it
    assert any("overdue by more than the schedule interval" in r.message for r in caplog.records)


@pytest.mark.django_db
def test_health_reads_the_interval_admins_set(consumer):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    task = PeriodicTask.objects.get(task="retention.tasks.enforce_retention")
    task.interval = IntervalSchedule.objects.create(every=2, period="hours")
    task.save()

    assert deletion_health().interval == timedelta(hours=2)


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_batch_workers_on_one_backlog_split_it_without_waiting(monkeypatch, add_message, base):
    user = UserFactory()
    for i in range(8):
        _conversation(user, add_message, base + i * SECOND, f"c{i}")
    cutoff = timezone.now()
    first_has_claimed, second_done = threading.Event(), threading.Event()
    real_delete = purge_core._delete_content
    results: dict[str, list] = {}

    def slow_first_worker(ids):
        removed = real_delete(ids)
        if threading.current_thread().name == "first":
            first_has_claimed.set()
            assert second_done.wait(30), "the second worker waited on the first's rows"
        return removed

    monkeypatch.setattr(purge_core, "_delete_content", slow_first_worker)

    def worker(name):
        try:
            if name == "second":
                assert first_has_claimed.wait(30)
            got = []
            while (batch := purge_batch(cutoff=cutoff, batch_size=3)).conversations:
                got += batch.external_ids
                if name == "second":
                    break
            results[name] = got
        finally:
            if name == "second":
                second_done.set()
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,), name=n) for n in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert len(results["second"]) == 3 and len(results["first"]) == 5
    assert not set(results["first"]) & set(results["second"])
    assert not Conversation.objects.exists()
    ids = list(DeletionReceipt.objects.values_list("conversation_external_id", flat=True))
    assert sorted(ids) == [f"c{i}" for i in range(8)]
    assert verify_receipt_chain() == (8, None)


def _backlog_with_what_must_stay(add_message, base, due: int) -> set[str]:
    """`due` due conversations over two accounts, plus a held, a commercial
    and a recent one; returns the names that must stay."""
    users = [UserFactory(), UserFactory()]
    for i in range(due):
        _conversation(users[i % 2], add_message, base + i * SECOND, f"due{i}")
    held = UserFactory()
    _conversation(held, add_message, base, "held")
    legal_hold_place(user=held, reason="litigation", placed_by=StaffFactory())
    _conversation(CommercialUserFactory(), add_message, base, "commercial")
    _conversation(users[0], add_message, timezone.now() - timedelta(days=1), "recent")
    return {"held", "commercial", "recent"}


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_on_several_connections_purges_each_due_item_exactly_once(
    monkeypatch, add_message, base
):
    stays = _backlog_with_what_must_stay(add_message, base, due=40)
    both_hold_a_batch = threading.Barrier(2, timeout=30)
    threads_that_deleted: set[str] = set()
    real_delete = purge_core._delete_content

    def delete_side_by_side(ids):
        removed = real_delete(ids)
        name = threading.current_thread().name
        if name not in threads_that_deleted:
            threads_that_deleted.add(name)
            both_hold_a_batch.wait()  # two batches in flight at once, disjoint
        return removed

    monkeypatch.setattr(purge_core, "_delete_content", delete_side_by_side)
    report = purge_due(batch_size=3, connections=2)

    assert len(threads_that_deleted) == 2
    assert report.status == PurgeRun.Status.SUCCEEDED and report.conversations == 40
    assert set(Conversation.objects.values_list("external_id", flat=True)) == stays
    assert Message.objects.count() == 2 * len(stays)
    purged = list(DeletionReceipt.objects.values_list("conversation_external_id", flat=True))
    assert sorted(purged) == sorted(f"due{i}" for i in range(40))  # each exactly once
    assert verify_receipt_chain() == (40, None)
    assert PurgeRun.objects.get(pk=report.run_id).batches == report.batches >= 14


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failure_on_one_connection_fails_the_run_and_the_next_run_finishes(
    monkeypatch, add_message, base
):
    stays = _backlog_with_what_must_stay(add_message, base, due=12)
    real = purge_core._add_statistics
    calls = {"n": 0}

    def fail_third_batch(rows, **kwargs):
        calls["n"] += 1
        real(rows, **kwargs)  # deleted and receipted already: must all roll back
        if calls["n"] == 3:
            raise RuntimeError("connection lost mid-batch")

    monkeypatch.setattr(purge_core, "_add_statistics", fail_third_batch)
    with pytest.raises(RuntimeError, match="connection lost"):
        purge_due(batch_size=2, connections=2)

    gone = 12 - Conversation.objects.filter(external_id__startswith="due").count()
    for conversation in Conversation.objects.all():
        assert conversation.messages.count() == 2  # nothing half-purged
    assert DeletionReceipt.objects.count() == gone
    assert verify_receipt_chain() == (gone, None)
    failed = PurgeRun.objects.get(status=PurgeRun.Status.FAILED)
    assert failed.conversations_purged == gone and "connection lost" in failed.error

    monkeypatch.setattr(purge_core, "_add_statistics", real)
    assert purge_due(batch_size=2, connections=2).conversations == 12 - gone
    assert set(Conversation.objects.values_list("external_id", flat=True)) == stays
    assert verify_receipt_chain() == (12, None)


@pytest.mark.skipif(
    "sqlite" not in connection.settings_dict["ENGINE"], reason="SQLite's single writer"
)
def test_sqlite_purges_on_one_connection_whatever_is_asked(consumer, add_message, base):
    _conversation(consumer, add_message, base, "c")
    assert purge_due(connections=4).conversations == 1
    assert not _exists("c")


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_soft_time_limit_during_a_parallel_run_fails_it_after_the_batches_in_hand(
    monkeypatch, add_message, base
):
    """Celery's soft time limit is a signal whose handler raises in the main
    thread, here while it waits for the batch threads."""
    from celery.exceptions import SoftTimeLimitExceeded

    stays = _backlog_with_what_must_stay(add_message, base, due=20)

    def soft_time_limit(signum, frame):
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGUSR1, soft_time_limit)
    main = threading.main_thread().ident
    fired = threading.Event()
    real_delete = purge_core._delete_content

    def delete_then_time_out(ids):
        removed = real_delete(ids)
        if not fired.is_set():
            fired.set()
            signal.pthread_kill(main, signal.SIGUSR1)
        return removed

    monkeypatch.setattr(purge_core, "_delete_content", delete_then_time_out)
    try:
        with pytest.raises(SoftTimeLimitExceeded):
            purge_due(batch_size=2, connections=2)
    finally:
        signal.signal(signal.SIGUSR1, previous)

    gone = 20 - Conversation.objects.filter(external_id__startswith="due").count()
    assert 0 < gone < 20  # the batches in hand finished; the run stopped there
    for conversation in Conversation.objects.all():
        assert conversation.messages.count() == 2
    assert verify_receipt_chain() == (gone, None)
    failed = PurgeRun.objects.get(status=PurgeRun.Status.FAILED)
    assert failed.conversations_purged == gone and "SoftTimeLimitExceeded" in failed.error

    monkeypatch.setattr(purge_core, "_delete_content", real_delete)
    assert purge_due(batch_size=2, connections=2).conversations == 20 - gone
    assert set(Conversation.objects.values_list("external_id", flat=True)) == stays
    assert verify_receipt_chain() == (20, None)


def test_the_purge_modules_import_at_module_level_and_health_never_imports_core():
    """Dependencies point one way (core -> health -> sql): an import inside a
    function is a cycle or a dependency pointing the wrong way. The one lazy
    import left is psycopg, needed on PostgreSQL only."""
    package = Path(purge_core.__file__).parent
    lazy, health_imports = [], set()
    for module in sorted(package.glob("*.py")):
        tree = ast.parse(module.read_text())
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                lazy += [
                    (module.name, function.name, ast.unparse(node))
                    for node in ast.walk(function)
                    if isinstance(node, ast.Import | ast.ImportFrom)
                ]
        if module.name == "health.py":
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    health_imports |= {f"{node.module}.{alias.name}" for alias in node.names}
                elif isinstance(node, ast.Import):
                    health_imports |= {alias.name for alias in node.names}
    assert lazy == [("sql.py", "array_cursor", "import psycopg")]
    assert not {name for name in health_imports if "core" in name.split(".")}


def _behind_a_pooler() -> bool:
    """Connected through PgBouncer (or another proxy): the server's own port
    differs from the one the settings name."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT inet_server_port()")
        server_port = cursor.fetchone()[0]
    return server_port != int(connection.settings_dict["PORT"] or 5432)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_purge_runs_through_pgbouncer_in_a_row_both_purge(add_message, base):
    """Through a transaction-mode pooler each transaction may run on another
    server session. The session-level advisory lock of the first run stayed
    held by a pooled server connection, so every later run was skipped for
    good; the lease row holds and releases within transactions. Each run is a
    task of its own (its own thread, hence its own client connection), on two
    batch connections as production runs."""
    if not _behind_a_pooler():
        if os.environ.get("PORTAL_BEHIND_PGBOUNCER") == "1":
            pytest.fail("PORTAL_BEHIND_PGBOUNCER=1 but the database is not behind a pooler")
        pytest.skip("needs DATABASE_URL through PgBouncer in transaction mode (.ci/run)")
    assert connection.settings_dict["OPTIONS"].get("prepare_threshold", 0) is None
    user = UserFactory()
    reports = []

    def run_as_a_task():
        try:
            reports.append(purge_due(batch_size=2, connections=2))
        finally:
            connection.close()

    for round_ in range(3):
        for i in range(7):  # more than 5 batches: prepared statements would break
            _conversation(user, add_message, base + i * SECOND, f"r{round_}-c{i}")
        task = threading.Thread(target=run_as_a_task)
        task.start()
        task.join(120)
        assert reports[-1].status == PurgeRun.Status.SUCCEEDED, reports[-1]
        assert reports[-1].conversations == 7
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert cursor.fetchone()[0] == 0
    assert not PurgeLock.objects.exclude(holder="").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["expired, never released", "held past the time limit"])
def test_a_run_lock_held_past_a_runs_time_limit_makes_health_unhealthy(how, settings):
    now = timezone.now()
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    if how == "expired, never released":  # the holder died; nobody claimed it since
        lease = {"acquired_at": now - 20 * 60 * SECOND, "locked_until": now - SECOND}
    else:  # renewed all along by a run that never ends
        lease = {"acquired_at": now - limit - SECOND, "locked_until": now + 60 * SECOND}
    PurgeLock.objects.create(name=LEASE_NAME, holder="a-run", **lease)

    health = deletion_health()

    assert not health.healthy and health.stale_lock is not None
    assert any("purge run lock is" in problem for problem in health.problems)
    PurgeLock.objects.filter(name=LEASE_NAME).update(
        acquired_at=now, locked_until=now + 60 * SECOND
    )
    assert deletion_health().healthy  # a live run's lease is no problem
