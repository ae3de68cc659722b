"""Django admin for the ingest bookkeeping: which event ids were applied."""

from django.contrib import admin

from ingest.models import IngestedEvent
from staff.admin_tools import PortalModelAdmin, ReadOnlyAdminMixin


@admin.register(IngestedEvent)
class IngestedEventAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    account_lookup = None
    exact_search_fields = ("event_id",)
    search_help_text = "Exact event id."
    list_display = ("event_id", "type", "received_at")
    list_filter = ("type",)
    ordering = ("-received_at",)
