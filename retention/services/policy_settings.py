"""Changes to the policy durations: recorded, every deadline rewritten, and a
new version of the article published stating the new values."""

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from retention.models import PolicySettingChange, PolicySettings
from retention.policy.article import change_text
from retention.selectors.settings import DURATION_FIELDS, policy_durations
from retention.services.deadlines import refresh_all_deadlines
from retention.services.documents import policy_document_publish


class SettingsError(ValueError):
    pass


@transaction.atomic
def policy_settings_update(
    *, changes: dict[str, int], changed_by: User | None
) -> list[PolicySettingChange]:
    """Apply new durations. Each changed value is recorded (who, when, old,
    new), all stored deadlines are recomputed in bulk SQL, and a new version
    of the article is published, stating the new values and what changed."""
    unknown = set(changes) - set(DURATION_FIELDS)
    if unknown:
        raise SettingsError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
    for name, value in changes.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100 * 366:
            raise SettingsError(f"{name} must be a whole number from 1 to 36600.")
    row, _ = PolicySettings.objects.select_for_update().get_or_create(pk=1)
    recorded = []
    for name, value in changes.items():
        old = getattr(row, name)
        if old != value:
            recorded.append(
                PolicySettingChange.objects.create(
                    field=name, old_value=old, new_value=value, changed_by=changed_by
                )
            )
            setattr(row, name, value)
    if recorded:
        row.updated_at = timezone.now()
        row.save()
        refresh_all_deadlines()
        policy_document_publish(
            durations=policy_durations(),
            changes="; ".join(change_text(c.field, c.old_value, c.new_value) for c in recorded),
            effective_at=row.updated_at,
        )
    return recorded
