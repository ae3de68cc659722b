"""The portal's Django admin site.

Django admin sends anyone who is not staff to its login form. For a signed-in
end user or support agent that is the wrong answer: they are who they say they
are, they are just not allowed. Here they get a 403 page, and the attempt is
written to the access log as denied. Anonymous visitors still get the login.

Staff themselves get a 400, logged as denied, for a query string that would
filter, search or sort by content (staff.content): content is read on a
change page opened with a reason, never through a list.
"""

import logging
import re
from contextlib import nullcontext
from functools import update_wrapper

from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.admin.options import TO_FIELD_VAR
from django.contrib.admin.views.main import ERROR_FLAG
from django.db import DataError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import SimpleTemplateResponse, TemplateResponse
from django.urls import reverse

from staff.content import content_query_refusal
from staff.http import request_trail
from staff.services import access_denied_record

logger = logging.getLogger(__name__)

# What the database (or SQLite's Python functions) raises for a value it
# cannot use in a query: an invalid regular expression (`?id__regex=[`), a
# number past the column's range (`?user__id=99999999999999999999`), a year
# past 9999 (`?created_at__gte=99999-01-01`). Admin builds such queries from
# the address; they run only when the list is counted or rendered.
_UNUSABLE_VALUE = (DataError, OverflowError, ValueError, re.error)


def _unusable_value(exc: Exception) -> bool:
    if isinstance(exc, _UNUSABLE_VALUE):
        return True
    # SQLite reports an exception in its REGEXP function as an OperationalError.
    return isinstance(exc, OperationalError) and "user-defined function raised" in str(exc)


def _is_invalid_lookup_redirect(request: HttpRequest, response: HttpResponse) -> bool:
    # Django admin answers a filter it cannot apply (an unknown field, a date
    # it cannot parse) with a redirect to "?e=1" and a 200 page there; an
    # address that asks for something that does not exist is the client's
    # error, so it is a 400 here, as the other refused filters are.
    return response.status_code == 302 and response.get("Location") == (
        f"{request.path}?{ERROR_FLAG}=1"
    )


def _contains_nul(request: HttpRequest) -> bool:
    return "\x00" in request.path or any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in request.GET.lists()
    )


class PortalAdminSite(admin.AdminSite):
    site_header = "Privacy portal administration"
    site_title = "Privacy portal admin"
    index_title = "Privacy administration"

    def _refuse(self, request: HttpRequest) -> HttpResponse:
        access_denied_record(**request_trail(request))
        return TemplateResponse(
            request,
            "support/forbidden.html",
            {
                "message": "Django admin is for privacy admins only. This attempt was logged.",
            },
            status=403,
        )

    def _signed_in_without_access(self, request: HttpRequest) -> bool:
        return request.user.is_authenticated and not self.has_permission(request)

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def gate(request: HttpRequest, *args, **kwargs):
            is_logout = request.path == reverse("admin:logout", current_app=self.name)
            if not is_logout and self._signed_in_without_access(request):
                return self._refuse(request)
            if _contains_nul(request):
                # PostgreSQL text cannot hold NUL: filtering or looking up by
                # such a value raises in the driver. No stored value has one.
                return HttpResponseBadRequest("The address contains a NUL character.")
            if request.GET.get(TO_FIELD_VAR) == "" or request.POST.get(TO_FIELD_VAR) == "":
                # Django checks a non-empty _to_field against the allowed ones
                # but looks an empty one up as a field name (a 500).
                return HttpResponseBadRequest("The address names an empty _to_field.")
            model_admin = getattr(view, "__self__", None)
            if isinstance(model_admin, ModelAdmin) and request.user.is_authenticated:
                refused = content_query_refusal(model_admin, request)
                if refused is not None:
                    return self._refuse_content_query(request, refused)
            # A savepoint, so a refused query leaves the connection usable, but
            # not around a POST outside a transaction: writes (actions, the
            # purge) keep their own transactions. Rendered here, so a query
            # the template runs fails here too.
            writes = request.method == "POST" and not transaction.get_connection().in_atomic_block
            try:
                with nullcontext() if writes else transaction.atomic():
                    response = inner(request, *args, **kwargs)
                    if isinstance(response, SimpleTemplateResponse):
                        response.render()
            except Exception as exc:
                if not _unusable_value(exc):
                    raise
                logger.warning("admin: refused %s %s: %r", request.method, request.path, exc)
                return HttpResponseBadRequest(
                    "The address holds a value the database cannot compare "
                    "(a number or date out of range, an invalid regular expression)."
                )
            if _is_invalid_lookup_redirect(request, response):
                return HttpResponseBadRequest(
                    "The address filters on a field or value this list does not have."
                )
            return response

        return update_wrapper(gate, inner)

    def _refuse_content_query(self, request: HttpRequest, field: str) -> HttpResponse:
        access_denied_record(**request_trail(request), reason=f"Query on content: {field}")
        return TemplateResponse(
            request,
            "support/forbidden.html",
            {
                "message": "Lists cannot be filtered, searched or sorted by titles, messages "
                "or feedback text. Open the item and give a reason to see its content. "
                "This attempt was logged.",
            },
            status=400,
        )

    def login(self, request: HttpRequest, extra_context=None):
        # The login view is not wrapped by admin_view: refuse here as well,
        # except a POST, which may be a different person signing in.
        if request.method == "GET" and self._signed_in_without_access(request):
            return self._refuse(request)
        return super().login(request, extra_context)
