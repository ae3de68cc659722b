"""Two promises every answer of the portal keeps, whichever view (or none)
produced it:

- a signed-in answer is never cached: `Cache-Control: private, no-store` on
  every response to a signed-in user or to a request with credentials (the
  ingest API's bearer token), errors and redirects included, so neither a
  shared proxy nor the browser's back button shows one person's data to the
  next user of the machine. The one exception is a page answered with an
  ETag (dashboard/caching.py, conditional GET): `private, no-cache`, kept by
  the browser only to be revalidated, and cleared by `Clear-Site-Data` when
  its user signs out;
- under /api/ every error is JSON: the views answer their own errors, and
  whatever else answers (Django's 404, 405 from a method decorator, a 400
  for a body the CSRF check could not read, a 500) is rewritten here into the
  shape of that API. /api/internal/ (the chat service's, docs/ingest-api.md)
  says `{"errors": [{"index": null, "field": null, "error": text}]}`; the
  others (the user's /api/me/) say `{"error": code, "detail": text}`.

The handler400/403/404/500 views below are the URLconf's error handlers:
they answer JSON under /api/ and the portal's own pages elsewhere
(templates/errors/), and turn a body over DATA_UPLOAD_MAX_MEMORY_SIZE into 413
rather than 400. A 405 from `require_GET`/`require_POST` gets the same page,
its Allow header kept (BrandedMethodNotAllowedMiddleware).

Pages show dates in the person's time zone: TimeZoneMiddleware activates the
zone named by the `portal_tz` cookie (set by static/js/portal.js from the
browser, or on the preferences page) when it is a real IANA zone; anything else
is ignored and the page stays in UTC. /api/ always answers in UTC.
"""

import logging
import sys
import zoneinfo
from collections.abc import Callable
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy

from privacy_portal.db_errors import is_transient

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
INTERNAL_API_PREFIX = "/api/internal/"

