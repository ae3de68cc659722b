"""Rewrites stored deadlines from the facts on the rows, in one UPDATE per table.

This is the SQL twin of retention.policy.decide (tests/retention/
test_deadlines_sql.py holds both to the same answers). Every service that
changes a fact calls one of these on the rows it touched; a settings change
calls them on everything.
"""

from django.db.models import Case, QuerySet, Value, When
from django.db.models.functions import Least

from retention.db_functions import AddDays, AddYears
from retention.models import Conversation, Feedback, Flag, Rule
from retention.selectors.exemptions import hold_covers, owner_is_commercial
from retention.selectors.settings import policy_durations

_NULL_DATETIME = Value(None, output_field=Conversation._meta.get_field("retain_until"))


def refresh_conversation_deadlines(conversations: QuerySet[Conversation]) -> int:
    """Recompute rule and retain-until (effective and user-facing) for the
    given conversations. Returns the number of rows updated."""
    d = policy_durations()
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
    return conversations.update(
        public_rule=public_rule,
        public_retain_until=public_until,
        rule=Case(
            When(commercial, then=Value(Rule.COMMERCIAL)),
            When(held, then=Value(Rule.LEGAL_HOLD)),
            default=public_rule,
        ),
        retain_until=Case(
            When(commercial, then=_NULL_DATETIME),
            When(held, then=_NULL_DATETIME),
            default=public_until,
        ),
    )


def refresh_flag_deadlines(flags: QuerySet[Flag]) -> int:
    d = policy_durations()
    return flags.update(
        scores_retain_until=Case(
            When(owner_is_commercial(), then=_NULL_DATETIME),
            When(hold_covers(conversation_ref="conversation_external_id"), then=_NULL_DATETIME),
            default=AddYears("flagged_at", d.flagged_scores_years),
        )
    )


def refresh_feedback_deadlines(feedback: QuerySet[Feedback]) -> int:
    d = policy_durations()
    public_until = AddYears("submitted_at", d.feedback_years)
    return feedback.update(
        public_retain_until=public_until,
        retain_until=Case(
            When(owner_is_commercial(), then=_NULL_DATETIME),
            When(hold_covers(conversation_ref="conversation_external_id"), then=_NULL_DATETIME),
            default=public_until,
        ),
    )


def refresh_account_deadlines(user_id: int) -> None:
    """Everything of one account: after an account-level fact changes
    (account type, an account-wide hold)."""
    refresh_conversation_deadlines(Conversation.objects.filter(user_id=user_id))
    refresh_flag_deadlines(Flag.objects.filter(user_id=user_id))
    refresh_feedback_deadlines(Feedback.objects.filter(user_id=user_id))


def refresh_all_deadlines() -> None:
    """After a settings change: every stored deadline, in three UPDATEs."""
    refresh_conversation_deadlines(Conversation.objects.all())
    refresh_flag_deadlines(Flag.objects.all())
    refresh_feedback_deadlines(Feedback.objects.all())
