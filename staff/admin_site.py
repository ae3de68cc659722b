"""The portal's Django admin site.

Django admin sends anyone who is not staff to its login form. For a signed-in
end user or support agent that is the wrong answer: they are who they say they
are, they are just not allowed. Here they get a 403 page, and the attempt is
written to the access log as denied. Anonymous visitors still get the login.
"""

from functools import update_wrapper

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from staff.http import request_trail
from staff.services import access_denied_record


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
            return inner(request, *args, **kwargs)

        return update_wrapper(gate, inner)

    def login(self, request: HttpRequest, extra_context=None):
        # The login view is not wrapped by admin_view: refuse here as well,
        # except a POST, which may be a different person signing in.
        if request.method == "GET" and self._signed_in_without_access(request):
            return self._refuse(request)
        return super().login(request, extra_context)
