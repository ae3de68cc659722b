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

SETTINGS_ROW = 1


def policy_settings() -> PolicySettings:
    """The one settings row. A read never writes: without the row (migration
    retention 0002 creates it) the article's defaults, unsaved."""
    return PolicySettings.objects.filter(pk=SETTINGS_ROW).first() or PolicySettings(pk=SETTINGS_ROW)


def policy_durations() -> Durations:
    row = policy_settings()
    return Durations(**{name: getattr(row, name) for name in DURATION_FIELDS})
