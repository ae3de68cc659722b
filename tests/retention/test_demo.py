"""The demo data (retention/demo.py) keeps the article's promises: the first
purge run has work to do, and nothing of it is, or will be, removed late."""

from datetime import timedelta

import pytest
from django.utils import timezone

from retention.demo import seed_demo
from retention.models import Conversation, DeletionReceipt, Rule
from retention.policy.promises import deletion_promise
from retention.purge import deletion_health, purge_due

pytestmark = pytest.mark.django_db


def test_the_first_purge_run_removes_a_demo_conversation_and_nothing_is_late():
    seed_demo()

    report = purge_due()

    assert report.conversations >= 1  # the first run has work to do
    assert DeletionReceipt.objects.filter(conversation_external_id="alice-old-list").exists()
    health = deletion_health()
    assert health.late_purges == 0 and health.deleted_past_promise == 0
    assert health.healthy, health.problems


def test_every_deleted_demo_conversation_is_due_within_the_articles_30_days():
    now = timezone.now()
    seed_demo(now=now)

    deleted = Conversation.objects.filter(rule=Rule.DELETED)
    assert deleted.exists()
    for conversation in deleted:
        promise = deletion_promise(conversation.deleted_at, 30)
        assert conversation.retain_until <= promise
        assert promise > now - timedelta(minutes=15), conversation.external_id
