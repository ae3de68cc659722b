"""The overview page: consent state, counts per rule, next removal, staff accesses."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Min, Q

from accounts.models import User
from accounts.selectors import consent_current
from dashboard.presentation import (
    ShownDate,
    shown_date,
)
from dashboard.selectors.common import RECENT_LIMIT, RULE_LABELS, USER_RULES
from retention.models import Feedback, Rule
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
class Overview:
    is_commercial: bool
    consent: ConsentState
    rule_counts: list[tuple[str, str, int]]  # (code, label, count)
    visible_total: int
    deleted_pending: int
    next_purge: ShownDate | None
    next_purge_due: bool
    staff_accesses: list[StaffAccess] = field(default_factory=list)


def consent_state(*, user: User, now: datetime) -> ConsentState:
    entry = consent_current(user_id=user.pk, at=now)
    if entry is None:
        return ConsentState(False, None)
    return ConsentState(entry.allowed, shown_date(entry.effective_at, now))


def overview(*, user: User, now: datetime) -> Overview:
    """Consent, counts per rule (one aggregate), the next purge of any of the
    user's data, and the latest staff accesses to the account."""
    # Only columns of conv_user_counts_idx, so PostgreSQL answers from the
    # index alone (an index-only scan) instead of visiting a heap page per
    # conversation. COUNT(column) counts the rows where it is not null:
    # public_rule never is; deleted_at is set exactly on deleted ones.
    visible = Q(deleted_at__isnull=True)
    counts = owned_conversations(user_id=user.pk).aggregate(
        **{
            rule.value: Count("public_rule", filter=visible & Q(public_rule=rule))
            for rule in USER_RULES
        },
        deleted=Count("deleted_at"),
        next_conversation=Min("public_retain_until"),
    )
    next_feedback = Feedback.objects.filter(user=user).aggregate(m=Min("public_retain_until"))["m"]
    candidates = [m for m in (counts["next_conversation"], next_feedback) if m is not None]
    next_purge = min(candidates) if candidates and not user.is_commercial else None
    rule_counts = [
        (rule.value, RULE_LABELS[rule], counts[rule.value])
        for rule in USER_RULES
        if rule != Rule.COMMERCIAL or user.is_commercial
        # Listed only for those who use auto-delete (or still have such dates).
        if rule != Rule.AUTO_DELETE or user.auto_delete_months or counts[rule.value]
    ]
    return Overview(
        is_commercial=user.is_commercial,
        consent=consent_state(user=user, now=now),
        rule_counts=rule_counts,
        visible_total=sum(counts[rule.value] for rule in USER_RULES),
        deleted_pending=counts["deleted"],
        next_purge=shown_date(next_purge, now),
        next_purge_due=next_purge is not None and next_purge <= now,
        staff_accesses=staff_accesses(user=user, now=now),
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
