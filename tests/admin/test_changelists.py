"""Admin lists at scale: constant queries as rows grow, counts that never scan
a whole big table, filters and exact search, training-run usage counts."""

from datetime import timedelta
from unittest import mock

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import consent_record
from ingest.models import IngestedEvent
from retention.models import (
    Conversation,
    PurgeRun,
    PurgeStatistic,
    TrainingRun,
    TrainingRunConversation,
)
from retention.services.conversations import conversation_flag
from retention.services.holds import legal_hold_place
from retention.services.policy_settings import policy_settings_update
from staff.admin_tools import EXACT_COUNT_LIMIT, LargeTablePaginator
from staff.models import AccessLog
from tests.factories import UserFactory
from tests.support.helpers import seed_account, seed_receipt

pytestmark = pytest.mark.django_db

_counter = iter(range(1, 10**6))


def seed_rows(n: int, staff) -> None:
    """n rows in every table an admin list shows."""
    run = TrainingRun.objects.create(
        external_id=f"run-{next(_counter)}", name="run", started_at=timezone.now()
    )
    for _ in range(n):
        k = next(_counter)
        user = UserFactory()
        conversation = seed_account(user, prefix=f"q{k}").get()
        consent_record(article_version="v-test", user=user, allowed=True, source="dashboard")
        conversation_flag(conversation=conversation, flagged_at=timezone.now(), scores={"x": 0.9})
        legal_hold_place(user=user, reason="r", placed_by=staff, conversation=conversation)
        seed_receipt(user, sequence=k, conversation_external_id=f"gone-{k}")
        TrainingRunConversation.objects.create(
            run=run,
            conversation=conversation,
            conversation_external_id=conversation.external_id,
            user=user,
        )
        TrainingRun.objects.create(external_id=f"run-x{k}", name=f"r{k}", started_at=timezone.now())
        AccessLog.objects.create(
            role="support_agent", data_kind="metadata", account=user, staff=staff
        )
        IngestedEvent.objects.create(event_id=f"ev-{k}", type="message")
        PurgeRun.objects.create(cutoff=timezone.now(), status=PurgeRun.Status.SUCCEEDED)
        PurgeStatistic.objects.create(
            day=timezone.now().date() - timedelta(days=k),
            rule="not_shared",
            plan="free",
            kind="chat",
        )
        policy_settings_update(changes={"feedback_years": 5 + k % 2}, changed_by=staff)


def _changelists():
    return [
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for model in admin.site._registry
        if model._meta.app_label in {"accounts", "staff", "retention", "ingest"}
    ]


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(ctx.captured_queries)


def test_every_list_keeps_a_constant_number_of_queries_as_rows_grow(client, superuser):
    client.force_login(superuser)
    seed_rows(5, superuser)
    small = {path: _queries(client, path) for path in _changelists()}
    seed_rows(45, superuser)
    large = {path: _queries(client, path) for path in _changelists()}
    assert large == small
    assert len(small) == 18  # every model of the four portal apps


def test_filters_and_exact_search_work_on_the_conversation_list(client, superuser):
    client.force_login(superuser)
    seed_rows(3, superuser)
    owner = UserFactory(email="find.me@example.com")
    seed_account(owner, prefix="find")
    base = "/admin/retention/conversation/"
    page = client.get(base, {"q": "FIND.ME@example.com"})
    assert page.context["cl"].result_count == 1
    assert client.get(base, {"q": f"find-{owner.pk}-0"}).context["cl"].result_count == 1
    assert client.get(base, {"q": "find"}).context["cl"].result_count == 0  # exact only
    assert client.get(base, {"on_hold": "yes"}).context["cl"].result_count == 3
    assert client.get(base, {"on_hold": "no"}).context["cl"].result_count == 1
    assert client.get(base, {"flagged": "yes"}).context["cl"].result_count == 3
    assert client.get(base, {"rule__exact": "legal_hold"}).context["cl"].result_count == 3
    assert client.get(base, {"user__plan__exact": "free"}).context["cl"].result_count == 4
    users = client.get("/admin/accounts/user/", {"q": owner.external_id})
    assert users.context["cl"].result_count == 1


def test_training_runs_show_how_many_conversations_each_used(client, superuser):
    client.force_login(superuser)
    seed_rows(4, superuser)
    page = client.get("/admin/retention/trainingrun/")
    counts = {run.name: run.conversations_count for run in page.context["cl"].result_list}
    assert counts["run"] == 4
    assert set(counts.values()) == {0, 4}


def test_paginator_counts_with_a_cap_instead_of_scanning():
    seed = [AccessLog(role="support_agent", data_kind="metadata") for _ in range(30)]
    AccessLog.objects.bulk_create(seed)
    with mock.patch("staff.admin_tools.EXACT_COUNT_LIMIT", 10):
        assert LargeTablePaginator(AccessLog.objects.filter(role="support_agent"), 5).count == 10
    assert LargeTablePaginator(AccessLog.objects.all(), 5).count == 30
    assert EXACT_COUNT_LIMIT >= 1000


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner estimate is PostgreSQL's")
def test_paginator_uses_the_planner_estimate_for_a_large_unfiltered_table():
    with mock.patch("staff.admin_tools._reltuples", return_value=1_234_567) as estimate:
        assert LargeTablePaginator(Conversation.objects.all(), 50).count == 1_234_567
        estimate.assert_called_once()
        # A filtered list is counted (capped), never estimated.
        assert LargeTablePaginator(Conversation.objects.filter(kind="chat"), 50).count == 0
    from staff.admin_tools import _reltuples

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE retention_conversation")
    estimate = _reltuples("retention_conversation", "default")
    assert isinstance(estimate, int) and estimate >= 0
