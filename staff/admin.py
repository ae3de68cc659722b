"""Django admin for the staff access log: read-only for everyone."""

from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist

from staff.admin_tools import PortalModelAdmin, ReadOnlyAdminMixin
from staff.models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    account_lookup = "account"
    list_display = (
        "at",
        "role",
        "staff",
        "account",
        "data_kind",
        "outcome",
        "times",
        "reason",
        "path",
    )
    list_filter = ("outcome", "role", "data_kind")
    list_select_related = ("staff", "account", "denials")
    raw_id_fields = ("staff", "account")
    ordering = ("-at", "-id")

    @admin.display(description="Times")
    def times(self, obj: AccessLog) -> int:
        """A refusal counts the refusals of its window (DeniedAccessWindow)."""
        try:
            return obj.denials.count
        except ObjectDoesNotExist:
            return 1
