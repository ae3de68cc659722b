"""Django admin for the retention domain.

Rows here are facts from the chat service or records of what the purge did;
admin changes none of them directly. The writes it offers go through services:
legal holds (place on conversations, release) and the policy durations (each
change recorded, deadlines recomputed in bulk SQL). Conversation titles and
message content are shown only after a reason is given (access-logged).
Deletion health is the PurgeRun list with a summary on top.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import redirect
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from accounts.roles import is_privacy_admin
from retention.models import (
    Conversation,
    DeletionReceipt,
    Feedback,
    Flag,
    LegalHold,
    Message,
    PolicyDocument,
    PolicySection,
    PolicySettingChange,
    PolicySettings,
    PurgeRun,
    PurgeStatistic,
    TrainingRun,
    TrainingRunConversation,
)
from retention.purge import deletion_health, purge_due
from retention.selectors.settings import DURATION_FIELDS
from retention.tasks import enforce_retention
from support.admin_holds import run_hold_action
from support.admin_tools import ContentAccessMixin, PortalModelAdmin, ReadOnlyAdminMixin

# A transcript in admin shows at most this many messages (oldest first).
TRANSCRIPT_LIMIT = 200


def _active_hold_on_conversation():
    """Conversation covered by an active hold (its own or its account's)."""
    return Exists(
        LegalHold.objects.filter(
            conversation_id=OuterRef("pk"), released_at=None, scope=LegalHold.Scope.CONVERSATION
        )
    ) | Exists(
        LegalHold.objects.filter(
            user_id=OuterRef("user_id"), released_at=None, scope=LegalHold.Scope.ACCOUNT
        )
    )


class _YesNoFilter(admin.SimpleListFilter):
    """A yes/no filter over a condition (Q) that is not a plain field."""

    condition: Q

    def lookups(self, request, model_admin):
        return (("yes", "Yes"), ("no", "No"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(self.condition)
        if self.value() == "no":
            return queryset.exclude(self.condition)
        return queryset


class FlaggedFilter(_YesNoFilter):
    title = "flagged"
    parameter_name = "flagged"
    condition = Q(flagged_at__isnull=False)


class DeletedFilter(_YesNoFilter):
    title = "deleted by the user"
    parameter_name = "deleted"
    condition = Q(deleted_at__isnull=False)


class OnHoldFilter(_YesNoFilter):
    title = "on legal hold"
    parameter_name = "on_hold"
    condition = Q(on_hold=True)


class OverdueFilter(_YesNoFilter):
    title = "overdue (retain-until passed)"
    parameter_name = "overdue"

    @property
    def condition(self):
        return Q(retain_until__lt=timezone.now())


class ActiveHoldFilter(_YesNoFilter):
    title = "active"
    parameter_name = "active"
    condition = Q(released_at__isnull=True)


@admin.register(Conversation)
class ConversationAdmin(ContentAccessMixin, ReadOnlyAdminMixin, PortalModelAdmin):
    """Conversations, metadata in the list; title and transcript only with a
    logged reason (ContentAccessMixin)."""

    exact_search_fields = ("external_id",)
    list_display = (
        "external_id",
        "user",
        "kind",
        "created_at",
        "last_activity_at",
        "deleted_at",
        "rule",
        "retain_until",
        "flagged",
        "on_hold",
    )
    list_filter = (
        "rule",
        "kind",
        "user__account_type",
        "user__plan",
        FlaggedFilter,
        OnHoldFilter,
        DeletedFilter,
        OverdueFilter,
    )
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    ordering = ("-id",)
    content_fields = ("title", "transcript")
    fields = (
        "external_id",
        "user",
        "kind",
        "title",
        "created_at",
        "last_activity_at",
        "deleted_at",
        "shared_for_training",
        "flagged_at",
        "rule",
        "retain_until",
        "public_rule",
        "public_retain_until",
        "active_holds",
        "transcript",
    )
    readonly_fields = ("active_holds", "transcript")
    actions = ["place_conversation_hold"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(on_hold=_active_hold_on_conversation())

    @admin.display(boolean=True, description="Flagged", ordering="flagged_at")
    def flagged(self, obj) -> bool:
        return obj.flagged_at is not None

    @admin.display(boolean=True, description="On hold", ordering="on_hold")
    def on_hold(self, obj) -> bool:
        return obj.on_hold

    @admin.display(description="Active legal holds")
    def active_holds(self, obj) -> str:
        holds = LegalHold.objects.filter(released_at=None).filter(
            Q(conversation_id=obj.pk, scope=LegalHold.Scope.CONVERSATION)
            | Q(user_id=obj.user_id, scope=LegalHold.Scope.ACCOUNT)
        )
        return (
            format_html_join(
                ", ",
                "{} since {}",
                ((hold.get_scope_display(), f"{hold.placed_at:%Y-%m-%d}") for hold in holds),
            )
            or "None"
        )

    @admin.display(description=f"Transcript (first {TRANSCRIPT_LIMIT} messages)")
    def transcript(self, obj) -> str:
        rows = obj.messages.order_by("sent_at", "id").values_list("sent_at", "role", "content")[
            :TRANSCRIPT_LIMIT
        ]
        return format_html(
            "<ol class='transcript'>{}</ol>",
            format_html_join(
                "",
                "<li><strong>{}</strong> {}: {}</li>",
                ((role, f"{sent_at:%Y-%m-%d %H:%M}", content) for sent_at, role, content in rows),
            ),
        )

    def has_hold_permission(self, request) -> bool:
        return request.user.has_perm("retention.add_legalhold")

    @admin.action(
        permissions=["hold"], description="Place a legal hold on the selected conversations"
    )
    def place_conversation_hold(self, request, queryset):
        from retention.services.holds import legal_hold_place

        return run_hold_action(
            self,
            request,
            queryset.select_related("user"),
            action="place_conversation_hold",
            title="Place a legal hold on these conversations",
            explanation=(
                "While the hold is active these conversations (content, flag scores, "
                "feedback about them) are not purged; their deadlines are recomputed now."
            ),
            apply_one=lambda conversation, reason: legal_hold_place(
                user=conversation.user,
                conversation=conversation,
                reason=reason,
                placed_by=request.user,
            ),
            done="Legal hold placed",
        )


@admin.register(Message)
class MessageAdmin(ContentAccessMixin, ReadOnlyAdminMixin, PortalModelAdmin):
    """Messages: the list shows no content; a message's page shows it only
    with a logged reason."""

    account_lookup = "conversation__user"
    exact_search_fields = ("external_id", "conversation__external_id")
    list_display = ("external_id", "conversation", "role", "sent_at")
    list_filter = ("role",)
    list_select_related = ("conversation",)
    raw_id_fields = ("conversation",)
    ordering = ("-id",)
    fields = ("external_id", "conversation", "role", "sent_at", "content")
    content_fields = ("content",)

    def content_account_id(self, obj) -> int:
        return obj.conversation.user_id


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    exact_search_fields = ("conversation_external_id",)
    list_display = ("conversation_external_id", "user", "flagged_at", "scores_retain_until")
    list_filter = ("user__account_type", "user__plan")
    list_select_related = ("user",)
    raw_id_fields = ("user", "conversation")
    ordering = ("-id",)


@admin.register(Feedback)
class FeedbackAdmin(ContentAccessMixin, ReadOnlyAdminMixin, PortalModelAdmin):
    """Feedback keeps its own copy of the conversation (excerpt) and the
    user's comment: both are content, shown only with a logged reason."""

    exact_search_fields = ("external_id", "conversation_external_id")
    list_display = (
        "external_id",
        "user",
        "kind",
        "conversation_external_id",
        "submitted_at",
        "retain_until",
    )
    list_filter = ("kind", "user__account_type", "user__plan")
    list_select_related = ("user",)
    raw_id_fields = ("user", "conversation")
    ordering = ("-id",)
    content_fields = ("comment", "excerpt")


@admin.register(LegalHold)
class LegalHoldAdmin(PortalModelAdmin):
    """Holds are placed from the account or conversation lists (an action with
    a reason) and released here; never edited or deleted, so the record of
    who held what, when and why stays whole."""

    exact_search_fields = ("conversation_external_id",)
    list_display = (
        "__str__",
        "user",
        "scope",
        "placed_at",
        "placed_by",
        "released_at",
        "released_by",
    )
    list_filter = ("scope", ActiveHoldFilter)
    list_select_related = ("user", "placed_by", "released_by")
    raw_id_fields = ("user", "conversation", "placed_by", "released_by")
    ordering = ("-id",)
    actions = ["release_holds"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_release_permission(self, request) -> bool:
        return request.user.has_perm("retention.change_legalhold")

    @admin.action(permissions=["release"], description="Release the selected legal holds")
    def release_holds(self, request, queryset):
        from retention.services.holds import legal_hold_release

        return run_hold_action(
            self,
            request,
            queryset,
            action="release_holds",
            title="Release these legal holds",
            explanation=(
                "After release the ordinary rules apply again: deadlines are recomputed now, "
                "and anything already past its date is purged by the next purge run. "
                "The reason is recorded in the admin history of each hold."
            ),
            apply_one=lambda hold, reason: legal_hold_release(hold=hold, released_by=request.user),
            done="Legal hold released",
        )


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


class PolicySettingsForm(forms.ModelForm):
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


@admin.register(PolicySettings)
class PolicySettingsAdmin(PortalModelAdmin):
    """The durations of the rules. Saving goes through policy_settings_update:
    each change is recorded (who, when, old, new) and every stored deadline is
    recomputed in bulk SQL. The history is shown on the page."""

    form = PolicySettingsForm
    account_lookup = None
    list_display = ("__str__", *DURATION_FIELDS, "updated_at")
    fieldsets = (
        ("Durations", {"fields": DURATION_FIELDS}),
        ("History", {"fields": ("updated_at", "change_history")}),
    )
    readonly_fields = ("updated_at", "change_history")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Changes (latest 50)")
    def change_history(self, obj) -> str:
        changes = PolicySettingChange.objects.select_related("changed_by")[:50]
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
        from retention.services.policy_settings import policy_settings_update

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


@admin.register(DeletionReceipt)
class DeletionReceiptAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    exact_search_fields = ("conversation_external_id", "receipt_hash")
    list_display = (
        "sequence",
        "conversation_external_id",
        "user",
        "kind",
        "rule",
        "retain_until",
        "purged_at",
        "messages_removed",
    )
    list_filter = ("rule", "kind")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    ordering = ("-sequence",)


@admin.register(PurgeStatistic)
class PurgeStatisticAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    account_lookup = None
    list_display = ("day", "rule", "plan", "kind", "conversations", "messages")
    list_filter = ("rule", "plan", "kind")
    ordering = ("-day", "rule", "plan", "kind")


# --- Deletion health and the purge actions ---------------------------------
# The figures come from retention.purge.deletion_health(), the same function
# the purge job logs with; the admin holds no logic of its own.


@admin.register(PurgeRun)
class PurgeRunAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    """Deletion health: the runs of the purge job, with a summary above."""

    account_lookup = None
    change_list_template = "admin/retention/purgerun/change_list.html"
    list_display = (
        "started_at",
        "finished_at",
        "status",
        "cutoff",
        "conversations_purged",
        "messages_purged",
        "scores_purged",
        "feedback_purged",
        "max_delay_seconds",
    )
    list_filter = ("status",)
    ordering = ("-started_at",)

    def changelist_view(self, request, extra_context=None):
        context = {**(extra_context or {}), "health": deletion_health()}
        return super().changelist_view(request, context)

    def get_urls(self):
        guarded = self.admin_site.admin_view
        return [
            path("run-now/", guarded(self.run_now_view), name="retention_purgerun_run_now"),
            path("preview/", guarded(self.preview_view), name="retention_purgerun_preview"),
            *super().get_urls(),
        ]

    def _may_run_purge(self, request) -> bool:
        return is_privacy_admin(request.user)

    def run_now_view(self, request):
        """Queue a purge run now (the worker runs it; the run lock keeps it
        single). POST only: a link crawler must never start a purge."""
        if request.method != "POST" or not self._may_run_purge(request):
            raise PermissionDenied
        enforce_retention.delay_on_commit()
        self.message_user(
            request, "A purge run was queued; it appears in this list when a worker has run it."
        )
        return redirect("admin:retention_purgerun_changelist")

    def preview_view(self, request):
        """Dry run: what a purge now would remove, per rule. Nothing is deleted."""
        if request.method != "POST" or not self._may_run_purge(request):
            raise PermissionDenied
        report = purge_due(dry_run=True)
        by_rule = ", ".join(
            f"{rule}: {n}" for rule, n in sorted(report.conversations_by_rule.items())
        )
        self.message_user(
            request,
            f"Dry run: {report.conversations} conversations ({by_rule or 'none'}), "
            f"{report.messages} messages, {report.scores} score sets and {report.feedback} "
            "feedback submissions would be purged now. Nothing was deleted.",
        )
        return redirect("admin:retention_purgerun_changelist")
