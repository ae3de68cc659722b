"""Legal holds in admin: placed from the account and conversation lists (an
action that asks for a reason), released from the holds list, never edited
or deleted. The work is retention.services.holds, which recomputes the
deadlines of everything a hold covers.

The account list belongs to the accounts app, which knows nothing of
retention; this module extends it with the hold column, filter and action
(re-registering User with the subclass), as an app may extend the admin of
an app below it."""

from django.contrib import admin
from django.db.models import Q

from accounts.admin import UserAdmin as AccountsUserAdmin
from accounts.models import User
from retention.models import LegalHold
from retention.selectors.exemptions import hold_covers
from retention.services.holds import HoldError, legal_hold_place, legal_hold_release
from staff.admin_actions import ReasonAction, run_reason_action
from staff.admin_tools import PortalModelAdmin

PLACED = "Legal hold placed"
HOLD_REASON_HELP = "Required: the legal matter or request this hold is for."


def may_place_holds(request) -> bool:
    return request.user.has_perm("retention.add_legalhold")


class ConversationHoldActions:
    """For ConversationAdmin: place a hold on the selected conversations."""

    actions = ["place_conversation_hold"]

    def has_hold_permission(self, request) -> bool:
        return may_place_holds(request)

    @admin.action(
        permissions=["hold"], description="Place a legal hold on the selected conversations"
    )
    def place_conversation_hold(self, request, queryset):
        return run_reason_action(
            self,
            request,
            queryset.select_related("user"),
            ReasonAction(
                action="place_conversation_hold",
                title="Place a legal hold on these conversations",
                explanation=(
                    "While the hold is active these conversations (content, flag scores, "
                    "feedback about them) are not purged; their deadlines are recomputed now."
                ),
                reason_help=HOLD_REASON_HELP,
                done=PLACED,
                apply_one=lambda conversation, reason: legal_hold_place(
                    user=conversation.user,
                    conversation=conversation,
                    reason=reason,
                    placed_by=request.user,
                ),
                refused=HoldError,
            ),
        )


class AccountHoldFilter(admin.SimpleListFilter):
    title = "legal hold on account"
    parameter_name = "account_hold"

    def lookups(self, request, model_admin):
        return (("yes", "On hold"), ("no", "Not on hold"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(account_on_hold=True)
        if self.value() == "no":
            return queryset.filter(account_on_hold=False)
        return queryset


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(AccountsUserAdmin):
    """The accounts list with its legal holds: a column, a filter and the
    action that places a hold on whole accounts."""

    list_display = (*AccountsUserAdmin.list_display[:-1], "on_hold", "date_joined")
    list_filter = (
        *AccountsUserAdmin.list_filter[:2],
        AccountHoldFilter,
        "is_staff",
        "is_superuser",
        "groups",
    )
    actions = ["place_account_hold"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(account_on_hold=hold_covers(user_ref="pk", conversation_ref=None))
        )

    @admin.display(boolean=True, description="On hold", ordering="account_on_hold")
    def on_hold(self, obj) -> bool:
        return obj.account_on_hold

    def has_hold_permission(self, request) -> bool:
        return may_place_holds(request)

    @admin.action(permissions=["hold"], description="Place a legal hold on the selected accounts")
    def place_account_hold(self, request, queryset):
        return run_reason_action(
            self,
            request,
            queryset,
            ReasonAction(
                action="place_account_hold",
                title="Place a legal hold on these accounts",
                explanation=(
                    "While the hold is active nothing of these accounts is purged; their "
                    "deadlines are recomputed now. The account's owner is not told."
                ),
                reason_help=HOLD_REASON_HELP,
                done=PLACED,
                apply_one=lambda user, reason: legal_hold_place(
                    user=user, reason=reason, placed_by=request.user
                ),
                refused=HoldError,
            ),
        )


class ActiveHoldFilter(admin.SimpleListFilter):
    title = "active"
    parameter_name = "active"

    def lookups(self, request, model_admin):
        return (("yes", "Yes"), ("no", "No"))

    def queryset(self, request, queryset):
        active = Q(released_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(active)
        if self.value() == "no":
            return queryset.exclude(active)
        return queryset


@admin.register(LegalHold)
class LegalHoldAdmin(PortalModelAdmin):
    """Holds are placed from the account or conversation lists (an action with
    a reason) and released here; never edited or deleted, so the record of
    who held what, when and why stays whole."""

    exact_search_fields = ("conversation_external_id",)
    list_display = (
        "held",
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

    @admin.display(description="Hold on", ordering="user__email")
    def held(self, hold) -> str:
        """The account by its email (never its database id)."""
        if hold.scope == LegalHold.Scope.CONVERSATION:
            return f"Conversation {hold.conversation_external_id} of {hold.user.email}"
        return f"Account {hold.user.email}"

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
        return run_reason_action(
            self,
            request,
            queryset,
            ReasonAction(
                action="release_holds",
                title="Release these legal holds",
                explanation=(
                    "After release the ordinary rules apply again: deadlines are recomputed "
                    "now, and anything already past its date is purged by the next purge run. "
                    "The reason is recorded in the admin history of each hold."
                ),
                reason_help="Required: why the hold ends (the matter closed, the request withdrawn).",
                done="Legal hold released",
                apply_one=lambda hold, reason: legal_hold_release(
                    hold=hold, released_by=request.user
                ),
                refused=HoldError,
            ),
        )
