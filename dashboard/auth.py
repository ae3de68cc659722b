"""Who may see a dashboard page or call /api/me/, and what an anonymous
request gets back: a redirect to sign in for a page, `HX-Redirect` for an htmx
request (a 302 would be followed by the XHR and its login page swapped into
the fragment), and a JSON 401 for the API."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django.utils.http import urlencode


def _login_url_for(request: HttpRequest) -> str:
    # For htmx the page to come back to is the one in the address bar, not the fragment URL.
    # Only its path is kept, so the header cannot send the user to another site.
    current = request.get_full_path()
    if header := request.headers.get("HX-Current-URL"):
        try:
            parts = urlsplit(header)
        except ValueError:  # not a URL (e.g. "http://[x"): come back to the request's own path
            parts = None
        if parts is not None:
            current = parts.path + (f"?{parts.query}" if parts.query else "") or "/"
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': current})}"


def portal_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if getattr(request, "htmx", False):
            response = HttpResponse("Your session has ended. Please sign in again.", status=401)
            response["HX-Redirect"] = _login_url_for(request)
            return response
        return redirect_to_login(request.get_full_path())

    return wrapper


def api_login_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return JsonResponse(
                {"error": "not_authenticated", "detail": "Sign in to use this API."}, status=401
            )
        return view(request, *args, **kwargs)

    return wrapper
