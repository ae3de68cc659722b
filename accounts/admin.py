"""Django admin for accounts and the consent ledger.

Account facts (external id, type, plan) come from the chat service and drive
deadlines, so they are read-only here; the consent ledger is read-only for
everyone. Legal holds on accounts are added to this list by retention.admin
(this app knows nothing of retention).
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import ConsentChange, User
from staff.admin_tools import PortalModelAdmin, ReadOnlyAdminMixin, accounts_matching


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
        "date_joined",
    )
    list_filter = ("account_type", "plan", "is_staff", "is_superuser", "groups")
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

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(pk__in=accounts_matching(term)), False


@admin.register(ConsentChange)
class ConsentChangeAdmin(ReadOnlyAdminMixin, PortalModelAdmin):
    list_display = ("user", "allowed", "effective_at", "recorded_at", "source", "article_version")
    list_filter = ("allowed", "source")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    ordering = ("-id",)
