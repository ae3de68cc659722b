"""Django admin for accounts and the consent ledger.

Account facts (external id, type, plan) come from the chat service and drive
deadlines, so they are read-only here; the consent ledger is read-only for
everyone. Privacy admins may place a legal hold on accounts (action below).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import Exists, OuterRef

from accounts.models import ConsentChange, User
from retention.models import LegalHold
from support.admin_holds import run_hold_action
from support.admin_tools import PortalModelAdmin, ReadOnlyAdminMixin, accounts_matching


class PortalUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email",)
        field_classes: dict = {}

    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"]).lower()


class PortalUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"
        field_classes: dict = {}


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


def _active_account_hold():
    return Exists(
        LegalHold.objects.filter(
            user_id=OuterRef("pk"), released_at=None, scope=LegalHold.Scope.ACCOUNT
        )
    )


@admin.register(User)
class UserAdmin(PortalModelAdmin, DjangoUserAdmin):
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    account_lookup = None
    exact_search_fields = ("external_id",)
    search_fields = ("email", "external_id")
    list_display = (
        "email",
        "external_id",
        "account_type",
        "plan",
        "is_staff",
        "on_hold",
        "date_joined",
    )
    list_filter = ("account_type", "plan", AccountHoldFilter, "is_staff", "is_superuser", "groups")
    ordering = ("-id",)
    readonly_fields = ("external_id", "account_type", "plan", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Chat service account", {"fields": ("external_id", "account_type", "plan")}),
        (
            "Role and permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
    filter_horizontal = ("groups", "user_permissions")
    actions = ["place_account_hold"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(pk__in=accounts_matching(term)), False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(account_on_hold=_active_account_hold())

    @admin.display(boolean=True, description="On hold", ordering="account_on_hold")
    def on_hold(self, obj) -> bool:
        return obj.account_on_hold

    def has_hold_permission(self, request) -> bool:
        return request.user.has_perm("retention.add_legalhold")

    @admin.action(permissions=["hold"], description="Place a legal hold on the selected accounts")
    def place_account_hold(self, request, queryset):
        from retention.services.holds import legal_hold_place

        return run_hold_action(
            self,
            request,
            queryset,
            action="place_account_hold",
            title="Place a legal hold on these accounts",
            explanation=(
                "While the hold is active nothing of these accounts is purged; their "
                "deadlines are recomputed now. The account's owner is not told."
            ),
            apply_one=lambda user, reason: legal_hold_place(
                user=user, reason=reason, placed_by=request.user
            ),
            done="Legal hold placed",
        )


@admin.register(ConsentChange)
class ConsentChangeAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    list_display = ("user", "allowed", "effective_at", "recorded_at", "source", "article_version")
    list_filter = ("allowed", "source")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    ordering = ("-id",)
