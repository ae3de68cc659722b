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
from django.utils.translation import gettext_lazy as _

from accounts.models import AppendOnlyModel
from accounts.roles import StaffRole


class DataKind(models.TextChoices):
    METADATA = "metadata", _("Account and conversation metadata")
    TITLES = "titles", _("Conversation titles")
    CONTENT = "content", _("Conversation content")
    NONE = "none", _("Nothing (denied)")


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
    # Set on a view of content: the grant (the row with the reason) it was
    # shown under. Only rows without one are grants, so a view cannot be used
    # to open a page again, nor make a grant last longer.
    grant = models.ForeignKey(
        "self", on_delete=models.DO_NOTHING, null=True, blank=True, related_name="views"
    )

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


class DeniedAccessWindow(models.Model):
    """How often one requester was refused one route within one window.

    The access log is append-only (triggers refuse UPDATE), so a refusal
    cannot be counted on its row. Instead the first refusal of a window is an
    ordinary access-log row (`first`) and the later ones only add to `count`
    here: this small table is a counter, not a record, and is the one place a
    count may change. Without it every refused request would be a row, and
    anyone signed in could grow the audit table without bound by requesting
    staff pages (staff.services.access_denied_record)."""

    first = models.OneToOneField(AccessLog, on_delete=models.DO_NOTHING, related_name="denials")
    requester = models.CharField(max_length=64)  # "user:<id>", else "client:<address>"
    route = models.CharField(max_length=200)  # the URL pattern, not the path
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=1)
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["requester", "route", "window_start"], name="denied_window_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.requester} refused {self.count}x on {self.route}"
