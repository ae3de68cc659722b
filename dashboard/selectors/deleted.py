"""Deleted conversations awaiting purge and deletion receipts."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from accounts.models import User
from connected.selectors import erasure_confirmations
from dashboard.presentation import (
    ShownDate,
    erasure_text,
    shown_date,
)
from dashboard.selectors.common import KIND_LABELS, PAGE_SIZE, Page, keyset
from retention.models import DeletionReceipt
from retention.policy.promises import duration_text, receipt_late_by
from retention.purge.health import deletion_promise_terms
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
    erasure: str  # "Erased from the portal on ...; confirmed by ...; waiting for ..."
    # "removed 15 days after the article's 30 days" when the deletion promise
    # was broken; empty when on time.
    late: str = ""


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
    """Deletion receipts, newest first; each says whether it kept the
    article's deletion promise (and, when not, by how long it missed it) and
    what the connected systems that must confirm the erasure confirmed."""
    qs = DeletionReceipt.objects.filter(user=user).only(
        "pk", "kind", "rule", "deleted_at", "retain_until", "purged_at", "conversation_external_id"
    )
    rows, next_cursor = keyset(qs, "purged_at", cursor, size)
    days, tolerance = deletion_promise_terms()
    confirmations = erasure_confirmations(
        account=user.external_id or "", conversations=[r.conversation_external_id for r in rows]
    )
    return Page(
        [
            ReceiptRow(
                KIND_LABELS.get(r.kind, r.kind),
                shown_date(r.deleted_at, now),
                shown_date(r.purged_at, now),
                erasure_text(
                    r.purged_at,
                    [
                        (system.name, system.confirmed_at)
                        for system in confirmations.get(r.conversation_external_id, ())
                    ],
                ),
                _late_text(r, days=days, tolerance=tolerance),
            )
            for r in rows
        ],
        next_cursor,
    )


def _late_text(receipt: DeletionReceipt, *, days: int, tolerance) -> str:
    late = receipt_late_by(
        rule=receipt.rule,
        deleted_at=receipt.deleted_at,
        retain_until=receipt.retain_until,
        purged_at=receipt.purged_at,
        deleted_days=days,
        tolerance=tolerance,
    )
    if late is None:
        return ""
    # The promise it was late for: its own day's, when deleted_days has since
    # been shortened (receipt_late_by measures from the later of the two).
    promised = max(days, round((receipt.retain_until - receipt.deleted_at) / timedelta(days=1)))
    return f"removed {duration_text(late)} after the article's {promised} days"
