"""Rewrites stored deadlines from the facts on the rows, in one UPDATE per table.

This is the SQL twin of retention.policy.decide (tests/retention/
test_deadlines_sql.py holds both to the same answers). Every service that
changes a fact calls one of these on the rows it touched; a settings change
calls them on everything.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, Count, Expression, F, Q, QuerySet, Value, When
from django.db.models.functions import Least

from accounts.data_version import data_version_bump_all
from retention.db_functions import AddDays, AddYears
from retention.models import Conversation, Feedback, Flag, Rule
from retention.policy import Durations
from retention.selectors.exemptions import hold_covers, owner_is_commercial
from retention.selectors.settings import policy_durations

_NULL_DATETIME = Value(None, output_field=Conversation._meta.get_field("retain_until"))


def conversation_deadline_expressions(d: Durations) -> dict[str, Expression]:
    """The columns a conversation's deadlines are rewritten to, under
    durations `d`: rule, retain_until, public_rule, public_retain_until."""
    commercial = owner_is_commercial()
    held = hold_covers(conversation_ref="external_id")
    base_until = Case(
        When(shared_for_training=True, then=AddYears("last_activity_at", d.shared_training_years)),
        default=AddDays("last_activity_at", d.not_shared_days),
    )
    public_rule = Case(
        When(commercial, then=Value(Rule.COMMERCIAL)),
        When(flagged_at__isnull=False, then=Value(Rule.FLAGGED)),
        When(deleted_at__isnull=False, then=Value(Rule.DELETED)),
        When(shared_for_training=True, then=Value(Rule.SHARED_TRAINING)),
        default=Value(Rule.NOT_SHARED),
    )
    public_until = Case(
        When(commercial, then=_NULL_DATETIME),
        When(flagged_at__isnull=False, then=AddYears("flagged_at", d.flagged_content_years)),
        When(
            deleted_at__isnull=False,
            then=Least(base_until, AddDays("deleted_at", d.deleted_days)),
        ),
        default=base_until,
    )
    return {
        "public_rule": public_rule,
        "public_retain_until": public_until,
        "rule": Case(
            When(commercial, then=Value(Rule.COMMERCIAL)),
            When(held, then=Value(Rule.LEGAL_HOLD)),
            default=public_rule,
        ),
        "retain_until": Case(
            When(commercial, then=_NULL_DATETIME),
            When(held, then=_NULL_DATETIME),
            default=public_until,
        ),
    }


def flag_deadline_expressions(d: Durations) -> dict[str, Expression]:
    return {
        "scores_retain_until": Case(
            When(owner_is_commercial(), then=_NULL_DATETIME),
            When(hold_covers(conversation_ref="conversation_external_id"), then=_NULL_DATETIME),
            default=AddYears("flagged_at", d.flagged_scores_years),
        )
    }


def feedback_deadline_expressions(d: Durations) -> dict[str, Expression]:
    public_until = AddYears("submitted_at", d.feedback_years)
    return {
        "public_retain_until": public_until,
        "retain_until": Case(
            When(owner_is_commercial(), then=_NULL_DATETIME),
            When(hold_covers(conversation_ref="conversation_external_id"), then=_NULL_DATETIME),
            default=public_until,
        ),
    }


def refresh_conversation_deadlines(conversations: QuerySet[Conversation]) -> int:
    """Recompute rule and retain-until (effective and user-facing) for the
    given conversations. Returns the number of rows updated."""
    return conversations.update(**conversation_deadline_expressions(policy_durations()))


def refresh_flag_deadlines(flags: QuerySet[Flag]) -> int:
    return flags.update(**flag_deadline_expressions(policy_durations()))


def refresh_feedback_deadlines(feedback: QuerySet[Feedback]) -> int:
    return feedback.update(**feedback_deadline_expressions(policy_durations()))


def refresh_account_deadlines(user_id: int) -> None:
    """Everything of one account: after an account-level fact changes
    (account type, an account-wide hold)."""
    refresh_conversation_deadlines(Conversation.objects.filter(user_id=user_id))
    refresh_flag_deadlines(Flag.objects.filter(user_id=user_id))
    refresh_feedback_deadlines(Feedback.objects.filter(user_id=user_id))


def refresh_all_deadlines() -> None:
    """After a settings change: every stored deadline, in three UPDATEs."""
    data_version_bump_all()
    refresh_conversation_deadlines(Conversation.objects.all())
    refresh_flag_deadlines(Flag.objects.all())
    refresh_feedback_deadlines(Feedback.objects.all())


@dataclass(frozen=True)
class DeadlinePreview:
    """What a settings change would do to the stored deadlines."""

    moved: int  # conversations, score sets and feedback whose deadline moves
    due_at_once: int  # ... that the change makes due now: the next purge run removes them

    @property
    def purges(self) -> bool:
        return self.due_at_once > 0


def deadline_change_preview(*, durations: Durations, now: datetime) -> DeadlinePreview:
    """The deadlines a change to `durations` would move, and how many items it
    would make due at `now`, counted in SQL with the very expressions the
    rewrite uses (nothing is written). Due as the purge sees it: a new
    effective deadline at or before `now` where the stored one is later (or
    none); scores only once their content is gone."""
    moved = due = 0
    for queryset, expressions, deadline, public, extra in (
        (
            Conversation.objects.all(),
            conversation_deadline_expressions(durations),
            "retain_until",
            "public_retain_until",
            Q(),
        ),
        (
            Flag.objects.all(),
            flag_deadline_expressions(durations),
            "scores_retain_until",
            None,
            Q(conversation__isnull=True),
        ),
        (
            Feedback.objects.all(),
            feedback_deadline_expressions(durations),
            "retain_until",
            "public_retain_until",
            Q(),
        ),
    ):
        annotated = queryset.annotate(
            new_deadline=expressions[deadline],
            **({"new_public": expressions[public]} if public else {}),
        )
        changed = ~Q(new_deadline=F(deadline))
        if public:
            changed |= ~Q(new_public=F(public))
        counts = annotated.aggregate(
            moved=Count("pk", filter=changed),
            due=Count(
                "pk",
                filter=extra
                & Q(new_deadline__lte=now)
                & (Q(**{f"{deadline}__isnull": True}) | Q(**{f"{deadline}__gt": now})),
            ),
        )
        moved += counts["moved"]
        due += counts["due"]
    return DeadlinePreview(moved=moved, due_at_once=due)
