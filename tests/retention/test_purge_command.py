"""The thin entry points of the purge: enforce_retention (command and Celery
task), purge_batch (fan-out task) and the default schedule."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from retention import tasks
from retention.models import Conversation, DeletionReceipt, PurgeRun
from tests.factories import UserFactory


@pytest.fixture
def due(db, add_message):
    user = UserFactory()
    at = timezone.now() - timedelta(days=60)
    for i in range(3):
        add_message(user, at + timedelta(seconds=i), conversation=f"c{i}")
    return at + timedelta(days=30, seconds=2)  # the last of them is due from here


def _run(*args) -> str:
    out = io.StringIO()
    call_command("enforce_retention", *args, stdout=out)
    return out.getvalue()


def test_command_purges_and_prints_a_summary(due):
    out = _run()
    assert "Purged at" in out and "3 conversations (3 messages)" in out
    assert "not_shared 3" in out
    assert not Conversation.objects.exists()


def test_command_dry_run_counts_and_deletes_nothing(due):
    out = _run("--dry-run", "--now", (due - timedelta(seconds=1)).isoformat())
    assert "would purge 2 conversations" in out and "Nothing was deleted" in out
    assert Conversation.objects.count() == 3


def test_command_now_back_fills_at_an_earlier_cutoff(due):
    _run("--now", (due - timedelta(seconds=1)).isoformat())
    assert list(Conversation.objects.values_list("external_id", flat=True)) == ["c2"]


def test_command_now_without_offset_is_utc(due):
    naive = (due - timedelta(seconds=1)).replace(tzinfo=None).isoformat()
    _run("--now", naive)
    assert Conversation.objects.count() == 1


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "12:00 tomorrow"])
def test_command_rejects_a_bad_now_in_one_line(db, value):
    with pytest.raises(CommandError, match="is not an ISO 8601 date-time") as info:
        _run("--now", value)
    assert "\n" not in str(info.value)


def test_command_refuses_to_purge_in_the_future(due):
    with pytest.raises(CommandError, match="refusing to purge"):
        _run("--now", (timezone.now() + timedelta(days=1)).isoformat())
    assert Conversation.objects.count() == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_command_that_loses_the_database_exits_with_one_line(due, monkeypatch):
    from django.db import OperationalError

    from retention.purge import core

    def lost(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command\nmore")

    monkeypatch.setattr(core, "_add_statistics", lost)
    with pytest.raises(CommandError) as info:
        _run()
    message = str(info.value)
    assert "\n" not in message
    assert "OperationalError: terminating connection" in message and "run it again" in message
    assert Conversation.objects.count() == 3  # the batch rolled back whole
    assert PurgeRun.objects.get().status == PurgeRun.Status.FAILED


def test_command_shows_no_progress_bar_off_a_terminal(due):
    out = _run()
    assert "purging" not in out and "it/s" not in out


def test_command_shows_a_progress_bar_on_a_terminal(due, monkeypatch, capsys):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    call_command("enforce_retention", "--batch-size", "1", stdout=out)
    assert "purging" in capsys.readouterr().err  # tqdm draws on stderr
    assert "3 conversations" in out.getvalue()


def test_task_returns_a_json_summary(due):
    import json

    result = tasks.enforce_retention.delay().get()
    assert json.loads(json.dumps(result)) == result
    assert result["conversations"] == 3 and result["status"] == "succeeded"


def test_tasks_are_json_only_late_acked_and_time_limited():
    for task in (tasks.enforce_retention, tasks.purge_batch):
        assert task.acks_late and task.reject_on_worker_lost
        assert task.serializer == "json"
        assert 0 < task.soft_time_limit < task.time_limit


def test_large_backlog_fans_out_batch_tasks_after_commit(due, settings, monkeypatch):
    settings.RETENTION_FANOUT_BATCHES = 1
    sent = []
    monkeypatch.setattr(tasks.purge_batch, "delay_on_commit", lambda **kwargs: sent.append(kwargs))
    result = tasks.enforce_retention(batch_size=1, fan_out=2)
    assert len(sent) == 2 and sent[0]["batch_size"] == 1
    assert result["conversations"] == 3


def test_purge_batch_task_purges_a_share_at_the_given_cutoff(due):
    result = tasks.purge_batch(cutoff=due.isoformat(), batch_size=1, max_batches=2)
    assert result["conversations"] == 2 and result["batches"] == 2
    assert DeletionReceipt.objects.count() == 2
    assert PurgeRun.objects.get(pk=result["run_id"]).status == PurgeRun.Status.SUCCEEDED


def test_enqueueing_waits_for_the_commit(due, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        tasks.enforce_retention.delay_on_commit()
        assert Conversation.objects.count() == 3  # not run inside the transaction
    assert len(callbacks) == 1


def test_the_default_schedule_runs_every_15_minutes(db):
    task = PeriodicTask.objects.get(task="retention.tasks.enforce_retention")
    assert task.enabled and (task.interval.every, task.interval.period) == (15, "minutes")


def test_the_schedule_migration_is_idempotent(db):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("retention.migrations.0004_purge_schedule")
    migration.create_schedule(apps, None)
    migration.create_schedule(apps, None)
    assert PeriodicTask.objects.filter(task="retention.tasks.enforce_retention").count() == 1
