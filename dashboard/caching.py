"""Conditional GET for the user's pages: `@conditional_page` answers a repeat
visit `304 Not Modified` when nothing the page shows has changed, without
reading or rendering anything.

The ETag is a digest of
- the account's data version and the global one (accounts/data_version.py:
  replaced by every service that changes what the pages show),
- the session and the CSRF cookie (a new sign-in or a new CSRF secret is a
  new page: the page carries the token in its forms),
- the request's full path, whether it asks for an htmx fragment, the
  language, the release (templates and code: PORTAL_RELEASE or a digest of
  the source at start-up),
- the current time bucket of PORTAL_ETAG_SECONDS: the pages also change with
  the clock alone ("in 3 days", "removal is due", the timeline's marker), so
  a 304 is never older than that.

A page is answered in full, with no ETag, when Django messages wait to be
shown, when the client has no CSRF cookie yet (the answer sets one) or when
conditional GET is off (no shared cache, PORTAL_CONDITIONAL_GET). Answers with
an ETag say `Cache-Control: private, no-cache` instead of `no-store`
(privacy_portal.http.NoStoreWhenSignedInMiddleware honours `revalidate`): the
browser keeps its copy but asks every time, and signing out sends
`Clear-Site-Data: "cache"` so the next person at the machine finds no copy.

If the account's data changed in the last PORTAL_REPLICA_PRIMARY_SECONDS
(ingest, the purge), the page reads the primary: a replica may not have the
change yet, and its ETag would name data it does not show.
"""

import hashlib
import time
from collections.abc import Callable
from functools import cache, wraps
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.translation import get_language

from accounts.data_version import data_version_for
from privacy_portal.db_router import use_primary

_SOURCE_SUFFIXES = (".py", ".html", ".txt", ".json")
_SKIPPED_DIRS = {".venv", "var", "tests", "node_modules", ".git", "test-artifacts", "bench"}


@cache
def release() -> str:
    """What the HTML is made with: PORTAL_RELEASE (e.g. the deployed commit)
    or a digest of the templates and code, read once per process."""
    if settings.PORTAL_RELEASE:
        return settings.PORTAL_RELEASE
    digest = hashlib.sha256()
    base = Path(settings.BASE_DIR)
    for path in sorted(base.rglob("*")):
        parts = path.relative_to(base).parts
        if _SKIPPED_DIRS.intersection(parts) or path.suffix not in _SOURCE_SUFFIXES:
            continue
        if path.is_file():
            digest.update(str(parts).encode())
            digest.update(path.read_bytes())
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.is_file():
        digest.update(manifest.read_bytes())
    return digest.hexdigest()[:16]


def _messages_waiting(request: HttpRequest) -> bool:
    # Without reading them (that would mark them shown): the cookie storage's
    # cookie, or the session storage's key.
    session = getattr(request, "session", None)
    return bool(request.COOKIES.get("messages")) or (session is not None and "_messages" in session)


def page_etag(request: HttpRequest, version_token: str) -> str:
    htmx = getattr(request, "htmx", None)
    parts = (
        version_token,
        request.session.session_key or "",
        request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""),
        request.get_full_path(),
        "htmx" if htmx else "page",
        "restore" if htmx and htmx.history_restore_request else "",
        htmx.target or "" if htmx else "",
        get_language() or "",
        timezone.get_current_timezone_name(),  # dates are shown in the reader's zone
        release(),
        str(int(time.time()) // settings.PORTAL_ETAG_SECONDS),
    )
    return '"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32] + '"'


def conditional_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Put it outside the login check (it answers only signed-in GETs itself):

    @require_GET
    @conditional_page
    @portal_login_required
    def overview(request): ...
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or not request.user.is_authenticated:
            return view(request, *args, **kwargs)
        version = data_version_for(user_id=request.user.pk)
        if version is None:
            return view(request, *args, **kwargs)
        if version.changed_within(settings.PORTAL_REPLICA_PRIMARY_SECONDS):
            use_primary()
        if _messages_waiting(request) or settings.CSRF_COOKIE_NAME not in request.COOKIES:
            return view(request, *args, **kwargs)
        etag = page_etag(request, version.token)
        not_modified = get_conditional_response(request, etag=etag)
        if not_modified is not None:
            return _revalidated(not_modified, etag)
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.streaming and not response.cookies:
            _revalidated(response, etag)
        return response

    return wrapper


def _revalidated(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    patch_vary_headers(response, ("Cookie", "HX-Request", "HX-Target"))
    # privacy_portal.http.NoStoreWhenSignedInMiddleware: "private, no-cache".
    response.revalidate = True
    return response
