"""The public article page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from dashboard import selectors
from dashboard.presentation import LAW_CAVEAT, date_text


@require_GET
def policy(request: HttpRequest) -> HttpResponse:
    """The whole article, public, one anchor per section: every quote links here."""
    page = selectors.policy_page(now=timezone.now())
    return render(
        request,
        "dashboard/policy.html",
        {
            "document": page.document,
            "sections": page.sections,
            "versions": page.versions,
            "caveat": LAW_CAVEAT,
            # The version as a person reads it: its date, never its code.
            "current_since": date_text(page.document.effective_at) if page.document else "",
        },
    )
