"""The overview page: consent state, counts per rule, next removal, staff accesses."""

from dataclasses import dataclass, field
from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import consent_current
from dashboard.presentation import Removal, ShownDate, date_text, removal, shown_date
from dashboard.selectors.common import (
    KIND_LABELS,
    RECENT_LIMIT,
    RULE_LABELS,
    USER_RULES,
    HistoryCounts,
    deleted_anchor,
    feedback_anchor,
    history_counts,
)
from retention.models import Feedback
from retention.selectors.conversations import owned_conversations
from staff.selectors import access_log_for_user


@dataclass(frozen=True)
class ConsentState:
    allowed: bool
    since: ShownDate | None  # None: never chosen (not allowed)


@dataclass(frozen=True)
class StaffAccess:
    role: str
    at: ShownDate
    reason: str
    data_kind: str


@dataclass(frozen=True)
class NextRemoval:
    """The next item of the user's data to be removed, and where to see it."""

    removal: Removal
    what: str  # "the chat “Old shopping list”", "a chat you deleted on 5 May 2026"
    url: str


@dataclass(frozen=True)
class Overview:
    is_commercial: bool
    consent: ConsentState
    # Only the rules with conversations: (code, label, count); they add up to
    # counts.in_history, and with counts.deleted_pending to counts.held.
    rule_counts: list[tuple[str, str, int]]
    counts: HistoryCounts
    next_removal: NextRemoval | None
    staff_accesses: list[StaffAccess] = field(default_factory=list)


def consent_state(*, user: User, now: datetime) -> ConsentState:
    entry = consent_current(user_id=user.pk, at=now)
    if entry is None:
        return ConsentState(False, None)
    return ConsentState(entry.allowed, shown_date(entry.effective_at, now))


def overview(*, user: User, now: datetime) -> Overview:
    """Consent, counts per rule (one aggregate, shared with the consent
    preview), the next removal of any of the user's data with a link to it,
    and the latest staff accesses to the account."""
    counts = history_counts(user_id=user.pk)
    rule_counts = [
        (rule.value, RULE_LABELS[rule], counts.by_rule[rule.value])
        for rule in USER_RULES
        if counts.by_rule[rule.value]
    ]
    return Overview(
        is_commercial=user.is_commercial,
        consent=consent_state(user=user, now=now),
        rule_counts=rule_counts,
        counts=counts,
        next_removal=None if user.is_commercial else next_removal(user=user, now=now),
        staff_accesses=staff_accesses(user=user, now=now),
    )


def next_removal(*, user: User, now: datetime) -> NextRemoval | None:
    """The earliest date the user is shown, of a conversation (in the history
    or deleted) or a feedback submission, and the page that shows that item:
    two queries, each one row."""
    conversation = (
        owned_conversations(user_id=user.pk)
        .filter(public_retain_until__isnull=False)
        .order_by("public_retain_until", "pk")
        .only("external_id", "kind", "title", "deleted_at", "public_retain_until")
        .first()
    )
    feedback = (
        Feedback.objects.filter(user=user, public_retain_until__isnull=False)
        .order_by("public_retain_until", "pk")
        .only("external_id", "kind", "submitted_at", "public_retain_until")
        .first()
    )
    if feedback is not None and (
        conversation is None or feedback.public_retain_until < conversation.public_retain_until
    ):
        return NextRemoval(
            removal(feedback.public_retain_until, now),
            _("your feedback of %(date)s") % {"date": date_text(feedback.submitted_at)},
            f"{reverse('dashboard:feedback')}#{feedback_anchor(feedback.external_id)}",
        )
    if conversation is None:
        return None
    kind = KIND_LABELS.get(conversation.kind, conversation.kind).lower()
    if conversation.deleted_at is not None:
        # Never the title of a deleted conversation: it left the history.
        return NextRemoval(
            removal(conversation.public_retain_until, now),
            _("a %(kind)s you deleted on %(date)s")
            % {"kind": kind, "date": date_text(conversation.deleted_at)},
            f"{reverse('dashboard:deleted')}#{deleted_anchor(conversation.external_id)}",
        )
    return NextRemoval(
        removal(conversation.public_retain_until, now),
        _("the %(kind)s “%(title)s”")
        % {"kind": kind, "title": conversation.title or _("Untitled")},
        reverse("dashboard:conversation", args=[conversation.external_id]),
    )


def staff_accesses(*, user: User, now: datetime, limit: int = RECENT_LIMIT) -> list[StaffAccess]:
    """Granted staff accesses to the account (staff.selectors owns the read,
    the user's own requests left out before the limit), with dates shown the
    dashboard's way. Never the staff member's identity."""
    return [
        StaffAccess(
            role=access.role_label,
            at=shown_date(access.at, now),
            reason=access.reason,
            data_kind=access.data_kind_label,
        )
        for access in access_log_for_user(user, limit=limit)
    ]
