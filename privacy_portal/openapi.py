"""The published description of the portal's JSON APIs: an OpenAPI 3.1
document, served at /api/openapi.json, built from the pydantic models the
APIs validate with (ingest.schemas) or answer in (ingest.schemas,
dashboard.api_schemas).

Adding an operation is one entry in OPERATIONS: its method and path (as the
URLconf spells it, `{name}` for an argument), a summary, who may call it,
the model of its body if it takes one, and its answers (status -> model, or
None for an empty body). tests/security/test_openapi.py fails for a route
under /api/ that has no entry, validates the document as OpenAPI 3.1, and
fuzzes every operation against it with schemathesis.
"""

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import models_json_schema

from connected import api_schemas as systems
from dashboard import api_schemas as me
from ingest import schemas as internal

BEARER, SESSION, NOBODY = "bearer", "session", "nobody"
_REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # "path" or "query"
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # e.g. "/api/internal/training-runs/{run_id}/conversations"
    summary: str
    auth: str  # BEARER (the chat service), SESSION (the signed-in user) or NOBODY
    responses: dict[int, type[BaseModel] | None]
    body: type[BaseModel] | None = None
    params: tuple[Param, ...] = ()
    produces: str = "application/json"


class ApiDescription(BaseModel):
    """This document."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


RUN_ID = Param(
    "run_id",
    "path",
    "A training run's id (the portal's id rule)",
    {"type": "string", "minLength": 1, "maxLength": 128},
    required=True,
)
CONVERSATION_ID = Param(
    "external_id",
    "path",
    "A conversation's id; one that breaks the id rule is a 400",
    {"type": "string", "minLength": 1},
    required=True,
)
CURSOR = Param("cursor", "query", "The `next` of the previous page, verbatim")
# 503: a transient database error (privacy_portal.db_errors): nothing changed, retry.
INTERNAL_ERRORS = {400: internal.Errors, 401: internal.Errors, 503: internal.Errors}
ME_ERRORS = {401: me.MeError, 503: me.MeError}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get",
        "/api/openapi.json",
        "This description of the portal's JSON APIs (OpenAPI 3.1)",
        NOBODY,
        {200: ApiDescription},
    ),
    Operation(
        "post",
        "/api/internal/events",
        "Apply a batch of chat-service events, all or nothing (docs/ingest-api.md)",
        BEARER,
        {
            200: internal.EventsAccepted,
            **INTERNAL_ERRORS,
            409: internal.Errors,
            413: internal.Errors,
            503: internal.Errors,
        },
        body=internal.EventBatch,
    ),
    Operation(
        "post",
        "/api/internal/training-runs",
        "Register a training run and the conversations it may use",
        BEARER,
        {
            200: internal.TrainingRunAnswer,
            201: internal.TrainingRunAnswer,
            **INTERNAL_ERRORS,
            409: internal.Errors,
            413: internal.Errors,
        },
        body=internal.TrainingRunData,
    ),
    Operation(
        "get",
        "/api/internal/training-runs/{run_id}/conversations",
        "Page through the ids of the conversations a run used",
        BEARER,
        {200: internal.TrainingRunConversationsPage, **INTERNAL_ERRORS, 404: internal.Errors},
        params=(
            RUN_ID,
            Param("limit", "query", "Page size, 1 to 1000 (default 500)"),
            CURSOR,
        ),
    ),
    Operation(
        "get",
        "/api/internal/changes",
        "A connected system's change feed: the events it subscribes to, in order",
        BEARER,
        {200: systems.ChangesPage, **INTERNAL_ERRORS, 403: internal.Errors},
        params=(
            Param("after", "query", "The `next` of the previous page, verbatim"),
            Param("limit", "query", "Page size, 1 to 1000 (default 100)"),
        ),
    ),
    Operation(
        "post",
        "/api/internal/erasures/{event_id}/confirm",
        "A connected system confirms it erased its copy (idempotent)",
        BEARER,
        {
            200: systems.ErasureConfirmed,
            401: internal.Errors,
            403: internal.Errors,
            404: internal.Errors,
        },
        params=(
            Param(
                "event_id",
                "path",
                "The id of a *.purged event sent to this system",
                required=True,
            ),
        ),
    ),
    Operation(
        "get",
        "/api/me/conversations",
        "A page of the user's conversations with their retention status and why",
        SESSION,
        {200: me.ConversationPage, 400: me.MeError, **ME_ERRORS},
        params=(CURSOR,),
    ),
    Operation(
        "delete",
        "/api/me/conversations/{external_id}",
        "Delete one of the user's conversations (idempotent)",
        SESSION,
        {204: None, 400: me.MeError, **ME_ERRORS, 403: me.MeError, 404: me.MeError},
        params=(CONVERSATION_ID,),
    ),
    Operation(
        "get",
        "/api/me/deleted",
        "The user's deleted conversations awaiting purge, then the purge receipts",
        SESSION,
        {200: me.DeletedList, **ME_ERRORS},
    ),
    Operation(
        "get",
        "/api/me/export",
        "Everything the portal keeps about the user, as one JSON document",
        SESSION,
        {200: me.Export, **ME_ERRORS},
    ),
    Operation(
        "post",
        "/api/me/consent",
        "Set the user's model-training consent; answers the consent in force",
        SESSION,
        {
            200: me.ConsentAnswer,
            400: me.MeError,
            **ME_ERRORS,
            403: me.MeError,
            413: me.MeError,
        },
        body=me.ConsentChoice,
    ),
    Operation(
        "get",
        "/api/me/auto-delete",
        "The user's auto-delete: months after last activity, or null (off)",
        SESSION,
        {200: me.AutoDeleteSetting, **ME_ERRORS},
    ),
    Operation(
        "post",
        "/api/me/auto-delete",
        "Set the user's auto-delete (3, 18, 36 or null); answers the value stored",
        SESSION,
        {
            200: me.AutoDeleteSetting,
            400: me.MeError,
            **ME_ERRORS,
            403: me.MeError,
            413: me.MeError,
        },
        body=me.AutoDeleteSetting,
    ),
    Operation(
        "delete",
        "/api/me/account",
        "Delete the user's account (confirmed by its email): what went and what is kept until when",
        SESSION,
        {
            200: me.AccountDeleted,
            400: me.MeError,
            **ME_ERRORS,
            403: me.MeError,
            413: me.MeError,
        },
        body=me.AccountDeleteConfirm,
    ),
)

_SECURITY = {
    BEARER: [{"ingestToken": []}],
    SESSION: [{"session": []}],
    NOBODY: [],
}
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No content",
    400: "Invalid request",
    401: "Not authenticated",
    403: "Forbidden (a CSRF failure for the session API)",
    404: "Not found",
    409: "Conflict",
    413: "Body too large",
    503: "Busy; retry",
}


def _models() -> list[tuple[type[BaseModel], str]]:
    wanted = []
    for op in OPERATIONS:
        if op.body is not None:
            wanted.append((op.body, "validation"))
        wanted += [(model, "serialization") for model in op.responses.values() if model]
    return list(dict.fromkeys(wanted))


def _operation(op: Operation, refs: dict) -> dict[str, Any]:
    responses = {}
    for status, model in sorted(op.responses.items()):
        answer: dict[str, Any] = {"description": _STATUS_TEXT.get(status, str(status))}
        if model is not None:
            answer["content"] = {op.produces: {"schema": refs[model, "serialization"]}}
        responses[str(status)] = answer
    described: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method}_{op.path.strip('/').replace('/', '_')}",
        "security": _SECURITY[op.auth],
        "responses": responses,
    }
    if op.params:
        described["parameters"] = [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required or p.where == "path",
                "description": p.description,
                "schema": p.schema,
            }
            for p in op.params
        ]
    if op.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[op.body, "validation"]}},
        }
    return described


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every JSON API of the portal."""
    refs, definitions = models_json_schema(_models(), ref_template=_REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Privacy portal APIs",
            "version": "1",
            "description": (
                "/api/internal/: the chat service's ingest API (bearer token; "
                "docs/ingest-api.md). /api/me/: the signed-in user's own data (session "
                "cookie; every write also needs the CSRF token in X-CSRFToken). Errors are "
                'JSON: {"errors": [{"index", "field", "error"}]} under /api/internal/, '
                '{"error", "detail"} under /api/me/.'
            ),
        },
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "ingestToken": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
        },
    }


@require_GET
def openapi_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(openapi_document())
