"""Deleted conversations awaiting purge and deletion receipts."""

from dataclasses import dataclass
from datetime import datetime

from accounts.models import User
from dashboard.presentation import (
    ShownDate,
    shown_date,
)
from dashboard.selectors.common import KIND_LABELS, PAGE_SIZE, Page, keyset
from retention.models import DeletionReceipt
from retention.selectors.conversations import owned_conversations


@dataclass(frozen=True)
class DeletedRow:
    kind_label: str
    deleted_at: ShownDate
    purge_by: ShownDate | None  # None: commercial, not governed by these rules


@dataclass(frozen=True)
class ReceiptRow:
    kind_label: str
    deleted_at: ShownDate | None  # None: removed at its date, not deleted by the user
    purged_at: ShownDate


def deleted_page(
    *, user: User, now: datetime, cursor: str | None = None, size: int = PAGE_SIZE
) -> Page:
    """Deleted conversations awaiting purge: never their titles or content."""
    qs = (
        owned_conversations(user_id=user.pk)
        .filter(deleted_at__isnull=False)
        .only("pk", "kind", "deleted_at", "public_retain_until")
    )
    rows, next_cursor = keyset(qs, "deleted_at", cursor, size)
    return Page(
        [
            DeletedRow(
                KIND_LABELS.get(c.kind, c.kind),
                shown_date(c.deleted_at, now),
                None if user.is_commercial else shown_date(c.public_retain_until, now),
            )
            for c in rows
        ],
        next_cursor,
    )


def receipt_page(
    *, user: User, now: datetime, cursor: str | None = None, size: int = PAGE_SIZE
) -> Page:
    qs = DeletionReceipt.objects.filter(user=user).only("pk", "kind", "deleted_at", "purged_at")
    rows, next_cursor = keyset(qs, "purged_at", cursor, size)
    return Page(
        [
            ReceiptRow(
                KIND_LABELS.get(r.kind, r.kind),
                shown_date(r.deleted_at, now),
                shown_date(r.purged_at, now),
            )
            for r in rows
        ],
        next_cursor,
    )
