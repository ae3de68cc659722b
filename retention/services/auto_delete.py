"""Auto-delete: the user's choice, and the job that deletes for them.

Deleting is dangerous and permanent once purged, so the job deletes nothing
the user could not have deleted themselves: every conversation goes through
retention.services.conversations.conversations_delete, the service behind
the user's own deletes, so the deletion window, receipts, the purge and the
outbound events (connected outbox) all apply. It is never early (due at last
activity + N calendar months exactly, retention.policy.auto_delete), skips
what a legal hold covers and commercial accounts, and runs in batches of one
transaction each whose rows are locked with SKIP LOCKED, so several hosts may
run it at once and a re-run only finds what is still due.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count, F, IntegerField, Q, QuerySet, Value
from django.utils import timezone

from accounts.models import AccountType, AutoDeleteChange, User
from accounts.services import auto_delete_record
from retention.db_functions import AddMonths
from retention.models import Conversation
from retention.selectors.conversations import visible_conversations
from retention.selectors.exemptions import hold_covers
from retention.selectors.settings import policy_durations
from retention.services.conversations import conversations_delete
from retention.services.deadlines import (
    conversation_deadline_expressions,
    refresh_auto_delete_deadlines,
)

BATCH_SIZE = 500
MAX_BATCHES = 1000


def auto_delete_due(*, now: datetime, user_id: int | None = None) -> QuerySet[Conversation]:
    """Conversations in a history whose auto-delete moment is at or before
    `now`: the owner has it on, is a consumer, and no active hold covers it.
    The SQL twin of retention.policy.auto_delete.auto_delete_due."""
    due = Conversation.objects.filter(
        deleted_at__isnull=True,
        user__auto_delete_months__isnull=False,
        user__account_type=AccountType.CONSUMER,
    )
    if user_id is not None:
        due = due.filter(user_id=user_id)
    return (
        due.annotate(auto_delete_at=AddMonths("last_activity_at", F("user__auto_delete_months")))
        .filter(auto_delete_at__lte=now)
        .filter(~hold_covers(conversation_ref="external_id"))
    )


def _auto_delete_batch(*, now: datetime, batch_size: int, user_id: int | None) -> tuple[int, int]:
    """One batch in one transaction: (rows claimed, conversations deleted)."""
    with transaction.atomic():
        claimed = list(
            auto_delete_due(now=now, user_id=user_id)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("pk")
            .values_list("pk", "user_id")[:batch_size]
        )
        by_owner: dict[int, list[int]] = {}
        for pk, owner in claimed:
            by_owner.setdefault(owner, []).append(pk)
        owners = User.objects.in_bulk(list(by_owner))
        deleted = sum(
            conversations_delete(
                user=owners[owner],
                conversations=Conversation.objects.filter(pk__in=pks),
                deleted_at=now,
            )
            for owner, pks in sorted(by_owner.items())
        )
    return len(claimed), deleted


def auto_delete_run(
    *,
    now: datetime,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
    user_id: int | None = None,
) -> int:
    """Delete every conversation due at `now` (only `user_id`'s when given),
    batch by batch. Returns how many this run deleted; running it again
    deletes nothing more."""
    total = 0
    for _ in range(max_batches):
        claimed, deleted = _auto_delete_batch(now=now, batch_size=batch_size, user_id=user_id)
        total += deleted
        if claimed < batch_size:
            break
    return total


@dataclass(frozen=True)
class AutoDeleteChosen:
    change: AutoDeleteChange | None  # None: the setting was already this
    deleted_now: int  # conversations past their moment, deleted at once


def auto_delete_choose(
    *, user: User, after_months: int | None, now: datetime | None = None
) -> AutoDeleteChosen:
    """The user's own choice (dashboard, /api/me/auto-delete): record it
    (accounts.services.auto_delete_record, which refuses commercial accounts
    and other periods), rewrite the dates of every conversation of the
    account at once, and delete those already past their moment, as the
    preview said. All in one transaction: nothing half-applied."""
    with transaction.atomic():
        change = auto_delete_record(user=user, after_months=after_months)
        if change is None:
            return AutoDeleteChosen(None, 0)
        refresh_auto_delete_deadlines(user.pk)
        deleted = 0
        if after_months is not None:
            deleted = auto_delete_run(now=now or timezone.now(), user_id=user.pk)
    return AutoDeleteChosen(change, deleted)


@dataclass(frozen=True)
class AutoDeleteChangePreview:
    """What choosing `after_months` would do to one account's history,
    counted in SQL with the rewrite's own expressions (nothing written).
    Holds stay unseen: the user's own dates (public_*) are compared."""

    due_now: int  # conversations in the history deleted at once on confirming
    earlier: int  # conversations whose date moves earlier
    later: int  # ... later (turning it off or choosing a longer period)


def auto_delete_months_value(after_months: int | None) -> Value:
    return Value(after_months, output_field=IntegerField())


def auto_delete_moments(
    conversations: QuerySet[Conversation], *, after_months: int | None
) -> QuerySet[Conversation]:
    """`conversations` annotated with `auto_delete_at` under `after_months`."""
    return conversations.annotate(
        auto_delete_at=AddMonths("last_activity_at", auto_delete_months_value(after_months))
    )


def auto_delete_change_preview(
    *, user_id: int, after_months: int | None, now: datetime
) -> AutoDeleteChangePreview:
    """One aggregate over the account's history."""
    new = conversation_deadline_expressions(
        policy_durations(), auto_delete_months=auto_delete_months_value(after_months)
    )
    counts = (
        auto_delete_moments(visible_conversations(user_id=user_id), after_months=after_months)
        .annotate(new_until=new["public_retain_until"])
        .aggregate(
            due_now=Count("pk", filter=Q(auto_delete_at__lte=now)),
            earlier=Count("pk", filter=Q(new_until__lt=F("public_retain_until"))),
            later=Count("pk", filter=Q(new_until__gt=F("public_retain_until"))),
        )
    )
    return AutoDeleteChangePreview(**counts)
