"""verify_receipts: an intact chain passes; an edited or removed receipt is named."""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import connection
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from retention.models import DeletionReceipt
from retention.purge import purge_due
from retention.purge.receipts import HASHED_FIELDS, canonical_text, receipt_hash
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


# The canonical text is written out by hand for speed; the spec (docs/purge.md)
# is json.dumps with sorted keys, no spaces, ASCII and UTC times. Anyone
# re-verifying receipts with a JSON library must get the same bytes.
def _spec_json(fields: dict) -> str:
    def value(v):
        if isinstance(v, datetime):
            return v.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return v

    canonical = {name: value(fields[name]) for name in HASHED_FIELDS}
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


aware_times = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
) | st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(2200, 1, 1),
    timezones=st.sampled_from([ZoneInfo("Europe/Paris"), ZoneInfo("Asia/Kolkata")]),
)


@settings(max_examples=300, deadline=None)
@given(
    sequence=st.integers(1, 2**62),
    user_id=st.integers(1, 2**62),
    external_id=st.text(max_size=128),
    kind=st.sampled_from(["chat", "coding_session"]),
    rule=st.sampled_from(["not_shared", "shared_training", "flagged", "deleted"]),
    deleted_at=st.none() | aware_times,
    retain_until=aware_times,
    purged_at=aware_times,
    messages_removed=st.integers(0, 2**31 - 1),
    previous_hash=st.text("0123456789abcdef", min_size=64, max_size=64),
)
def test_canonical_text_is_the_sorted_ascii_json_of_the_fields(
    sequence,
    user_id,
    external_id,
    kind,
    rule,
    deleted_at,
    retain_until,
    purged_at,
    messages_removed,
    previous_hash,
):
    fields = {
        "sequence": sequence,
        "user_id": user_id,
        "conversation_external_id": external_id,
        "kind": kind,
        "rule": rule,
        "deleted_at": deleted_at,
        "retain_until": retain_until,
        "purged_at": purged_at,
        "messages_removed": messages_removed,
        "previous_hash": previous_hash,
    }
    assert canonical_text(fields) == _spec_json(fields)
    assert receipt_hash(fields) == hashlib.sha256(_spec_json(fields).encode("ascii")).hexdigest()


def test_a_naive_time_cannot_be_hashed():
    fields = {name: 1 for name in HASHED_FIELDS} | {
        "conversation_external_id": "c",
        "kind": "chat",
        "rule": "deleted",
        "previous_hash": "0" * 64,
        "deleted_at": None,
        "retain_until": datetime(2026, 1, 1),
        "purged_at": datetime(2026, 1, 2, tzinfo=UTC),
    }
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical_text(fields)
