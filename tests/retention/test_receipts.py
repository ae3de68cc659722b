"""verify_receipts: an intact chain passes; an edited or removed receipt is named."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import connection
from django.utils import timezone

from retention.models import DeletionReceipt
from retention.purge import purge_due
from tests.factories import UserFactory

TABLE = DeletionReceipt._meta.db_table


@pytest.fixture
def five_receipts(db, add_message):
    user = UserFactory()
    start = timezone.now() - timedelta(days=400)
    for i in range(5):
        add_message(user, start + timedelta(seconds=i), conversation=f"c{i}")
    assert purge_due(batch_size=2).conversations == 5


def _tamper(statement: str, params: list) -> None:
    """Rewrite history past the append-only triggers, as an attacker with
    database access could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # As a superuser would: replica mode fires no ordinary triggers.
            cursor.execute("SET session_replication_role = replica")
            cursor.execute(statement, params)
            cursor.execute("SET session_replication_role = DEFAULT")
        else:
            cursor.execute(f"DROP TRIGGER {TABLE}_no_update")
            cursor.execute(statement, params)


def _verify(capsys) -> str:
    call_command("verify_receipts", chunk_size=2)
    return capsys.readouterr().out


def test_an_intact_chain_verifies_with_its_count(five_receipts, capsys):
    assert "intact: 5 receipts" in _verify(capsys)


def test_an_empty_chain_verifies(db, capsys):
    assert "intact: 0 receipts" in _verify(capsys)


def test_an_edited_receipt_is_named(five_receipts, capsys):
    _tamper("UPDATE retention_deletionreceipt SET messages_removed = 0 WHERE sequence = %s", [3])

    with pytest.raises(CommandError, match=r"sequence 3: contents do not match"):
        _verify(capsys)


def test_a_rehashed_edit_still_breaks_the_next_link(five_receipts, capsys):
    _tamper(
        "UPDATE retention_deletionreceipt SET receipt_hash = %s WHERE sequence = %s", ["f" * 64, 2]
    )

    with pytest.raises(CommandError, match=r"sequence 2"):
        _verify(capsys)


def test_a_removed_receipt_is_named(five_receipts, capsys):
    _tamper("DELETE FROM retention_deletionreceipt WHERE sequence = %s", [4])

    with pytest.raises(CommandError, match=r"sequence 4: missing"):
        _verify(capsys)


def test_removing_the_newest_receipts_is_detected(five_receipts, capsys):
    _tamper("DELETE FROM retention_deletionreceipt WHERE sequence >= %s", [4])

    with pytest.raises(CommandError, match=r"sequence 4: 3 receipts but the statistics count 5"):
        _verify(capsys)


def test_verify_receipts_exits_non_zero_with_one_line(five_receipts, capsys):
    _tamper("UPDATE retention_deletionreceipt SET rule = 'deleted' WHERE sequence = %s", [1])

    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(["manage.py", "verify_receipts"]).execute()

    assert exit_info.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "sequence 1" in lines[0]
