"""Django admin for connected systems: privacy admins register, edit,
rotate, disable and enable systems, see each one's delivery health, its dead
letters (with "retry now") and its keys (with "revoke").

A new system's secret and key, and those a rotation issues, are shown on the
page that answers the save or the action (rendered, not stored in a message
or the session) and never again.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from connected.credentials import SCOPES
from connected.events import EVENT_TYPES
from connected.models import ApiKey, ConnectedSystem, Delivery, DeliveryState
from connected.selectors import systems_with_backlog
from connected.services.delivery import deliveries_retry
from connected.services.systems import (
    SystemRefused,
    api_keys_revoke,
    system_enable,
    system_register,
    system_rotate,
    system_update,
    url_check,
)
from staff.admin_tools import PortalModelAdmin, PrivacyAdminOnlyMixin

_EVENT_CHOICES = [(t, t) for t in EVENT_TYPES]


class ConnectedSystemForm(forms.ModelForm):
    events = forms.MultipleChoiceField(choices=_EVENT_CHOICES, widget=forms.CheckboxSelectMultiple)
    scopes = forms.MultipleChoiceField(
        choices=[(s, s) for s in SCOPES],
        initial=list(SCOPES),
        widget=forms.CheckboxSelectMultiple,
        help_text="What the API key may call (at creation; a rotation keeps them).",
    )

    class Meta:
        model = ConnectedSystem
        fields = ("name", "url", "events", "confirms_erasure")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields.pop("scopes")

    def clean_url(self):
        try:
            return url_check(self.cleaned_data["url"])
        except SystemRefused as exc:
            raise forms.ValidationError(str(exc)) from None


def _credentials_page(modeladmin, request, issued, title) -> TemplateResponse:
    return TemplateResponse(
        request,
        "admin/connected/credentials.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "issued": issued,
            "opts": modeladmin.model._meta,
        },
    )


@admin.register(ConnectedSystem)
class ConnectedSystemAdmin(PrivacyAdminOnlyMixin, PortalModelAdmin):
    privacy_admin_may_edit = True
    form = ConnectedSystemForm
    account_lookup = None
    exact_search_fields = ("name",)
    search_help_text = "Exact name."
    list_display = (
        "name",
        "enabled",
        "endpoint",
        "confirms_erasure",
        "last_delivery_at",
        "last_error_short",
        "backlog",
        "oldest_pending",
        "dead_letter_link",
    )
    list_filter = ("enabled", "confirms_erasure")
    readonly_fields = ("enabled", "created_at", "last_delivery_at", "last_error", "last_error_at")
    actions = ("rotate", "disable", "enable", "revoke_old_keys")

    def get_queryset(self, request):
        return systems_with_backlog()

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "name") if obj else self.readonly_fields

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "url", "events", "confirms_erasure", "scopes")
        return ("name", "url", "events", "confirms_erasure", *self.readonly_fields)

    @admin.display(description="endpoint")
    def endpoint(self, obj):
        return obj.url or "(pulls the feed)"

    @admin.display(description="last error")
    def last_error_short(self, obj):
        return obj.last_error[:80]

    @admin.display(description="backlog", ordering="backlog")
    def backlog(self, obj):
        return obj.backlog

    @admin.display(description="oldest pending", ordering="oldest_pending")
    def oldest_pending(self, obj):
        return obj.oldest_pending

    @admin.display(description="dead letters", ordering="dead_letters")
    def dead_letter_link(self, obj):
        url = (
            reverse("admin:connected_delivery_changelist")
            + "?"
            + urlencode({"system__id__exact": obj.pk, "state__exact": DeliveryState.DEAD})
        )
        return format_html('<a href="{}">{}</a>', url, obj.dead_letters)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                system_update(
                    system=obj,
                    url=data["url"],
                    events=data["events"],
                    confirms_erasure=data["confirms_erasure"],
                )
                return
            system, credentials = system_register(
                name=data["name"],
                url=data["url"],
                events=data["events"],
                confirms_erasure=data["confirms_erasure"],
                scopes=data["scopes"],
            )
        except SystemRefused as exc:
            # The form validated what it could; the service has the last word.
            raise forms.ValidationError(str(exc)) from exc
        obj.pk = system.pk
        obj._state.adding = False
        request._connected_issued = [credentials]

    def response_add(self, request, obj, post_url_continue=None):
        issued = getattr(request, "_connected_issued", None)
        if issued:
            return _credentials_page(self, request, issued, f"{obj.name}: secret and key")
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description="Rotate the signing secret and API key (shows the new ones once)")
    def rotate(self, request: HttpRequest, queryset: QuerySet):
        issued = [system_rotate(system_id=pk) for pk in queryset.values_list("pk", flat=True)]
        for credentials in issued:
            self.log_change(
                request, ConnectedSystem.objects.get(pk=credentials.system_id), "Rotated"
            )
        return _credentials_page(self, request, issued, "New secrets and keys")

    @admin.action(description="Disable (send nothing, refuse its keys)")
    def disable(self, request: HttpRequest, queryset: QuerySet):
        for pk in queryset.values_list("pk", flat=True):
            system_enable(system_id=pk, enabled=False)
        self.message_user(request, f"Disabled: {queryset.count()}.", messages.SUCCESS)

    @admin.action(description="Enable")
    def enable(self, request: HttpRequest, queryset: QuerySet):
        for pk in queryset.values_list("pk", flat=True):
            system_enable(system_id=pk, enabled=True)
        self.message_user(request, f"Enabled: {queryset.count()}.", messages.SUCCESS)

    @admin.action(description="Revoke every API key but the newest (end of a rotation)")
    def revoke_old_keys(self, request: HttpRequest, queryset: QuerySet):
        revoked = sum(api_keys_revoke(system_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"Keys revoked: {revoked}.", messages.SUCCESS)


@admin.register(Delivery)
class DeliveryAdmin(PrivacyAdminOnlyMixin, PortalModelAdmin):
    """Every event's delivery to every system; filter on "Dead letter" for
    the dead letters of a system, and retry them."""

    account_lookup = None
    exact_search_fields = ("event__public_id", "account")
    search_help_text = "Exact event id (evt_…) or account external id."
    list_display = (
        "event_id_public",
        "event_type",
        "system",
        "account",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "delivered_at",
        "confirmed_at",
    )
    list_filter = ("state", "system")
    list_select_related = ("event", "system")
    ordering = ("-seq",)
    actions = ("retry_now",)

    @admin.display(description="event")
    def event_id_public(self, obj):
        return obj.event.public_id

    @admin.display(description="type")
    def event_type(self, obj):
        return obj.event.type

    @admin.action(description="Retry now (dead letters)")
    def retry_now(self, request: HttpRequest, queryset: QuerySet):
        count = deliveries_retry(delivery_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request, f"Queued again: {count} (only dead letters are retried).", messages.SUCCESS
        )


@admin.register(ApiKey)
class ApiKeyAdmin(PrivacyAdminOnlyMixin, PortalModelAdmin):
    account_lookup = None
    exact_search_fields = ("prefix",)
    search_help_text = "Exact key prefix (its first 12 characters)."
    list_display = ("system", "prefix", "scopes", "created_at", "revoked_at")
    list_filter = ("system",)
    list_select_related = ("system",)
    exclude = ("key_hash",)
    ordering = ("-created_at", "-pk")
