"""Admin of conversations and what is kept about them (messages, flags,
feedback): metadata in the lists; titles, message content and feedback text
only on a change page opened with a logged reason (ContentAccessMixin)."""

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from retention.admin.holds import ConversationHoldActions
from retention.models import Conversation, Feedback, Flag, Message
from retention.selectors.exemptions import hold_covers, holds_covering
from staff.admin_tools import ContentAccessMixin, PortalModelAdmin, ReadOnlyAdminMixin

# A transcript in admin shows at most this many messages (oldest first).
TRANSCRIPT_LIMIT = 200


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
class ConversationAdmin(
    ConversationHoldActions, ContentAccessMixin, ReadOnlyAdminMixin, PortalModelAdmin
):
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
    content_displays = ("transcript",)
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

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(on_hold=hold_covers(conversation_ref="external_id"))
        )

    @admin.display(boolean=True, description="Flagged", ordering="flagged_at")
    def flagged(self, obj) -> bool:
        return obj.flagged_at is not None

    @admin.display(boolean=True, description="On hold", ordering="on_hold")
    def on_hold(self, obj) -> bool:
        return obj.on_hold

    @admin.display(description="Active legal holds")
    def active_holds(self, obj) -> str:
        holds = holds_covering(user_id=obj.user_id, conversation_external_id=obj.external_id)
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
