"""What the user deleted (awaiting purge, receipts) and their feedback."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard import selectors
from dashboard.auth import portal_login_required
from dashboard.forms import CursorForm
from dashboard.views.common import bad_request, page_context


@require_GET
@portal_login_required
def deleted(request: HttpRequest) -> HttpResponse:
    form = CursorForm(request.GET)
    if not form.is_valid():
        return bad_request(request, _("This page link is not valid."))
    now = timezone.now()
    context = page_context(
        request,
        pending=selectors.deleted_page(
            user=request.user, now=now, cursor=form.cleaned_data["cursor"] or None
        ),
        receipts=selectors.receipt_page(
            user=request.user, now=now, cursor=form.cleaned_data["rcursor"] or None
        ),
    )
    return render(request, "dashboard/deleted.html", context)


@require_GET
@portal_login_required
def feedback(request: HttpRequest) -> HttpResponse:
    form = CursorForm(request.GET)
    if not form.is_valid():
        return bad_request(request, _("This page link is not valid."))
    page = selectors.feedback_page(
        user=request.user, now=timezone.now(), cursor=form.cleaned_data["cursor"] or None
    )
    return render(request, "dashboard/feedback.html", page_context(request, page=page))
