"""Building blocks every ModelAdmin of the portal uses, so that admin pages stay
fast at a million rows and never rewrite history:

- `LargeTablePaginator`: no full COUNT(*) on big tables (PostgreSQL's planner
  estimate for an unfiltered list, a capped count otherwise).
- `PortalModelAdmin`: the paginator, no full result count, exact index-backed
  search by email / external id.
- `ReadOnlyAdminMixin`: no add, change or delete for anyone, superusers included.
- `PrivacyAdminOnlyMixin`: pages for privacy admins by role, never a delete.
- `ContentAccessMixin`: a change page shows a user's conversation content or
  titles only after the admin gives a reason, for a while; the reason and
  each view write the access log. (Lists never filter, search or sort by
  content: staff.content, asked by the admin site for every request.)
- `ReasonActionMixin.run_reason_action`: an admin action applied through an
  intermediate page that requires a reason (legal holds use it).
"""

from __future__ import annotations

from functools import cached_property

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import urlencode

from accounts.external_ids import is_valid_external_id
from accounts.models import User
from accounts.roles import is_privacy_admin
from staff.content import content_fields_of
from staff.http import request_trail
from staff.models import DataKind
from staff.reasons import validate_reason
from staff.selectors import access_grant, content_grant_ttl
from staff.services import (
    access_content_viewed_record,
    access_denied_record,
    access_granted_record,
)

# Above this many rows an exact count is not worth its cost: the admin shows
# "about N" (estimate) or pages up to this many rows (capped count).
EXACT_COUNT_LIMIT = 10_000


def _reltuples(table: str, using: str) -> int | None:
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [table]
        )
        row = cursor.fetchone()
    # -1: never vacuumed/analysed, no estimate yet.
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


class LargeTablePaginator(Paginator):
    """Counts without scanning a large table.

    An unfiltered list on PostgreSQL uses the planner's row estimate
    (pg_class.reltuples) when it says the table is large. Anything else is
    counted with a LIMIT: at most EXACT_COUNT_LIMIT rows are counted, so the
    last pages of a huge filtered result are reached by narrowing the filter."""

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if not isinstance(object_list, QuerySet):
            return super().count
        query = object_list.query
        if not query.where and connections[object_list.db].vendor == "postgresql":
            estimate = _reltuples(object_list.model._meta.db_table, object_list.db)
            if estimate is not None and estimate > EXACT_COUNT_LIMIT:
                return estimate
        return object_list.order_by()[:EXACT_COUNT_LIMIT].count()


def accounts_matching(term: str) -> QuerySet[User]:
    """Accounts whose email (stored lower-case) or external id is exactly
    `term` (a term that is no valid id is looked up as an email only)."""
    condition = Q(email=term.lower())
    if is_valid_external_id(term):
        condition |= Q(external_id=term)
    return User.objects.filter(condition).values("pk")


class PortalModelAdmin(admin.ModelAdmin):
    """Search is exact and index-backed (a substring search over a million
    rows is a full scan): a term matches `exact_search_fields` of the model, or
    the email / external id of the account at `account_lookup`."""

    paginator = LargeTablePaginator
    show_full_result_count = False
    list_per_page = 50
    exact_search_fields: tuple[str, ...] = ()
    account_lookup: str | None = "user"
    search_help_text = "Exact email address or external id."

    def get_search_fields(self, request):
        # Non-empty so the search box shows; the matching is ours (below).
        return self.search_fields or ("pk",)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        condition = Q()
        for field in self.exact_search_fields:
            condition |= Q(**{field: term})
        if self.account_lookup:
            condition |= Q(**{f"{self.account_lookup}__in": accounts_matching(term)})
        if not condition:
            return queryset, False
        return queryset.filter(condition), False


