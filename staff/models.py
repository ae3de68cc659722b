"""The staff access log: who from the company looked at whose data, and why.

Written by the support console and by admin pages that show a user's
conversation content or titles; denied attempts are logged too. End users see
the granted rows about their own account (role, time, reason; never the
staff member's name). Append-only, like the consent ledger.

The table is still `support_accesslog`: the model moved here from the support
app (staff 0001, support 0004) without touching the rows.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import AppendOnlyModel
from accounts.roles import StaffRole


class DataKind(models.TextChoices):
    METADATA = "metadata", "Account and conversation metadata"
    TITLES = "titles", "Conversation titles"
    CONTENT = "content", "Conversation content"
    NONE = "none", "Nothing (denied)"


class Outcome(models.TextChoices):
    GRANTED = "granted", "Granted"
    DENIED = "denied", "Denied"


class AccessLog(AppendOnlyModel):
    at = models.DateTimeField(default=timezone.now)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
    )
    role = models.CharField(max_length=16, choices=StaffRole.choices)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="staff_accesses",
    )
    reason = models.CharField(max_length=500, blank=True)
    data_kind = models.CharField(max_length=16, choices=DataKind.choices)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.GRANTED)
    path = models.CharField(max_length=500, blank=True)
    method = models.CharField(max_length=8, blank=True)

    class Meta:
        db_table = "support_accesslog"
        ordering = ["-at", "-id"]
        permissions = [("use_console", "Can use the support console (read-only account lookups)")]
        indexes = [
            models.Index(fields=["account", "-at"], name="access_account_at_idx"),
            models.Index(fields=["-at"], name="access_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.get_outcome_display().lower()} @ {self.at:%Y-%m-%d %H:%M}"
