"""Deleted conversations awaiting purge and deletion receipts."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import consent_allowed
from connected.selectors import erasure_confirmations
from dashboard.presentation import (
    Removal,
    ShownDate,
    days_after_text,
    deadline_reason,
    erasure_text,
    removal,
    shown_date,
)
from dashboard.selectors.common import (
    KIND_LABELS,
    PAGE_SIZE,
    RULE_LABELS,
    Page,
    deleted_anchor,
    keyset,
    policy_anchor_url,
)
from dashboard.selectors.conversations import QuoteLink
from retention.models import DeletionReceipt
from retention.policy.article import key_quotes_for
from retention.policy.promises import duration_text, receipt_late_by
from retention.purge.health import deletion_promise_terms
from retention.selectors.conversations import owned_conversations
from retention.selectors.decisions import decision_for_user
from retention.selectors.settings import policy_durations


@dataclass(frozen=True)
class DeletedRow:
    anchor: str  # the row's fragment id (the overview's next removal links to it)
    kind_label: str
    # What it was, recognisably, without its title (a deleted conversation
    # left the history; its title is content): when it was active, how many
    # messages.
    active_from: ShownDate
    active_to: ShownDate
    messages: int
    deleted_at: ShownDate
    removal: Removal | None  # None: commercial, not governed by these rules
    reason: str  # why the date is what it is, in words
    quotes: list[QuoteLink]  # the article's sentence(s) for that rule, linked


@dataclass(frozen=True)
class ReceiptRow:
    kind_label: str
    messages: int
    rule_label: str
    deleted_at: ShownDate | None  # None: removed at its date, not deleted by the user
    retain_until: ShownDate
    purged_at: ShownDate
    after: str  # "removed 29 days after you deleted it" / "... after its date"
    erasure: str  # "Erased from the portal on ...; confirmed by ...; waiting for ..."
    # "removed 15 days after the article's 30 days" when the deletion promise
    # was broken; empty when on time.
    late: str = ""


def deleted_page(
    *, user: User, now: datetime, cursor: str | None = None, size: int = PAGE_SIZE
) -> Page:
    """Deleted conversations awaiting removal, each explaining itself: what
    it was, when deleted, when it goes and why (the rule in words and the
    article's sentence). Never their titles or content. A fixed number of
    queries: the page, the consent now, the durations."""
    qs = (
        owned_conversations(user_id=user.pk)
        .filter(deleted_at__isnull=False)
        .only(
            "pk",
            "external_id",
            "kind",
            "created_at",
            "last_activity_at",
            "deleted_at",
            "flagged_at",
            "shared_for_training",
            "public_rule",
            "public_retain_until",
        )
        .annotate(message_count=Count("messages"))
    )
    rows, next_cursor = keyset(qs, "deleted_at", cursor, size)
    durations = policy_durations()
    consent_now = consent_allowed(user_id=user.pk, at=now) if rows else False
    shown = []
    for c in rows:
        decision = decision_for_user(
            c,
            owner=user,
            consent_now=consent_now,
            durations=durations,
        )
        shown.append(
            DeletedRow(
                anchor=deleted_anchor(c.external_id),
                kind_label=KIND_LABELS.get(c.kind, c.kind),
                active_from=shown_date(c.created_at, now),
                active_to=shown_date(c.last_activity_at, now),
                messages=c.message_count,
                deleted_at=shown_date(c.deleted_at, now),
                removal=None if user.is_commercial else removal(c.public_retain_until, now),
                reason=deadline_reason(
                    decided_by=decision.decided_by,
                    durations=durations,
                    last_activity_at=c.last_activity_at,
                    deleted_at=c.deleted_at,
                    flagged_at=c.flagged_at,
                    auto_delete_months=user.auto_delete_months,
                ),
                quotes=[
                    QuoteLink(q.text, policy_anchor_url(q.section))
                    for q in key_quotes_for(decision.decided_by, durations)
                ],
            )
        )
    return Page(shown, next_cursor)


def receipt_page(
    *, user: User, now: datetime, cursor: str | None = None, size: int = PAGE_SIZE
) -> Page:
    """Deletion receipts, newest first; each says whether it kept the
    article's deletion promise (and, when not, by how long it missed it) and
    what the connected systems that must confirm the erasure confirmed."""
    qs = DeletionReceipt.objects.filter(user=user).only(
        "pk",
        "kind",
        "rule",
        "deleted_at",
        "retain_until",
        "purged_at",
        "messages_removed",
        "conversation_external_id",
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
                r.messages_removed,
                RULE_LABELS.get(r.rule, r.rule),
                shown_date(r.deleted_at, now),
                shown_date(r.retain_until, now),
                shown_date(r.purged_at, now),
                _removed_after(r),
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
    return _("removed %(late)s after the article's %(days)d days") % {
        "late": duration_text(late),
        "days": promised,
    }


def _removed_after(receipt: DeletionReceipt) -> str:
    """How long after the user's deletion (or after its date, when the user
    did not delete it) the content was removed."""
    if receipt.deleted_at is not None:
        return _("removed %(days)s after you deleted it") % {
            "days": days_after_text(receipt.deleted_at, receipt.purged_at)
        }
    return _("removed %(days)s after its date") % {
        "days": days_after_text(receipt.retain_until, receipt.purged_at)
    }
