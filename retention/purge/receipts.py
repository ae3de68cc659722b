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


# The canonical form is JSON with sorted keys, no spaces, ASCII only and times
# as UTC "YYYY-MM-DDTHH:MM:SS.ffffffZ". It is written out by hand below because
# json.dumps(sort_keys=True) and strftime cost more than the rest of a purge
# batch; tests/retention/test_receipts.py holds it byte-equal to json.dumps.
_quote = json.encoder.encode_basestring_ascii
_CANONICAL = (
    '{"conversation_external_id":%s,"deleted_at":%s,"kind":%s,"messages_removed":%d,'
    '"previous_hash":%s,"purged_at":%s,"retain_until":%s,"rule":%s,"sequence":%d,'
    '"user_id":%d}'
)


# The same canonical form cut at the two fields only the chain head decides
# (a hash is a plain hex string, so quoting it is adding the quotes).
_before_previous, _after_previous = _CANONICAL.split('"previous_hash":%s')
_before_sequence, _TAIL = _after_previous.split('"sequence":%d')
_HEAD = _before_previous + '"previous_hash":"'
_MIDDLE = '"' + _before_sequence + '"sequence":'


def _canonical_time(value: datetime | None) -> str:
    if value is None:
        return "null"
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("receipt times must be timezone-aware")
    if offset:
        value = value.astimezone(UTC)
    # isoformat of a UTC time ends in "+00:00"; the canonical form says "Z".
    return '"' + value.isoformat(timespec="microseconds")[:-6] + 'Z"'


def _hash(
    *,
    sequence: int,
    user_id: int,
    external_id: str,
    kind: str,
    rule: str,
    deleted_at: datetime | None,
    retain_until: datetime | None,
    purged_at_text: str,
    messages_removed: int,
    previous_hash: str,
) -> tuple[str, str]:
    """(canonical text, its sha256). The one place the canonical form is made,
    for the purge (purged_at formatted once per batch) and for verification."""
    text = _CANONICAL % (
        _quote(external_id),
        _canonical_time(deleted_at),
        _quote(kind),
        int(messages_removed),
        _quote(previous_hash),
        purged_at_text,
        _canonical_time(retain_until),
        _quote(rule),
        int(sequence),
        int(user_id),
    )
    return text, hashlib.sha256(text.encode("ascii")).hexdigest()


def _hash_fields(fields: dict) -> tuple[str, str]:
    return _hash(
        sequence=fields["sequence"],
        user_id=fields["user_id"],
        external_id=fields["conversation_external_id"],
        kind=fields["kind"],
        rule=fields["rule"],
        deleted_at=fields["deleted_at"],
        retain_until=fields["retain_until"],
        purged_at_text=_canonical_time(fields["purged_at"]),
        messages_removed=fields["messages_removed"],
        previous_hash=fields["previous_hash"],
    )


def canonical_text(fields: dict) -> str:
    """The canonical JSON of HASHED_FIELDS (sorted keys, no spaces, ASCII, UTC
    times with microseconds)."""
    return _hash_fields(fields)[0]


def receipt_hash(fields: dict) -> str:
    """sha256 of the canonical JSON of HASHED_FIELDS."""
    return _hash_fields(fields)[1]


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


@dataclass(frozen=True)
class PreparedReceipts:
    """A batch's receipts up to what only the chain head decides (sequence
    and previous hash): the canonical text around those two, formatted before
    the chain lock is taken, so the lock is held for string joins and sha256
    alone (formatting the times and quoting took most of the time it was held
    for the hash chain)."""

    rows: list[tuple]  # receipt columns without sequence, previous_hash, receipt_hash
    # Per receipt, the canonical text is
    #   head + previous_hash + middle + str(sequence) + tail
    texts: list[tuple[str, str, str]]


def prepare_receipts(rows: list[dict], *, purged_at: datetime) -> PreparedReceipts:
    """The receipts of `rows` (dicts with the conversation facts and
    messages_removed), all but their place in the chain. No lock, no query."""
    purged_at_text = _canonical_time(purged_at)
    columns, texts = [], []
    for row in rows:
        head = _HEAD % (
            _quote(row["external_id"]),
            _canonical_time(row["deleted_at"]),
            _quote(row["kind"]),
            int(row["messages_removed"]),
        )
        middle = _MIDDLE % (
            purged_at_text,
            _canonical_time(row["retain_until"]),
            _quote(row["rule"]),
        )
        tail = _TAIL % int(row["user_id"])
        texts.append((head, middle, tail))
        columns.append(
            (
                row["user_id"],
                row["external_id"],
                row["kind"],
                row["rule"],
                row["deleted_at"],
                row["retain_until"],
                purged_at,
                row["messages_removed"],
            )
        )
    return PreparedReceipts(columns, texts)


def chain_receipts(prepared: PreparedReceipts) -> list[tuple]:
    """Append `prepared` to the chain: takes the chain lock (held until the
    caller's transaction ends), reads the head and hashes each receipt after
    the one before. Tuples in the order of RECEIPT_COLUMNS."""
    sequence, previous = chain_head_locked()
    sha256 = hashlib.sha256
    receipts = []
    for (user_id, external_id, kind, rule, deleted_at, retain_until, purged_at, removed), (
        head,
        middle,
        tail,
    ) in zip(prepared.rows, prepared.texts, strict=True):
        sequence += 1
        digest = sha256(f"{head}{previous}{middle}{sequence}{tail}".encode("ascii")).hexdigest()
        receipts.append(
            (
                sequence,
                user_id,
                external_id,
                kind,
                rule,
                deleted_at,
                retain_until,
                purged_at,
                removed,
                previous,
                digest,
            )
        )
        previous = digest
    return receipts


def build_receipts(rows: list[dict], *, purged_at: datetime) -> list[tuple]:
    """Receipts for `rows` appended to the chain (prepare_receipts, then
    chain_receipts). Caller holds the batch's transaction; the chain lock is
    taken here."""
    return chain_receipts(prepare_receipts(rows, purged_at=purged_at))


RECEIPT_COLUMNS = (*HASHED_FIELDS, "receipt_hash")
_PG_TYPES = [
    {
        "sequence": "int8",
        "user_id": "int8",
        "deleted_at": "timestamptz",
        "retain_until": "timestamptz",
        "purged_at": "timestamptz",
        "messages_removed": "int4",
    }.get(column, "text")
    for column in RECEIPT_COLUMNS
]


def insert_receipts(receipts: list[tuple]) -> None:
    """Write the batch's receipts in one statement. On PostgreSQL that is a
    COPY on the batch's connection (same transaction): psycopg formats the rows
    in C, where an INSERT of 500 rows spends longer adapting parameters than
    the server spends storing them."""
    table = DeletionReceipt._meta.db_table
    columns = ", ".join(RECEIPT_COLUMNS)
    with array_cursor() as cursor:
        if is_postgresql():
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(_PG_TYPES)
                for receipt in receipts:
                    copy.write_row(receipt)
        else:
            placeholders = ", ".join(["%s"] * len(RECEIPT_COLUMNS))
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", receipts)


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
