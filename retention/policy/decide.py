"""Decisions for one conversation and one feedback submission.

Precedence follows the rules table of docs/retention-rules.md: commercial, legal
hold, flagged, deleted, auto-delete, shared for training, not shared.
"""

from dataclasses import dataclass, field
from datetime import datetime

# The consent in force at a moment is the ledger's rule, defined once in
# accounts (pure, like this package); the policy only uses it.
from accounts.consent import ConsentEntry, consent_at
from retention.policy.article import Quote, quotes_for
from retention.policy.auto_delete import auto_delete_until
from retention.policy.dates import add_days, add_years

COMMERCIAL = "commercial"
LEGAL_HOLD = "legal_hold"
FLAGGED = "flagged"
DELETED = "deleted"
AUTO_DELETE = "auto_delete"
SHARED_TRAINING = "shared_training"
NOT_SHARED = "not_shared"
RULES = (COMMERCIAL, LEGAL_HOLD, FLAGGED, DELETED, AUTO_DELETE, SHARED_TRAINING, NOT_SHARED)


@dataclass(frozen=True)
class Durations:
    """The admin-editable durations; defaults are the article's."""

    not_shared_days: int = 30
    shared_training_years: int = 5
    deleted_days: int = 30
    flagged_content_years: int = 2
    flagged_scores_years: int = 7
    feedback_years: int = 5


@dataclass(frozen=True)
class ConversationFacts:
    last_activity_at: datetime
    shared_for_training: bool  # the basis: consent_at(ledger, last_activity_at)
    is_commercial: bool = False
    deleted_at: datetime | None = None
    flagged_at: datetime | None = None
    on_hold: bool = False
    consent_now: bool = False  # the owner's consent today, for future runs
    auto_delete_months: int | None = None  # the owner's auto-delete in force (None: off)


@dataclass(frozen=True)
class RetentionDecision:
    rule: str
    content_retain_until: datetime | None  # None: not purged under these rules
    scores_retain_until: datetime | None  # None: no scores, or not purged
    future_training: bool
    explanation: tuple[Quote, ...]
    # Which rule's duration set content_retain_until: the rule itself, except
    # a deleted conversation whose own earlier date came first (then the rule
    # below deletion: shared_training or not_shared). Pages say why a date is
    # what it is from this, never by recomputing the rule.
    decided_by: str = field(default="", compare=False)
    # The decision shown to the user: a legal hold is never revealed to them.
    masked: "RetentionDecision | None" = field(default=None, repr=False, compare=False)

    @property
    def for_user(self) -> "RetentionDecision":
        return self.masked or self


def _base_content_deadline(facts: ConversationFacts, durations: Durations) -> tuple[str, datetime]:
    if facts.shared_for_training:
        return SHARED_TRAINING, add_years(facts.last_activity_at, durations.shared_training_years)
    return NOT_SHARED, add_days(facts.last_activity_at, durations.not_shared_days)


def _training_quotes(facts: ConversationFacts) -> tuple[Quote, ...]:
    if facts.shared_for_training and not facts.consent_now:
        return quotes_for("training_consent_off")
    return ()


def _quotes(topic: str, durations: Durations) -> tuple[Quote, ...]:
    """The article's sentences for `topic`, stating the durations in force."""
    return quotes_for(topic, durations)


def decide_conversation(
    facts: ConversationFacts, durations: Durations = Durations()
) -> RetentionDecision:
    if facts.is_commercial:
        return RetentionDecision(
            COMMERCIAL, None, None, False, _quotes(COMMERCIAL, durations), decided_by=COMMERCIAL
        )

    future_training = facts.shared_for_training and facts.deleted_at is None and facts.consent_now
    scores_until = (
        add_years(facts.flagged_at, durations.flagged_scores_years) if facts.flagged_at else None
    )
    base_rule, base_until = _base_content_deadline(facts, durations)
    # Auto-delete only ever brings a date forward (retention.policy.auto_delete).
    auto_until = auto_delete_until(
        facts.last_activity_at, facts.auto_delete_months, durations.deleted_days
    )

    if facts.flagged_at is not None:
        # Flagged content is kept 2 years from the flag, deletion included.
        decision = RetentionDecision(
            FLAGGED,
            add_years(facts.flagged_at, durations.flagged_content_years),
            scores_until,
            future_training,
            _quotes(FLAGGED, durations) + (_quotes(DELETED, durations) if facts.deleted_at else ()),
            decided_by=FLAGGED,
        )
    elif facts.deleted_at is not None:
        own_until = add_days(facts.deleted_at, durations.deleted_days)
        deleted_until = min(base_until, own_until)
        decided_by = base_rule if base_until < own_until else DELETED
        if auto_until is not None and auto_until < deleted_until:
            deleted_until, decided_by = auto_until, AUTO_DELETE
        decision = RetentionDecision(
            DELETED,
            deleted_until,
            None,
            False,
            _quotes(DELETED, durations) + _quotes(base_rule, durations),
            decided_by=decided_by,
        )
    elif auto_until is not None and auto_until < base_until:
        # The article has no sentence of its own for the user's setting: the
        # deletion sentences say what happens at its moment.
        decision = RetentionDecision(
            AUTO_DELETE,
            auto_until,
            None,
            future_training,
            _quotes(DELETED, durations) + _training_quotes(facts),
            decided_by=AUTO_DELETE,
        )
    else:
        decision = RetentionDecision(
            base_rule,
            base_until,
            None,
            future_training,
            _quotes(base_rule, durations) + _training_quotes(facts),
            decided_by=base_rule,
        )

    if facts.on_hold:
        return RetentionDecision(
            LEGAL_HOLD,
            None,
            None,
            decision.future_training,
            _quotes(LEGAL_HOLD, durations),
            decided_by=LEGAL_HOLD,
            masked=decision,
        )
    return decision


@dataclass(frozen=True)
class FeedbackFacts:
    submitted_at: datetime
    is_commercial: bool = False
    on_hold: bool = False


@dataclass(frozen=True)
class FeedbackDecision:
    retain_until: datetime | None  # what the purge obeys
    public_retain_until: datetime  # what the user is shown
    explanation: tuple[Quote, ...]


def decide_feedback(facts: FeedbackFacts, durations: Durations = Durations()) -> FeedbackDecision:
    public = add_years(facts.submitted_at, durations.feedback_years)
    effective = None if (facts.is_commercial or facts.on_hold) else public
    return FeedbackDecision(effective, public, _quotes("feedback", durations))


__all__ = [
    "AUTO_DELETE",
    "RULES",
    "ConsentEntry",
    "ConversationFacts",
    "Durations",
    "FeedbackDecision",
    "FeedbackFacts",
    "RetentionDecision",
    "consent_at",
    "decide_conversation",
    "decide_feedback",
]
