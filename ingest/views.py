"""The internal API the chat service calls (docs/ingest-api.md).

Machine to machine: a bearer token (settings.PORTAL_INGEST_TOKEN, or a
connected system's key with the endpoint's scope, docs/connected-systems.md)
instead of sessions, so no CSRF. Every answer is JSON, errors included, in one shape:
`{"errors": [{"index": ..., "field": ..., "error": ...}]}`.
"""

import hmac
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.http.request import RawPostDataException
from django.views.decorators.csrf import csrf_exempt

from accounts.external_ids import is_valid_external_id
from connected import auth as connected_auth
from connected.credentials import looks_like_api_key
from ingest.schemas import json_loads, training_run_validate
from ingest.selectors import (
    BadCursor,
    training_run_conversation_count,
    training_run_conversations_page,
    training_run_get,
)
from ingest.services import IngestBusy, IngestConflict, IngestRejected, events_ingest
from retention.models import TrainingRun
from retention.services.training import TrainingRunConflict, training_run_register

logger = logging.getLogger(__name__)

DEFAULT_PAGE = 500
MAX_PAGE = 1000


def _error(
    status: int, error: str, *, field: str | None = None, headers: dict | None = None
) -> JsonResponse:
    return JsonResponse(
        {"errors": [{"index": None, "field": field, "error": error}]},
        status=status,
        headers=headers,
    )


def _unauthorized(error: str) -> JsonResponse:
    return _error(401, error, headers={"WWW-Authenticate": 'Bearer realm="portal-ingest"'})


def _authenticate(request: HttpRequest, scope: str) -> JsonResponse | None:
    """PORTAL_INGEST_TOKEN, or a connected system's key holding `scope`. A
    system's key is recognised by its prefix and judged by connected.auth
    (which sets request.connected_system); any other token as before."""
    request.connected_system = None
    token = connected_auth.bearer_token(request)
    if token is not None and looks_like_api_key(token):
        _, refused = connected_auth.authenticate(request, scope)
        return refused
    expected = settings.PORTAL_INGEST_TOKEN
    if not expected:
        # No token configured means the API is off, not open.
        return _unauthorized("the ingest API is disabled: PORTAL_INGEST_TOKEN is not configured")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    # Bytes, so a non-ASCII token is compared (and refused) rather than raising.
    if not hmac.compare_digest(token.encode(), expected.encode()):
        return _unauthorized("invalid token")
    return None


def internal_api(*methods: str, scope: str) -> Callable:
    """Method check (405 as JSON) and bearer authentication for a view; a
    system's key needs `scope` (connected.credentials.SCOPES)."""

    def decorator(view: Callable) -> Callable:
        @csrf_exempt
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                return _error(
                    405,
                    f"method {request.method} not allowed; use {', '.join(methods)}",
                    headers={"Allow": ", ".join(methods)},
                )
            return _authenticate(request, scope) or view(request, *args, **kwargs)

        return wrapped

    return decorator


def _json_body(request: HttpRequest) -> tuple[object, JsonResponse | None]:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    too_big = _error(413, f"the body is larger than {limit} bytes; send smaller batches")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None, _error(400, "invalid Content-Length header")
    if limit is not None and length > limit:
        return None, too_big  # refused before reading a byte of it
    try:
        body = request.body
    except RequestDataTooBig:
        return None, too_big
    except RawPostDataException:  # already read as a form by a middleware: not JSON
        return None, _error(400, "the body is not valid JSON (send application/json)")
    try:
        return json_loads(body), None
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        return None, _error(400, f"the body is not valid JSON ({exc})")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@internal_api("POST", scope="events")
def events(request: HttpRequest) -> JsonResponse:
    payload, problem = _json_body(request)
    if problem:
        return problem
    if not isinstance(payload, dict) or "events" not in payload:
        return _error(400, 'the body must be an object {"events": [...]}', field="events")
    try:
        result = events_ingest(
            events=payload["events"],
            # What a system reports is not echoed back to it.
            origin_system_id=request.connected_system.pk if request.connected_system else None,
        )
    except IngestConflict as exc:
        return JsonResponse({"errors": [e.as_dict() for e in exc.errors]}, status=409)
    except IngestRejected as exc:
        return JsonResponse({"errors": [e.as_dict() for e in exc.errors]}, status=400)
    except IngestBusy as exc:
        return _error(503, str(exc), headers={"Retry-After": "1"})
    return JsonResponse({"accepted": result.accepted, "duplicates": result.duplicates})


def _run_json(run: TrainingRun) -> dict:
    return {
        "id": run.external_id,
        "name": run.name,
        "started_at": _iso(run.started_at),
        "conversations": training_run_conversation_count(run=run),
    }


@internal_api("POST", scope="training_runs")
def training_runs(request: HttpRequest) -> JsonResponse:
    payload, problem = _json_body(request)
    if problem:
        return problem
    data, problems = training_run_validate(payload)
    if data is None:
        return JsonResponse(
            {"errors": [{"index": None, "field": f, "error": e} for f, e in problems]},
            status=400,
        )
    try:
        run, created = training_run_register(
            external_id=data.id, name=data.name, started_at=data.started_at
        )
    except TrainingRunConflict as exc:
        return _error(409, str(exc), field="id")
    return JsonResponse(_run_json(run), status=201 if created else 200)


@internal_api("GET", scope="training_runs")
def training_run_conversations(request: HttpRequest, run_id: str) -> JsonResponse:
    # Run ids follow the one id rule; another (NUL included, which PostgreSQL
    # text cannot hold) is no run's.
    run = training_run_get(external_id=run_id) if is_valid_external_id(run_id) else None
    if run is None:
        return _error(404, f"unknown training run {run_id!r}")
    try:
        limit = int(request.GET.get("limit", DEFAULT_PAGE))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_PAGE:
        return _error(400, f"must be a whole number from 1 to {MAX_PAGE}", field="limit")
    try:
        conversations, next_cursor = training_run_conversations_page(
            run=run, cursor=request.GET.get("cursor") or None, limit=limit
        )
    except BadCursor as exc:
        return _error(400, str(exc), field="cursor")
    return JsonResponse({"conversations": conversations, "next": next_cursor})
