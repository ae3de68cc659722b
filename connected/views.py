"""The connected systems' side of the internal API (docs/connected-systems.md):
the change feed and erasure confirmations. Every answer is JSON."""

from functools import wraps

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from connected.auth import api_error, authenticate
from connected.events import iso_utc
from connected.selectors import BadCursor, changes_page, erasure_delivery
from connected.services.confirmations import erasure_confirm

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def _json_405(view):
    # Django's require_* answer HTML; keep the API's JSON error shape.
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and not isinstance(response, JsonResponse):
            allow = response.get("Allow", "")
            return api_error(
                405, f"method {request.method} not allowed; use {allow}", headers={"Allow": allow}
            )
        return response

    return wrapped


@csrf_exempt
@_json_405
@require_GET
def changes(request: HttpRequest) -> JsonResponse:
    system, refused = authenticate(request, "changes")
    if refused:
        return refused
    raw = request.GET.get("limit", str(DEFAULT_PAGE))
    limit = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else 0
    if not 1 <= limit <= MAX_PAGE:
        return api_error(400, f"must be a whole number from 1 to {MAX_PAGE}", field="limit")
    try:
        events, next_cursor = changes_page(
            system=system, after=request.GET.get("after") or None, limit=limit
        )
    except BadCursor as exc:
        return api_error(400, str(exc), field="after")
    return JsonResponse({"events": events, "next": next_cursor})


@csrf_exempt
@_json_405
@require_POST
def erasure_confirm_view(request: HttpRequest, event_id: str) -> JsonResponse:
    system, refused = authenticate(request, "erasures")
    if refused:
        return refused
    delivery = None if "\x00" in event_id else erasure_delivery(system=system, event_id=event_id)
    if delivery is None:
        return api_error(404, f"no erasure event {event_id!r} was sent to this system")
    confirmed_at = erasure_confirm(delivery=delivery)
    return JsonResponse({"id": event_id, "confirmed_at": iso_utc(confirmed_at)})
