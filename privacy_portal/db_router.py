"""Reads of the user's own pages from a replica, everything else from the primary.

A replica lags the primary by a little. Showing a person their own data from
before the change they just made ("I deleted it, and it is still there") is
the one lag a person notices, so the rule is read-your-writes:

- writes always go to the primary (`default`);
- a read may go to the replica (`replica`) only inside a request that
  `ReplicaReadsMiddleware` allowed: a safe method (GET, HEAD) to a view of an
  allowed URL namespace (`PORTAL_REPLICA_NAMESPACES`: the end user's pages and
  /api/me/), from a client that has not changed anything in the last
  `PORTAL_REPLICA_PRIMARY_SECONDS`;
- a client that changes something (any unsafe request: POST, PUT, PATCH,
  DELETE; or a write inside a safe request) gets a signed cookie with the
  time, and reads from the primary until that many seconds have passed. The
  cookie is signed with SECRET_KEY, so every web host honours it; nothing is
  kept in a process;
- inside a transaction, after a write in the same request, in Celery tasks,
  management commands (the purge, ingest's commands), admin, the support
  console and the ingest API, every read is on the primary: only the
  middleware ever allows the replica, and only for its own request.

Without DATABASE_REPLICA_URL there is no `replica` alias, the router is not
installed and the middleware removes itself (MiddlewareNotUsed): one database,
as before.
"""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core import signing
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

REPLICA_ALIAS = "replica"
ROUTER = "privacy_portal.db_router.ReplicaRouter"
COOKIE_NAME = "portal_primary"
_COOKIE_SALT = "privacy_portal.db_router.primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Apps whose tables are read on the primary whatever the request: a session
# or a login throttle read from a lagging copy would sign a person in or out
# wrongly, and the scheduler's rows are the workers'.
PRIMARY_ONLY_APPS = frozenset({"sessions", "axes", "django_celery_beat"})


class _State:
    """What the router may do for the current request (one per request, kept
    in a context variable so threads and async tasks each see their own)."""

    __slots__ = ("replica_allowed", "wrote")

    def __init__(self, replica_allowed: bool) -> None:
        self.replica_allowed = replica_allowed
        self.wrote = False


_state: ContextVar[_State | None] = ContextVar("portal_db_state", default=None)


def replica_in_use() -> bool:
    """Whether the current request's reads go to the replica right now."""
    state = _state.get()
    return bool(
        state is not None
        and state.replica_allowed
        and not state.wrote
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    )


def use_primary() -> None:
    """From here on, the current request reads from the primary (e.g. the
    page's data changed a moment ago and the replica may not have it yet)."""
    state = _state.get()
    if state is not None:
        state.replica_allowed = False


@contextmanager
def replica_reads(allowed: bool = True) -> Iterator[None]:
    """Allow (or forbid) replica reads for the block: what the middleware does
    for a request; tests and benchmarks use it directly."""
    token = _state.set(_State(allowed))
    try:
        yield
    finally:
        _state.reset(token)


def primary_only_begin():
    """Reads on the primary until primary_only_end(token): for a Celery task,
    even one run eagerly inside a request that may read the replica."""
    return _state.set(_State(replica_allowed=False))


def primary_only_end(token) -> None:
    try:
        _state.reset(token)
    except ValueError:  # set in another context (a worker that switched threads)
        _state.set(None)


class ReplicaRouter:
    """Installed only when DATABASE_REPLICA_URL is set (settings.py)."""

    def db_for_read(self, model, **hints) -> str:
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return DEFAULT_DB_ALIAS
        return REPLICA_ALIAS if replica_in_use() else DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints) -> str:
        # Django asks this for writes and for reads that lock
        # (select_for_update, get_or_create): the rest of the request reads
        # what it wrote, and the client gets the read-your-writes cookie.
        state = _state.get()
        if state is not None:
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the same data on both aliases

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's WAL


def _recently_wrote(request: HttpRequest) -> bool:
    try:
        request.get_signed_cookie(
            COOKIE_NAME, salt=_COOKIE_SALT, max_age=settings.PORTAL_REPLICA_PRIMARY_SECONDS
        )
    except (KeyError, signing.BadSignature):  # absent, forged or older than the window
        return False
    return True


class ReplicaReadsMiddleware:
    """Decides per request whether its reads may use the replica, and gives a
    client that changed something the cookie that keeps its reads on the
    primary for PORTAL_REPLICA_PRIMARY_SECONDS. Place it after
    AuthenticationMiddleware; it decides in process_view, once the view and
    its URL namespace are known."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        if REPLICA_ALIAS not in settings.DATABASES or ROUTER not in settings.DATABASE_ROUTERS:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.namespaces = frozenset(settings.PORTAL_REPLICA_NAMESPACES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = _State(replica_allowed=False)
        token = _state.set(state)
        try:
            response = self.get_response(request)
        finally:
            _state.reset(token)
        # API clients with a bearer token (the chat service) never read pages.
        if (request.method not in SAFE_METHODS or state.wrote) and (
            "Authorization" not in request.headers
        ):
            response.set_signed_cookie(
                COOKIE_NAME,
                str(int(time.time())),
                salt=_COOKIE_SALT,
                max_age=settings.PORTAL_REPLICA_PRIMARY_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        state = _state.get()
        match = request.resolver_match
        if (
            state is not None
            and request.method in SAFE_METHODS
            and match is not None
            and self.namespaces.intersection(match.namespaces)
            and not getattr(view_func, "primary_reads", False)
            and not _recently_wrote(request)
        ):
            state.replica_allowed = True


def primary_reads(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Mark a view whose GET must read the primary although its namespace
    may use the replica (e.g. a page that confirms a change made elsewhere)."""
    view.primary_reads = True
    return view
