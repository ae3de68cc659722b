"""The training-consent preview (real counts) and the consent history."""

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.utils.translation import ngettext

from accounts.models import ConsentChange, ConsentSource, User
from accounts.selectors import consent_current
from dashboard.presentation import ShownDate, shown_date
from dashboard.selectors.common import RULE_LABELS, USER_RULES, history_counts
from dashboard.selectors.policy import article_version_labels
from retention.models import TrainingRunConversation
from retention.selectors.decisions import decision_for_new_activity
from retention.selectors.settings import policy_durations


class RulePart(NamedTuple):
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class ConsentPreview:
    allowed: bool  # the value the user is about to choose
    # The value is already the user's setting: the preview says so and
    # offers nothing to confirm (and counts nothing).
    already: bool
    new_rule: str = ""
    new_rule_label: str = ""
    new_retention: str = ""  # "up to 5 years after their last message"
    example_until: ShownDate | None = None
    stay_in_runs: int = 0  # conversations used by runs already started: they stay there
    # Stored conversations shared for training (future runs stop or resume
    # using them) and not shared, each split by the rule the history lists
    # them under, so the total visibly adds up to the overview's rows.
    shared_stored: int = 0
    shared_parts: tuple[RulePart, ...] = ()
    not_shared_stored: int = 0
    not_shared_parts: tuple[RulePart, ...] = ()


def _parts(by_rule: dict[str, int]) -> tuple[RulePart, ...]:
    return tuple(
        RulePart(rule.value, RULE_LABELS[rule], by_rule[rule.value])
        for rule in USER_RULES
        if by_rule.get(rule.value)
    )


def consent_preview(*, user: User, allowed: bool, now: datetime) -> ConsentPreview:
    """What changes if the consent becomes `allowed`, with real counts (two
    queries, or one when `allowed` is already the setting). Flipping consent
    rewrites no conversation: only new or resumed activity takes the new rule.
    The counts come from the overview's own aggregate (history_counts)."""
    current = consent_current(user_id=user.pk, at=now)
    if (current is not None and current.allowed) == allowed:
        return ConsentPreview(allowed=allowed, already=True)
    d = policy_durations()
    # What a conversation active now would get: the policy's own answer.
    example = decision_for_new_activity(allowed=allowed, at=now, durations=d)
    if allowed:
        retention = ngettext(
            "up to %(n)d year after their last message",
            "up to %(n)d years after their last message",
            d.shared_training_years,
        ) % {"n": d.shared_training_years}
    else:
        retention = ngettext(
            "up to %(n)d day after their last message",
            "up to %(n)d days after their last message",
            d.not_shared_days,
        ) % {"n": d.not_shared_days}
    counts = history_counts(user_id=user.pk, with_basis=True)
    stay = (
        TrainingRunConversation.objects.filter(user=user, run__started_at__lte=now)
        .values("conversation_external_id")
        .distinct()
        .count()
    )
    return ConsentPreview(
        allowed=allowed,
        already=False,
        new_rule=example.rule,
        new_rule_label=RULE_LABELS[example.rule],
        new_retention=retention,
        example_until=shown_date(example.content_retain_until, now),
        stay_in_runs=stay,
        shared_stored=counts.shared,
        shared_parts=_parts(counts.shared_by_rule),
        not_shared_stored=counts.not_shared,
        not_shared_parts=_parts(counts.not_shared_by_rule),
    )


@dataclass(frozen=True)
class ConsentHistoryRow:
    allowed: bool
    effective_at: ShownDate
    source: str
    # The article the choice was made under, as a person reads it ("the
    # version of 3 December 2026"): never its internal version code.
    article_version: str


def consent_history(*, user: User, now: datetime, limit: int = 200) -> list[ConsentHistoryRow]:
    source_labels = dict(ConsentSource.choices)
    changes = list(ConsentChange.objects.filter(user=user).order_by("-effective_at", "-id")[:limit])
    versions = article_version_labels({c.article_version for c in changes})
    return [
        ConsentHistoryRow(
            c.allowed,
            shown_date(c.effective_at, now),
            source_labels.get(c.source, c.source),
            versions.get(c.article_version, ""),
        )
        for c in changes
    ]
