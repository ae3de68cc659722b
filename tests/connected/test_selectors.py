"""What the user's pages and deletion health ask: erasure confirmations per
conversation, and the erasures still unconfirmed."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connected.models import Delivery
from connected.selectors import SystemConfirmation, erasure_confirmations, unconfirmed_erasures
from connected.services.confirmations import erasure_confirm
from connected.services.systems import system_enable
from tests.connected import factories as f
from tests.factories import utc

PURGED = ["conversation.purged", "feedback.purged"]


def _confirm(system, conversation, at, account="a1"):
    delivery = Delivery.objects.get(system=system, account=account, event__subject=conversation)
    erasure_confirm(delivery=delivery, now=at)


def test_each_purged_conversation_lists_the_systems_that_must_confirm_it(register, record):
    lake, _ = register("lake", events=PURGED, confirms_erasure=True)
    register("chat", events=PURGED, confirms_erasure=True)
    register("metrics", events=PURGED)  # told, but need not confirm
    record(f.purged("a1", "c1"), f.purged("a1", "c2"), f.purged("a2", "c1"), f.deleted("a1", "c3"))
    _confirm(lake, "c1", utc(2026, 3, 2))
    answer = erasure_confirmations(account="a1", conversations=["c1", "c2", "c3", "unknown"])
    assert answer == {
        "c1": [SystemConfirmation("chat", None), SystemConfirmation("lake", utc(2026, 3, 2))],
        "c2": [SystemConfirmation("chat", None), SystemConfirmation("lake", None)],
    }


def test_one_query_whatever_the_number_of_conversations(register, record):
    register("lake", events=PURGED, confirms_erasure=True)
    record(*[f.purged("a1", f"c{n}") for n in range(30)])
    with CaptureQueriesContext(connection) as queries:
        answer = erasure_confirmations(account="a1", conversations=[f"c{n}" for n in range(30)])
    assert len(answer) == 30
    assert len(queries) == 1
    assert erasure_confirmations(account="a1", conversations=[]) == {}


def test_unconfirmed_erasures_count_and_oldest(register, record):
    lake, _ = register("lake", events=PURGED, confirms_erasure=True)
    off, _ = register("off", events=PURGED, confirms_erasure=True)
    now = timezone.now() + timedelta(seconds=1)
    assert unconfirmed_erasures(now=now) == (0, None)
    record(f.purged("a1", "c1"), f.feedback_purged("a1", "fb1"), f.deleted("a1", "c2"))
    system_enable(system_id=off.pk, enabled=False)  # a disabled system is not waited for
    count, oldest = unconfirmed_erasures(now=now)
    assert count == 2
    assert oldest == Delivery.objects.filter(system=lake).earliest("created_at").created_at
    _confirm(lake, "c1", now)
    _confirm(lake, "fb1", now)
    assert unconfirmed_erasures(now=now) == (0, None)


def test_erasures_decided_after_now_are_not_counted(register, record):
    register("lake", events=PURGED, confirms_erasure=True)
    record(f.purged("a1", "c1"))
    assert unconfirmed_erasures(now=timezone.now() - timedelta(days=1)) == (0, None)
