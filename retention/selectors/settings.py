"""The policy settings in force, as the pure policy's Durations."""

from django.db.models import QuerySet

from retention.models import PolicySettingChange, PolicySettings
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


def policy_setting_changes(*, limit: int = 50) -> QuerySet[PolicySettingChange]:
    """The latest changes of the durations, newest first, with who made them."""
    return PolicySettingChange.objects.select_related("changed_by")[:limit]
