"""The overview page and the policy-change notice on it."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dashboard import selectors
from dashboard.auth import portal_login_required, staff_see_their_tools
from dashboard.caching import conditional_page
from dashboard.views.common import page_context
from retention.services.documents import UnknownPolicyVersion, policy_notice_dismiss


@require_GET
@conditional_page
@portal_login_required
@staff_see_their_tools
def overview(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "dashboard/overview.html",
        page_context(
            request,
            overview=selectors.overview(user=request.user, now=now),
            notice=selectors.policy_notice(user=request.user),
        ),
    )


@require_POST
@portal_login_required
def policy_notice_read(request: HttpRequest, version: str) -> HttpResponse:
    """Dismiss the notice of a policy change (recorded per user). A plain form
    POST redirects to the overview; htmx re-renders the (now empty) notice."""
    try:
        policy_notice_dismiss(user=request.user, version=version)
    except UnknownPolicyVersion:
        return render(
            request,
            "dashboard/error.html",
            {
                "title": _("Policy version not found"),
                "message": _("There is no such policy version."),
            },
            status=404,
        )
    if request.htmx:
        return render(
            request,
            "dashboard/overview.html#notice",
            page_context(request, notice=selectors.policy_notice(user=request.user)),
        )
    return redirect("dashboard:overview")
