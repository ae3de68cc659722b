"""The training-consent preview (real counts) and the consent history."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from accounts.models import ConsentChange, ConsentSource, User
from dashboard.presentation import (
    ShownDate,
    shown_date,
)
from dashboard.selectors.common import RULE_LABELS
from retention.models import TrainingRunConversation
from retention.selectors.conversations import visible_conversations
from retention.selectors.decisions import decision_for_new_activity
from retention.selectors.settings import policy_durations


@dataclass(frozen=True)
class ConsentPreview:
    allowed: bool  # the value the user is about to choose
    new_rule: str
    new_rule_label: str
    new_retention: str  # "up to 5 years after their last message"
    example_until: ShownDate
    stay_in_runs: int  # conversations used by runs already started: they stay there
    shared_stored: int  # stored shared conversations future runs stop (or resume) using
    not_shared_stored: int


def consent_preview(*, user: User, allowed: bool, now: datetime) -> ConsentPreview:
    """What changes if the consent becomes `allowed`, with real counts (two
    queries). Flipping consent rewrites no conversation: only new or resumed
    activity takes the new rule."""
    d = policy_durations()
    # What a conversation active now would get: the policy's own answer.
    example = decision_for_new_activity(allowed=allowed, at=now, durations=d)
    if allowed:
        retention = f"up to {d.shared_training_years} years after their last message"
    else:
        retention = f"up to {d.not_shared_days} days after their last message"
    counts = visible_conversations(user_id=user.pk).aggregate(
        shared=Count("pk", filter=Q(shared_for_training=True)),
        not_shared=Count("pk", filter=Q(shared_for_training=False)),
    )
    stay = (
        TrainingRunConversation.objects.filter(user=user, run__started_at__lte=now)
        .values("conversation_external_id")
        .distinct()
        .count()
    )
    return ConsentPreview(
        allowed=allowed,
        new_rule=example.rule,
        new_rule_label=RULE_LABELS[example.rule],
        new_retention=retention,
        example_until=shown_date(example.content_retain_until, now),
        stay_in_runs=stay,
        shared_stored=counts["shared"],
        not_shared_stored=counts["not_shared"],
    )


@dataclass(frozen=True)
class ConsentHistoryRow:
    allowed: bool
    effective_at: ShownDate
    source: str
    article_version: str


def consent_history(*, user: User, now: datetime, limit: int = 200) -> list[ConsentHistoryRow]:
    source_labels = dict(ConsentSource.choices)
    return [
        ConsentHistoryRow(
            c.allowed,
            shown_date(c.effective_at, now),
            source_labels.get(c.source, c.source),
            c.article_version,
        )
        for c in ConsentChange.objects.filter(user=user).order_by("-effective_at", "-id")[:limit]
    ]
