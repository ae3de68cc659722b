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
they answer JSON under /api/ and Django's own pages elsewhere, and turn a
body over DATA_UPLOAD_MAX_MEMORY_SIZE into 413 rather than 400.
"""

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control
from django.views import defaults

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


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: a body over the size limit is 413, anything else 400."""
    if isinstance(exception, RequestDataTooBig):
        if _is_api(request):
            return api_error(request, 413)
        return HttpResponse("The request body is too large.", status=413, content_type="text/plain")
    if _is_api(request):
        return api_error(request, 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return api_error(request, 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return api_error(request, 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return api_error(request, 500)
    return defaults.server_error(request)
