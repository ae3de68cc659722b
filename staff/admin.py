"""Django admin for the staff access log: read-only for everyone."""

from django.contrib import admin

from staff.admin_tools import PortalModelAdmin, ReadOnlyAdminMixin
from staff.models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    account_lookup = "account"
    list_display = ("at", "role", "staff", "account", "data_kind", "outcome", "reason", "path")
    list_filter = ("outcome", "role", "data_kind")
    list_select_related = ("staff", "account")
    raw_id_fields = ("staff", "account")
    ordering = ("-at", "-id")
