"""Bearer authentication of connected systems on the internal API.

`authenticate(request, scope)` is called by every view that accepts a
system's key (the ingest views too): a missing, unknown, revoked or disabled
key is 401, a valid key without the scope 403, both as JSON in the shape of
the ingest API's errors. On success the system is `request.connected_system`,
so what it sends is never echoed back to it.
"""

from django.http import HttpRequest, JsonResponse

from connected.credentials import SCOPES
from connected.models import ConnectedSystem
from connected.selectors import api_key_find

REALM = 'Bearer realm="portal-internal"'


def api_error(status: int, error: str, *, field: str | None = None, headers=None) -> JsonResponse:
    return JsonResponse(
        {"errors": [{"index": None, "field": field, "error": error}]},
        status=status,
        headers=headers,
    )


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def authenticate(
    request: HttpRequest, scope: str
) -> tuple[ConnectedSystem | None, JsonResponse | None]:
    """(system, None) for a valid key of an enabled system holding `scope`,
    else (None, a 401 or 403 answer)."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    request.connected_system = None
    token = bearer_token(request)
    if token is None:
        return None, api_error(
            401,
            "missing bearer token: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": REALM},
        )
    key = api_key_find(key=token)
    if key is None or not key.system.enabled:
        return None, api_error(401, "invalid token", headers={"WWW-Authenticate": REALM})
    if scope not in key.scopes:
        return None, api_error(403, f"this key lacks the scope {scope!r}")
    request.connected_system = key.system
    return key.system, None
