"""Error views wired in settings."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a page that says what happened and what to do, or
    JSON for the API. The refused request changed nothing."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "error": "csrf_failed",
                "detail": "The CSRF token is missing or stale; nothing was changed.",
            },
            status=403,
        )
    return render(request, "dashboard/csrf_failure.html", {"reason": reason}, status=403)
