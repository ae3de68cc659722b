"""Reads for the support console: find an account, its metadata, its
conversations.

The console shows metadata only: every query here names its columns
(`values()` / `only()`), so no conversation title, message content, feedback
comment or excerpt is ever loaded, let alone rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import AccountType, ConsentChange, Plan, User
from accounts.selectors import consent_current
from retention.models import (
    ConversationKind,
    DeletionReceipt,
    Feedback,
    FeedbackKind,
    Rule,
)
from retention.selectors.conversations import conversation_owner_id, owned_conversations
from retention.selectors.exemptions import active_holds, hold_covers

CONVERSATIONS_PAGE_SIZE = 50
LEDGER_LIMIT = 100
RECEIPTS_LIMIT = 50
FEEDBACK_LIMIT = 50


class LookupKind:
    EMAIL = "email"
    ACCOUNT_ID = "account"
    CONVERSATION_ID = "conversation"
    CHOICES = (
        (EMAIL, _("Email address")),
        (ACCOUNT_ID, _("External account id")),
        (CONVERSATION_ID, _("Conversation id")),
    )


def account_find(*, kind: str, value: str) -> User | None:
    """The end-user account a lookup names. A conversation id also finds
    accounts whose conversation was already purged (its deletion receipt).
    Staff accounts (no external id) are never shown in the console."""
    accounts = User.objects.filter(external_id__isnull=False)
    if kind == LookupKind.EMAIL:
        return accounts.filter(email=User.objects.normalize_email(value).lower()).first()
    if kind == LookupKind.ACCOUNT_ID:
        return accounts.filter(external_id=value).first()
    if kind == LookupKind.CONVERSATION_ID:
        owner_id = conversation_owner_id(external_id=value)
        user = accounts.filter(pk=owner_id).first() if owner_id is not None else None
        if user is None:
            purged = DeletionReceipt.objects.filter(conversation_external_id=value).values(
                "user_id"
            )[:1]
            user = accounts.filter(pk__in=purged).first()
        return user
    raise ValueError(f"Unknown lookup kind {kind!r}.")


@dataclass(frozen=True)
class AccountOverview:
    pk: int
    email: str
    external_id: str
    plan: str
    account_type: str
    is_commercial: bool
    date_joined: datetime
    consent_allowed: bool
    consent_since: datetime | None
    consent_history: list[dict]
    holds: list[dict]
    receipts: list[dict]
    receipts_total: int
    feedback: list[dict]
    feedback_total: int
    conversations_total: int


def _label(choices, value: str) -> str:
    try:
        return choices(value).label
    except ValueError:
        return value


def account_overview(*, user_id: int) -> AccountOverview:
    user = User.objects.only(
        "pk", "email", "external_id", "plan", "account_type", "date_joined"
    ).get(pk=user_id)
    history = list(
        ConsentChange.objects.filter(user_id=user_id)
        .order_by("-effective_at", "-id")
        .values("allowed", "effective_at", "recorded_at", "source")[:LEDGER_LIMIT]
    )
    in_force = consent_current(user_id=user_id, at=timezone.now())
    holds = list(
        active_holds()
        .filter(user_id=user_id)
        .order_by("-placed_at")
        .values("scope", "conversation_external_id", "placed_at")
    )
    receipts = list(
        DeletionReceipt.objects.filter(user_id=user_id)
        .order_by("-purged_at", "-id")
        .values(
            "sequence",
            "conversation_external_id",
            "kind",
            "rule",
            "deleted_at",
            "retain_until",
            "purged_at",
            "messages_removed",
            "receipt_hash",
        )[:RECEIPTS_LIMIT]
    )
    for receipt in receipts:
        receipt["kind_label"] = _label(ConversationKind, receipt["kind"])
        receipt["rule_label"] = _label(Rule, receipt["rule"])
    feedback = list(
        Feedback.objects.filter(user_id=user_id)
        .order_by("-submitted_at", "-id")
        .values(
            "external_id",
            "kind",
            "conversation_external_id",
            "submitted_at",
            "retain_until",
            "public_retain_until",
        )[:FEEDBACK_LIMIT]
    )
    for item in feedback:
        item["kind_label"] = _label(FeedbackKind, item["kind"])
    return AccountOverview(
        pk=user.pk,
        email=user.email,
        external_id=user.external_id or "",
        plan=_label(Plan, user.plan),
        account_type=_label(AccountType, user.account_type),
        is_commercial=user.account_type == AccountType.COMMERCIAL,
        date_joined=user.date_joined,
        consent_allowed=bool(in_force and in_force.allowed),
        consent_since=in_force.effective_at if in_force else None,
        consent_history=history,
        holds=holds,
        receipts=receipts,
        receipts_total=DeletionReceipt.objects.filter(user_id=user_id).count(),
        feedback=feedback,
        feedback_total=Feedback.objects.filter(user_id=user_id).count(),
        conversations_total=owned_conversations(user_id=user_id).count(),
    )


@dataclass(frozen=True)
class ConversationPage:
    rows: list[dict]
    next_before: int | None


def account_conversations_page(
    *, user_id: int, before: int | None = None, page_size: int = CONVERSATIONS_PAGE_SIZE
) -> ConversationPage:
    """One page of an account's conversations (deleted ones included), newest
    first by id, keyset-paginated: the cost of a page does not grow with the
    size of the account. Metadata columns only."""
    conversations = owned_conversations(user_id=user_id)
    if before is not None:
        conversations = conversations.filter(pk__lt=before)
    rows = list(
        conversations.annotate(on_hold=hold_covers(conversation_ref="external_id"))
        .order_by("-pk")
        .values(
            "pk",
            "external_id",
            "kind",
            "created_at",
            "last_activity_at",
            "deleted_at",
            "rule",
            "retain_until",
            "flagged_at",
            "on_hold",
        )[: page_size + 1]
    )
    more = len(rows) > page_size
    rows = rows[:page_size]
    for row in rows:
        row["kind_label"] = _label(ConversationKind, row["kind"])
        row["rule_label"] = _label(Rule, row["rule"])
    return ConversationPage(rows=rows, next_before=rows[-1]["pk"] if more else None)
