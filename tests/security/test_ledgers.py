"""The append-only ledgers (consent, deletion receipts, policy-setting changes,
the staff access log) refuse to be rewritten, by the ORM and by raw SQL: what
SECURITY.md promises an attacker with database-level code paths cannot undo.
PostgreSQL refuses DELETE too; SQLite refuses UPDATE only (its test runner
empties tables with DELETE), as docs/architecture.md says."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.models import AppendOnlyError, ConsentChange
from accounts.services import consent_record
from retention.models import DeletionReceipt, PolicySettingChange
from retention.services.policy_settings import policy_settings_update
from staff.models import AccessLog
from tests.factories import UserFactory
from tests.support.helpers import seed_receipt

pytestmark = [pytest.mark.django_db, pytest.mark.security]


@pytest.fixture
def ledger_rows():
    user = UserFactory()
    consent_record(article_version="v-test", user=user, allowed=True, source="dashboard")
    seed_receipt(user, sequence=1, conversation_external_id="gone-1")
    policy_settings_update(changes={"feedback_years": 6}, changed_by=None)
    AccessLog.objects.create(role="support_agent", data_kind="metadata", account=user, reason="T")
    return {
        ConsentChange: ("allowed", False),
        DeletionReceipt: ("messages_removed", 0),
        PolicySettingChange: ("field", "not_shared_days"),
        AccessLog: ("reason", "rewritten"),
    }


def _raw(sql: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_the_orm_refuses_to_change_or_delete_a_ledger_row(ledger_rows):
    for model, (column, value) in ledger_rows.items():
        row = model.objects.get()
        setattr(row, column, value)
        with pytest.raises(AppendOnlyError):
            row.save()
        with pytest.raises(AppendOnlyError):
            row.delete()


def test_the_database_refuses_a_raw_update_of_a_ledger_row(ledger_rows):
    for model, (column, value) in ledger_rows.items():
        row = model.objects.get()
        table = model._meta.db_table
        with pytest.raises(DatabaseError):
            _raw(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, row.pk])  # noqa: S608
        assert model.objects.filter(pk=row.pk, **{column: getattr(row, column)}).exists()


def test_postgresql_refuses_a_raw_delete_of_a_ledger_row(ledger_rows):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps DELETE for its test runner; PostgreSQL refuses it")
    for model in ledger_rows:
        row = model.objects.get()
        with pytest.raises(DatabaseError):
            _raw(f"DELETE FROM {model._meta.db_table} WHERE id = %s", [row.pk])  # noqa: S608
        assert model.objects.filter(pk=row.pk).exists()


def test_new_rows_are_still_appended(ledger_rows):
    user = UserFactory()
    consent_record(
        article_version="v-test",
        user=user,
        allowed=True,
        source="dashboard",
        effective_at=timezone.now(),
    )
    assert ConsentChange.objects.count() == 2
