"""Helpers every dashboard page shares: the base context, htmx fragment
detection and the 400/404 pages."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from dashboard.presentation import LAW_CAVEAT


def page_context(request: HttpRequest, **extra) -> dict:
    return {
        "caveat": LAW_CAVEAT,
        "commercial_terms_url": settings.PORTAL_COMMERCIAL_TERMS_URL,
        "is_commercial": request.user.is_commercial,
        **extra,
    }


def wants_fragment(request: HttpRequest) -> bool:
    """Render only the partial: an htmx request, but not a history restore
    (going back to a pushed URL needs the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(
        request,
        "dashboard/error.html",
        {"title": _("That request was not valid"), "message": message},
        status=400,
    )


def not_found(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "dashboard/error.html",
        {
            "title": _("Conversation not found"),
            "message": _("There is no conversation with this id in your history."),
        },
        status=404,
    )
