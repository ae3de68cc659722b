"""Deletion receipts: one per purged conversation, chained by hash.

A receipt's hash covers its fields and the previous receipt's hash, so editing
or removing any receipt breaks every later link; removing the newest ones
leaves the count short of the de-identified statistics, which are written in
the same transactions. Receipts never hold content or a title.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.db.models import Sum

from retention.models import DeletionReceipt, PurgeStatistic
from retention.purge.sql import array_cursor, is_postgresql

GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock key serialising chain appends (taken after the claim,
# so concurrent batches claim and delete in parallel and queue only here).
CHAIN_LOCK_KEY = 7_310_421_001

HASHED_FIELDS = (
    "sequence",
    "user_id",
    "conversation_external_id",
    "kind",
    "rule",
    "deleted_at",
    "retain_until",
    "purged_at",
    "messages_removed",
    "previous_hash",
)


def _canonical_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def receipt_hash(fields: dict) -> str:
    """sha256 of the canonical JSON (sorted keys, no spaces, UTC times) of
    HASHED_FIELDS."""
    canonical = {name: _canonical_value(fields[name]) for name in HASHED_FIELDS}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def chain_head_locked() -> tuple[int, str]:
    """(last sequence, last hash), with appends serialised until the current
    transaction ends. Call inside the batch's transaction."""
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])
    last = (
        DeletionReceipt.objects.order_by("-sequence")
        .values_list("sequence", "receipt_hash")
        .first()
    )
    return last if last else (0, GENESIS_HASH)


def build_receipts(rows: list[dict], *, purged_at: datetime) -> list[dict]:
    """Receipt fields for `rows` (dicts with the conversation facts and
    messages_removed), appended to the chain. Caller holds the batch's
    transaction; the chain lock is taken here."""
    sequence, previous = chain_head_locked()
    receipts = []
    for row in rows:
        sequence += 1
        fields = {
            "sequence": sequence,
            "user_id": row["user_id"],
            "conversation_external_id": row["external_id"],
            "kind": row["kind"],
            "rule": row["rule"],
            "deleted_at": row["deleted_at"],
            "retain_until": row["retain_until"],
            "purged_at": purged_at,
            "messages_removed": row["messages_removed"],
            "previous_hash": previous,
        }
        previous = receipt_hash(fields)
        fields["receipt_hash"] = previous
        receipts.append(fields)
    return receipts


_COLUMNS = (*HASHED_FIELDS, "receipt_hash")
_PG_TYPES = {
    "sequence": "bigint",
    "user_id": "bigint",
    "deleted_at": "timestamptz",
    "retain_until": "timestamptz",
    "purged_at": "timestamptz",
    "messages_removed": "integer",
}


def insert_receipts(receipts: list[dict]) -> None:
    """One INSERT for the batch's receipts. On PostgreSQL the values travel as
    one array per column (unnest), which keeps a 500-row batch cheap to send."""
    table = DeletionReceipt._meta.db_table
    columns = ", ".join(_COLUMNS)
    with array_cursor() as cursor:
        if is_postgresql():
            arrays = ", ".join(f"%s::{_PG_TYPES.get(c, 'text')}[]" for c in _COLUMNS)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})",
                [[r[c] for r in receipts] for c in _COLUMNS],
            )
        else:
            placeholders = ", ".join(["%s"] * len(_COLUMNS))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
                [[r[c] for c in _COLUMNS] for r in receipts],
            )


@dataclass(frozen=True)
class ChainBreak:
    sequence: int
    reason: str

    def __str__(self) -> str:
        return f"receipt chain broken at sequence {self.sequence}: {self.reason}"


def _walk(chunk_size: int) -> Iterator[DeletionReceipt]:
    last = 0
    fields = [*HASHED_FIELDS, "receipt_hash"]
    while True:
        chunk = list(
            DeletionReceipt.objects.filter(sequence__gt=last)
            .order_by("sequence")
            .only(*fields)[:chunk_size]
        )
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].sequence


def verify_receipt_chain(*, chunk_size: int = 2000) -> tuple[int, ChainBreak | None]:
    """Walk the chain in sequence order, in chunks. Returns (receipts checked,
    the first break or None)."""
    expected_sequence, previous, checked = 1, GENESIS_HASH, 0
    for receipt in _walk(chunk_size):
        if receipt.sequence != expected_sequence:
            return checked, ChainBreak(
                expected_sequence,
                f"missing (next receipt is sequence {receipt.sequence})",
            )
        if receipt.previous_hash != previous:
            return checked, ChainBreak(
                receipt.sequence, "previous_hash does not match the receipt before it"
            )
        fields = {name: getattr(receipt, name) for name in HASHED_FIELDS}
        if receipt_hash(fields) != receipt.receipt_hash:
            return checked, ChainBreak(receipt.sequence, "contents do not match receipt_hash")
        previous = receipt.receipt_hash
        expected_sequence += 1
        checked += 1
    purged = PurgeStatistic.objects.aggregate(total=Sum("conversations"))["total"] or 0
    if purged != checked:
        return checked, ChainBreak(
            expected_sequence,
            f"{checked} receipts but the statistics count {purged} purged conversations "
            "(receipts at the end of the chain removed?)",
        )
    return checked, None
