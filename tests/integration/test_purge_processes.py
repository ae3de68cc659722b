"""The purge across processes: two overlapping runs, and a real Celery worker
taking the task from Redis."""

import subprocess
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from retention.models import Conversation, DeletionReceipt, PurgeRun
from retention.purge import verify_receipt_chain
from retention.services.conversations import message_add
from tests.factories import UserFactory
from tests.integration.conftest import ROOT

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _seed_due(count: int) -> None:
    users = [UserFactory() for _ in range(4)]
    at = timezone.now() - timedelta(days=90)
    for i in range(count):
        for m in range(2):
            message_add(
                user=users[i % 4],
                conversation_external_id=f"c{i}",
                kind="chat",
                title="t",
                message_external_id=f"c{i}-m{m}",
                role="user",
                content="x",
                sent_at=at + timedelta(seconds=i, milliseconds=m),
            )


def test_two_runs_started_at_once_both_succeed_and_purge_each_item_once(subprocess_env, python):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite is one writer at a time by design)")
    due = 60
    _seed_due(due)
    command = [python, "manage.py", "enforce_retention", "--batch-size", "4"]
    runs = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env=subprocess_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    for out, _err in outputs:
        assert out.startswith(("Purged at", "Skipped: another purge run")), out
    ids = list(DeletionReceipt.objects.values_list("conversation_external_id", flat=True))
    assert len(ids) == due and len(set(ids)) == due
    assert not Conversation.objects.exists()
    assert verify_receipt_chain() == (due, None)
    statuses = sorted(PurgeRun.objects.values_list("status", flat=True))
    assert statuses in (["skipped", "succeeded"], ["succeeded", "succeeded"])


def test_a_celery_worker_takes_the_task_from_the_broker_and_purges(
    subprocess_env, python, broker_url
):
    from celery import Celery

    if connection.vendor != "postgresql":
        pytest.skip("the SQLite test database lives in this process's memory; use PostgreSQL")
    _seed_due(5)
    queue = f"purge-test-{uuid.uuid4().hex[:12]}"
    env = {**subprocess_env, "CELERY_BROKER_URL": broker_url}
    worker = subprocess.Popen(
        [
            python,
            "-m",
            "celery",
            "-A",
            "privacy_portal",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client = Celery("purge-test-client", broker=broker_url)
    client.conf.task_serializer = "json"
    try:
        client.send_task("retention.tasks.enforce_retention", kwargs={"batch_size": 2}, queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker.poll() is None:
            if PurgeRun.objects.filter(status=PurgeRun.Status.SUCCEEDED).exists():
                break
            time.sleep(0.5)
        run = PurgeRun.objects.filter(status=PurgeRun.Status.SUCCEEDED).first()
        assert run is not None, "the worker did not finish a purge run within 60 s"
    finally:
        worker.terminate()
        try:
            log, _ = worker.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            log, _ = worker.communicate()
        with client.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)
    assert run.conversations_purged == 5 and run.messages_purged == 10, log
    assert not Conversation.objects.exists()
    assert DeletionReceipt.objects.count() == 5
