"""Who may see a dashboard page or call /api/me/, and what an anonymous
request gets back: a redirect to sign in for a page, `HX-Redirect` for an htmx
request (a 302 would be followed by the XHR and its login page swapped into
the fragment), and a JSON 401 for the API.

Staff land where they work: after sign-in privacy admins go to Django admin,
support agents to the support console and everyone else to the overview
(accounts.views.LoginView, by accounts.roles.home_url_name); staff who open
the overview get links to their tools instead of an empty end-user page."""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render, resolve_url
from django.utils.functional import SimpleLazyObject
from django.utils.http import urlencode

from accounts.roles import can_use_console, opens_admin


def staff_see_their_tools(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """On an end-user page, staff (console or admin users) get a page with
    links to their tools rather than an empty overview of their own."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if user.is_authenticated and (opens_admin(user) or can_use_console(user)):
            return render(
                request,
                "dashboard/staff_home.html",
                {"opens_admin": opens_admin(user), "opens_console": can_use_console(user)},
            )
        return view(request, *args, **kwargs)

    return wrapper


def portal_roles(request: HttpRequest) -> dict:
    """Context processor: which staff tools the nav links to (looked up only
    when a template asks)."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {
        "nav_console": SimpleLazyObject(lambda: can_use_console(user)),
        "nav_admin": SimpleLazyObject(lambda: opens_admin(user)),
    }


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