class ReadOnlyAdminMixin:
    """Ledgers: viewable, never written through admin, whoever asks."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ContentRevealForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        validators=[validate_reason],
        strip=True,
        label="Reason for viewing",
        help_text="For example the legal case or ticket. The account's owner sees it.",
    )


class ContentAccessMixin:
    """A change page whose content (the model's `content_fields`, see
    staff.content, plus `content_displays` computed from content elsewhere,
    such as a transcript) appears only through a grant: the admin posts a
    reason, which writes an access-log row of kind `content_data_kind`, and is
    redirected to the page with `?_access=` set to that row's id.

    The grant opens the page for the same staff member and account only, for
    PORTAL_CONTENT_GRANT_MINUTES, and only if it was given for this kind of
    data (a support-console lookup grants metadata, which opens no content).
    Every view of the content writes its own access-log row, which the
    account's owner sees; a copied link does not work for someone else."""

    content_displays: tuple[str, ...] = ()
    content_data_kind: str = DataKind.CONTENT
    change_form_template = "admin/content_change_form.html"

    def content_account_id(self, obj) -> int:
        return obj.user_id

    def hidden_content(self) -> tuple[str, ...]:
        return (*sorted(content_fields_of(self.model)), *self.content_displays)

    def _grant_for(self, request: HttpRequest, obj):
        raw = request.GET.get("_access", "")
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:  # "²".isdigit() too
            return None
        return access_grant(
            grant_id=int(raw),
            staff=request.user,
            account_id=self.content_account_id(obj),
            data_kind=self.content_data_kind,
            ttl=content_grant_ttl(),
        )

    def has_content_access(self, request: HttpRequest) -> bool:
        return getattr(request, "_content_grant", None) is not None

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if self.has_content_access(request):
            return fields
        return [field for field in fields if field not in self.hidden_content()]

    def get_readonly_fields(self, request, obj=None):
        return [
            *super().get_readonly_fields(request, obj),
            *(field for field in self.hidden_content() if field not in self.readonly_fields),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_or_change_permission(request, obj):
            return super().change_view(request, object_id, form_url, extra_context)
        if request.method == "POST" and "_reveal" in request.POST:
            reveal_form = ContentRevealForm(request.POST)
            account = User.objects.only("pk").get(pk=self.content_account_id(obj))
            if reveal_form.is_valid():
                grant = access_granted_record(
                    **request_trail(request),
                    account=account,
                    reason=reveal_form.cleaned_data["reason"],
                    data_kind=self.content_data_kind,
                )
                return HttpResponseRedirect(f"{request.path}?{urlencode({'_access': grant.pk})}")
            # Post/redirect/get: the refusal is logged and explained, nothing shown.
            access_denied_record(**request_trail(request), account=account)
            problems = " ".join(reveal_form.errors.get("reason", []))
            self.message_user(
                request,
                f"Give a reason before viewing ({problems}); nothing was shown.",
                messages.ERROR,
            )
            return HttpResponseRedirect(request.path)
        grant = self._grant_for(request, obj)
        if grant is not None and request.method == "GET":
            access_content_viewed_record(grant=grant, **request_trail(request))
        request._content_grant = grant
        context = {
            **(extra_context or {}),
            "content_grant": grant,
            "reveal_form": ContentRevealForm(),
            "content_kind_label": DataKind(self.content_data_kind).label.lower(),
            "content_grant_minutes": int(content_grant_ttl().total_seconds() // 60),
        }
        return super().change_view(request, object_id, form_url, context)


class PrivacyAdminOnlyMixin:
    """Pages for privacy admins (and superusers) only, by role rather than
    model permission: for apps whose models are not in the role groups'
    permission sets (connected systems). Nobody deletes through admin;
    `privacy_admin_may_edit` opens add and change."""

    privacy_admin_may_edit = False

    def has_module_permission(self, request):
        return is_privacy_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return is_privacy_admin(request.user)

    def has_add_permission(self, request, obj=None):
        return self.privacy_admin_may_edit and is_privacy_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return self.privacy_admin_may_edit and is_privacy_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return False
