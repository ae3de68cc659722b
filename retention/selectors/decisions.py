"""What the user sees of a decision: the pure policy asked with the stored
facts, a legal hold always masked. Every read path that explains a date or
a rule (the pages, /api/me/, the export, the consent preview) asks here
rather than recomputing part of a rule."""

from datetime import datetime

from accounts.models import User
from retention.models import Conversation
from retention.policy import ConversationFacts, Durations, RetentionDecision, decide_conversation


def decision_for_user(
    conversation: Conversation, *, owner: User, consent_now: bool, durations: Durations
) -> RetentionDecision:
    """The decision the owner is shown: on_hold is always False here, because
    a hold must never be revealed (the stored public_* columns mask it too).
    The owner's facts (commercial or not, the auto-delete in force) are read
    from `owner`, so no caller can pass a different one and show a date the
    stored one disagrees with."""
    facts = ConversationFacts(
        last_activity_at=conversation.last_activity_at,
        shared_for_training=conversation.shared_for_training,
        is_commercial=owner.is_commercial,
        deleted_at=conversation.deleted_at,
        flagged_at=conversation.flagged_at,
        on_hold=False,
        consent_now=consent_now,
        auto_delete_months=owner.auto_delete_months,
    )
    return decide_conversation(facts, durations).for_user


def decision_for_new_activity(
    *, allowed: bool, at: datetime, durations: Durations
) -> RetentionDecision:
    """The decision a conversation active at `at` would get under consent
    `allowed` (the consent preview's example)."""
    facts = ConversationFacts(last_activity_at=at, shared_for_training=allowed, consent_now=allowed)
    return decide_conversation(facts, durations)