# (code, detail) of the user's API for each status it may answer.
_API_ERRORS = {
    400: ("bad_request", "The request was not valid."),
    401: ("not_authenticated", "Sign in to use this API."),
    403: ("forbidden", "You may not do this."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("too_big", "The body is too large."),
    500: ("server_error", "Something went wrong on our side; nothing was changed."),
    503: ("busy", "The portal is busy; nothing was changed. Send the request again."),
}
# Headers an error keeps when its body is rewritten.
_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After", "Vary")


def api_error(request: HttpRequest, status: int, detail: str | None = None) -> JsonResponse:
    """The error answer of the API the request is for, in that API's shape."""
    code, default = _API_ERRORS.get(status, ("error", "The request failed."))
    text = detail or default
    if request.path.startswith(INTERNAL_API_PREFIX):
        body: dict = {"errors": [{"index": None, "field": None, "error": text}]}
    else:
        body = {"error": code, "detail": text}
    return JsonResponse(body, status=status)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _signed_in(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated) or "Authorization" in request.headers


class NoStoreWhenSignedInMiddleware:
    """Cache-Control: private, no-store on every answer to a signed-in request
    (placed after AuthenticationMiddleware, so it knows who asked)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _signed_in(request):
            if getattr(response, "revalidate", False):
                # A page with an ETag (dashboard/caching.py): the browser may
                # keep it but must ask again before every use; signing out
                # clears its cache (Clear-Site-Data).
                patch_cache_control(response, private=True, no_cache=True)
            else:
                patch_cache_control(response, private=True, no_store=True)
        return response


class ApiJsonErrorsMiddleware:
    """Under /api/, an error answer that is not JSON becomes JSON with the same
    status (placed first, so it sees what every other layer answered)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not _is_api(request) or _is_json(response):
            return response
        rewritten = api_error(request, response.status_code)
        for header in _KEPT_HEADERS:
            if header in response:
                rewritten[header] = response[header]
        if "Cache-Control" in response:
            rewritten["Cache-Control"] = response["Cache-Control"]
        for cookie in response.cookies.values():
            rewritten.cookies[cookie.key] = cookie
        return rewritten


@lru_cache(maxsize=512)
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    return zoneinfo.ZoneInfo(name)


def time_zone_or_none(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The IANA zone `name` names, or None for anything else (empty, too
    long, a path, an unknown name). Only names the tz database lists count:
    ZoneInfo alone would also open files such as "posixrules"."""
    if not name or len(name) > 64 or name not in _available_zones():
        return None
    try:
        return _zone(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=1)
def _available_zones() -> frozenset[str]:
    # "localtime" and the like are files, not zones a person lives in.
    return frozenset(
        name for name in zoneinfo.available_timezones() if name == "UTC" or "/" in name
    )


def available_time_zones() -> list[str]:
    """Every zone a person may choose, sorted (the preferences page's list)."""
    return sorted(_available_zones())


class TimeZoneMiddleware:
    """Activate the time zone of the `portal_tz` cookie for pages (never for
    /api/, whose dates are UTC); an invalid cookie is ignored."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = None
        if not _is_api(request):
            zone = time_zone_or_none(request.COOKIES.get(settings.PORTAL_TZ_COOKIE))
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


# What each error page says: (title, explanation).
_PAGES = {
    400: (
        gettext_lazy("That request was not valid"),
        gettext_lazy("The portal could not understand the request, so nothing was changed."),
    ),
    403: (
        gettext_lazy("You may not open this page"),
        gettext_lazy("Your account does not give access to this page. Nothing was changed."),
    ),
    404: (
        gettext_lazy("Page not found"),
        gettext_lazy("There is nothing at this address. It may have moved or been deleted."),
    ),
    405: (
        gettext_lazy("This page cannot be used that way"),
        gettext_lazy(
            "The page was asked for in a way it does not answer (for example a form sent "
            "to a page that only shows something). Nothing was changed."
        ),
    ),
    413: (
        gettext_lazy("That request was too large"),
        gettext_lazy("The request body is too large. Nothing was changed."),
    ),
    503: (
        gettext_lazy("The portal is busy"),
        gettext_lazy(
            "The portal could not answer this request just now and nothing was changed. "
            "Please try again in a moment."
        ),
    ),
    500: (
        gettext_lazy("Something went wrong on our side"),
        gettext_lazy(
            "The portal could not answer this request and nothing was changed. "
            "Please try again in a few minutes."
        ),
    ),
}


def error_page(request: HttpRequest, status: int) -> HttpResponse:
    """The branded HTML page for an error status (with the nav and a way back)."""
    title, message = _PAGES[status]
    context = {"status": status, "title": title, "message": message}
    return render(request, "errors/error.html", context, status=status)


class BrandedMethodNotAllowedMiddleware:
    """A page answering 405 (Django's require_GET/require_POST return an empty
    HttpResponseNotAllowed) gets the branded page; the Allow header stays.
    /api/ is left to ApiJsonErrorsMiddleware, which makes it JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or _is_api(request) or response.content:
            return response
        page = error_page(request, 405)
        if "Allow" in response:
            page["Allow"] = response["Allow"]
        return page


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: a body over the size limit is 413, anything else 400."""
    status = 413 if isinstance(exception, RequestDataTooBig) else 400
    if _is_api(request):
        return api_error(request, status)
    return error_page(request, status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return api_error(request, 403)
    return error_page(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return api_error(request, 404)
    return error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: rendered without the request's context (no session, user or
    database needed), since whatever failed may fail again.

    Django calls it while the exception is being handled, for an exception
    raised anywhere: a view's transient database error was already answered
    by TransientDatabaseErrorMiddleware, so one here was raised by a
    middleware (reading the session when the database is briefly out of
    reach) and is answered the same way."""
    exception = sys.exc_info()[1]
    if exception is not None and is_transient(exception):
        return transient_error_response(request, exception)
    return _bare_error(request, 500)


def _bare_error(request: HttpRequest, status: int) -> HttpResponse:
    """The error answer for `status` rendered without the request's context."""
    if _is_api(request):
        return api_error(request, status)
    title, message = _PAGES[status]
    try:
        body = loader.get_template("errors/500.html").render(
            {"status": status, "title": title, "message": message}
        )
    except Exception:  # the last resort must answer something
        body = str(message)
        return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    return HttpResponse(body, status=status)


# What the 503 of a transient database error asks the client to wait.
RETRY_AFTER_SECONDS = 1


class TransientDatabaseErrorMiddleware:
    """A view that failed on a transient database error (a deadlock, a
    serialization failure, the database briefly out of reach:
    privacy_portal.db_errors) answers 503 with Retry-After instead of 500.
    Its transaction was rolled back whole, so nothing was changed and the
    same request can simply be sent again; /api/ says so in JSON, pages on
    the error page (rendered without the database, which may be the thing
    that is out of reach)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_transient(exception):
            return None
        return transient_error_response(request, exception)


def transient_error_response(request: HttpRequest, exception: BaseException) -> HttpResponse:
    """The 503 of a transient database error, logged."""
    # With the traceback: a deadlock that recurs is a lock-order bug to find.
    logger.warning(
        "503 for %s %s: transient database error: %s",
        request.method,
        request.path,
        exception,
        exc_info=exception,
    )
    response = _bare_error(request, 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
