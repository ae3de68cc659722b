"""Admin of the policy: the article as loaded, its durations (edited here,
through retention.services.policy_settings) with their history, and the
training runs that used conversations."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Count
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from retention.models import (
    PolicyDocument,
    PolicySection,
    PolicySettingChange,
    PolicySettings,
    TrainingRun,
    TrainingRunConversation,
)
from retention.policy import Durations
from retention.selectors.settings import DURATION_FIELDS, policy_setting_changes
from retention.services.deadlines import deadline_change_preview
from retention.services.policy_settings import policy_settings_update
from staff.admin_tools import PortalModelAdmin, ReadOnlyAdminMixin


@admin.register(TrainingRun)
class TrainingRunAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    account_lookup = None
    exact_search_fields = ("external_id",)
    list_display = ("name", "external_id", "started_at", "registered_at", "conversations_used")
    ordering = ("-started_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(conversations_count=Count("uses"))

    @admin.display(description="Conversations used", ordering="conversations_count")
    def conversations_used(self, obj) -> int:
        return obj.conversations_count


@admin.register(TrainingRunConversation)
class TrainingRunConversationAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    exact_search_fields = ("conversation_external_id", "run__external_id")
    list_display = ("run", "conversation_external_id", "user")
    list_select_related = ("run", "user")
    raw_id_fields = ("run", "conversation", "user")
    ordering = ("-id",)


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    account_lookup = None
    exact_search_fields = ("version",)
    list_display = ("title", "version", "is_current", "loaded_at")
    ordering = ("-loaded_at",)


@admin.register(PolicySection)
class PolicySectionAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    account_lookup = None
    exact_search_fields = ("anchor",)
    list_display = ("heading", "anchor", "document", "position")
    list_select_related = ("document",)
    ordering = ("document", "position")


CONFIRM_WORD = "purge"


class PolicySettingsForm(forms.ModelForm):
    """The durations, saved in two steps: the first save shows what the
    change would do (deadlines that move, items that become due at once,
    counted in SQL, nothing written); saving the same change again applies
    it, and when anything would be purged at the next run only with the word
    "purge" typed in `confirm`."""

    confirm = forms.CharField(
        required=False,
        label="Confirmation",
        help_text=f'Type "{CONFIRM_WORD}" when the change makes anything due at once.',
    )
    previewed = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = PolicySettings
        fields = DURATION_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The service's bounds, so a bad value is a form error, never a 500.
        for name in DURATION_FIELDS:
            field = self.fields[name]
            field.min_value, field.max_value = 1, 36600
            field.validators += [MinValueValidator(1), MaxValueValidator(36600)]
            field.widget.attrs.update(min=1, max=36600)

    def clean(self):
        cleaned = super().clean()
        changed = sorted(name for name in DURATION_FIELDS if name in self.changed_data)
        if self.errors or not changed:
            return cleaned
        preview = deadline_change_preview(
            durations=Durations(**{name: cleaned[name] for name in DURATION_FIELDS}),
            now=timezone.now(),
        )
        counts = (
            f"This change moves {preview.moved} deadlines, and {preview.due_at_once} items "
            "become due at once" + (": the next purge run removes them." if preview.purges else ".")
        )
        fingerprint = ",".join(f"{name}={cleaned[name]}" for name in changed)
        if cleaned.get("previewed") != fingerprint:
            # The first save of this change only shows what it would do.
            self.data = self.data.copy()
            self.data["previewed"] = fingerprint
            then = (
                f'type "{CONFIRM_WORD}" below and save again to apply it'
                if preview.purges
                else "save again to apply it"
            )
            raise ValidationError(f"{counts} Nothing is saved yet: {then}.")
        if preview.purges and cleaned.get("confirm", "").strip().lower() != CONFIRM_WORD:
            raise ValidationError(
                f'{counts} Type "{CONFIRM_WORD}" below to confirm, then save again.'
            )
        return cleaned


@admin.register(PolicySettings)
class PolicySettingsAdmin(PortalModelAdmin):
    """The durations of the rules. A change is previewed first, and confirmed
    by typing "purge" when it would purge anything (PolicySettingsForm).
    Saving goes through policy_settings_update: each change is recorded (who,
    when, old, new), every stored deadline is recomputed in bulk SQL and a new
    version of the article is published. The history is shown on the page."""

    form = PolicySettingsForm
    account_lookup = None
    list_display = ("__str__", *DURATION_FIELDS, "updated_at")
    fieldsets = (
        ("Durations", {"fields": DURATION_FIELDS}),
        ("Confirm the change", {"fields": ("confirm", "previewed")}),
        ("History", {"fields": ("updated_at", "change_history")}),
    )
    readonly_fields = ("updated_at", "change_history")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Changes (latest 50)")
    def change_history(self, obj) -> str:
        changes = policy_setting_changes(limit=50)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{c.changed_at:%Y-%m-%d %H:%M}",
                    c.field,
                    c.old_value,
                    c.new_value,
                    c.changed_by or "system",
                )
                for c in changes
            ),
        )
        return format_html(
            "<table><thead><tr><th>When</th><th>Setting</th><th>Old</th><th>New</th>"
            "<th>By</th></tr></thead><tbody>{}</tbody></table>",
            rows or mark_safe("<tr><td colspan='5'>No changes yet.</td></tr>"),
        )

    def save_model(self, request, obj, form, change):
        changes = {
            name: form.cleaned_data[name] for name in DURATION_FIELDS if name in form.changed_data
        }
        if changes:
            policy_settings_update(changes=changes, changed_by=request.user)
        obj.refresh_from_db()


@admin.register(PolicySettingChange)
class PolicySettingChangeAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    account_lookup = "changed_by"
    list_display = ("changed_at", "field", "old_value", "new_value", "changed_by")
    list_filter = ("field",)
    list_select_related = ("changed_by",)
    ordering = ("-changed_at", "-id")
