"""The retention policy as pure functions: facts in, decision out.

Nothing in this package touches the database, so every rule of
docs/retention-rules.md is testable with plain values. Services store what these
functions decide; `retention.db_functions` mirrors them in SQL for bulk
rewrites, and a test holds the two to the same answers.
"""

from retention.policy.article import ARTICLE, Quote, quotes_for
from retention.policy.dates import add_days, add_years
from retention.policy.decide import (
    ConsentEntry,
    ConversationFacts,
    Durations,
    FeedbackFacts,
    RetentionDecision,
    consent_at,
    decide_conversation,
    decide_feedback,
)

__all__ = [
    "ARTICLE",
    "ConsentEntry",
    "ConversationFacts",
    "Durations",
    "FeedbackFacts",
    "Quote",
    "RetentionDecision",
    "add_days",
    "add_years",
    "consent_at",
    "decide_conversation",
    "decide_feedback",
    "quotes_for",
]
