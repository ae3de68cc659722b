"""The policy settings in force, as the pure policy's Durations."""

from retention.models import PolicySettings
from retention.policy import Durations

DURATION_FIELDS = (
    "not_shared_days",
    "shared_training_years",
    "deleted_days",
    "flagged_content_years",
    "flagged_scores_years",
    "feedback_years",
)


def policy_settings() -> PolicySettings:
    """The one settings row, created with the article's defaults if missing."""
    settings_row, _ = PolicySettings.objects.get_or_create(pk=1)
    return settings_row


def policy_durations() -> Durations:
    row = policy_settings()
    return Durations(**{name: getattr(row, name) for name in DURATION_FIELDS})
