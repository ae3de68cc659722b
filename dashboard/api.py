"""The JSON API for the signed-in user (/api/me/): session auth, CSRF on
every write like any other POST, times in ISO 8601 UTC, rule codes as in
docs/retention-rules.md. Anonymous: 401; another user's or an unknown id: 404;
malformed input: 400; the database busy for a moment (a deadlock, too many
connections): 503 with Retry-After, nothing changed, send it again
(privacy_portal.http.TransientDatabaseErrorMiddleware). All answers are JSON."""

import json
from collections.abc import Iterator

from django.contrib.auth import logout
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.request import RawPostDataException
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.auto_delete import is_valid_after_months
from accounts.external_ids import is_valid_external_id
from accounts.services import (
    AutoDeleteNotTheUsers,
    ConsentNotTheUsers,
    auto_delete_may_choose,
    consent_choose,
)
from dashboard import selectors
from dashboard.account_summary import account_deletion_json
from dashboard.auth import api_login_required
from dashboard.presentation import BadCursor
from dashboard.views import export_response
from retention.selectors.documents import current_article_version
from retention.services.accounts import AccountDeleteRefused, account_delete
from retention.services.auto_delete import auto_delete_choose
from retention.services.conversations import ConversationNotFound, conversations_delete_by_id


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


@require_GET
@api_login_required
def conversations(request: HttpRequest) -> JsonResponse:
    try:
        payload = selectors.api_conversation_page(
            user=request.user, now=timezone.now(), cursor=request.GET.get("cursor") or None
        )
    except BadCursor:
        return _error(400, "bad_cursor", "The cursor is not one this API returned.")
    return JsonResponse(payload)


@require_http_methods(["DELETE"])
@api_login_required
def conversation_delete(request: HttpRequest, external_id: str) -> HttpResponse:
    """Idempotent: deleting one's own conversation again answers 204 too."""
    if not is_valid_external_id(external_id):
        return _error(400, "bad_id", "This is not a valid conversation id.")
    try:
        conversations_delete_by_id(user=request.user, external_ids=[external_id])
    except ConversationNotFound:
        return _error(404, "not_found", "There is no conversation with this id in your history.")
    return HttpResponse(status=204)


def _deleted_chunks(user) -> Iterator[str]:
    yield '{"deleted":['
    for i, row in enumerate(selectors.api_deleted(user=user)):
        yield ("," if i else "") + json.dumps(row)
    yield "]}"


@require_GET
@api_login_required
def deleted(request: HttpRequest) -> StreamingHttpResponse:
    return StreamingHttpResponse(_deleted_chunks(request.user), content_type="application/json")


@require_GET
@api_login_required
def export(request: HttpRequest) -> StreamingHttpResponse:
    return export_response(request)


def _json_body(
    request: HttpRequest, *, too_big: str, bad_json: str
) -> tuple[object, JsonResponse | None]:
    """The request's JSON body, or the JSON error to answer with: 413 for a
    body past the limit (Django's own answer would be an HTML 400), 400 for
    a body that is not JSON (a form or multipart body the CSRF check already
    read as a form, bad JSON or encoding, nesting too deep)."""
    try:
        return json.loads(request.body or b""), None
    except RequestDataTooBig:
        return None, _error(413, "too_big", too_big)
    except (RawPostDataException, ValueError, RecursionError):
        return None, _error(400, "bad_json", bad_json)


@require_POST
@api_login_required
def consent(request: HttpRequest) -> JsonResponse:
    """Body {"allowed": bool}. Answers the consent in force afterwards."""
    body, refused = _json_body(
        request,
        too_big='The body is too large; send {"allowed": true} or false.',
        bad_json='Send a JSON body like {"allowed": true}.',
    )
    if refused is not None:
        return refused
    if not isinstance(body, dict) or not isinstance(body.get("allowed"), bool):
        return _error(400, "bad_allowed", '"allowed" must be true or false.')
    try:
        change = consent_choose(
            user=request.user,
            allowed=body["allowed"],
            article_version=current_article_version(),
        )
    except ConsentNotTheUsers as refusal:
        return _error(400, "commercial_account", str(refusal))
    state = selectors.consent_state(user=request.user, now=timezone.now())
    return JsonResponse(
        {
            "allowed": state.allowed,
            "since": state.since.iso if state.since else None,
            "changed": change is not None,
        }
    )


_AUTO_DELETE_BODY = 'Send a JSON body like {"after_months": 3}: 3, 18, 36 or null (off).'


@require_http_methods(["GET", "POST"])
@api_login_required
def auto_delete(request: HttpRequest) -> JsonResponse:
    """GET: {"after_months": 3 | 18 | 36 | null}. POST the same body to set
    it (exactly that one key; any other value is a 400 and nothing changes);
    answers the value stored. A commercial account: 400, as /api/me/consent."""
    if request.method == "GET":
        return JsonResponse({"after_months": request.user.auto_delete_months})
    body, refused = _json_body(
        request, too_big="The body is too large. " + _AUTO_DELETE_BODY, bad_json=_AUTO_DELETE_BODY
    )
    if refused is not None:
        return refused
    if (
        not isinstance(body, dict)
        or set(body) != {"after_months"}
        or not is_valid_after_months(body["after_months"])
    ):
        return _error(400, "bad_after_months", _AUTO_DELETE_BODY)
    try:
        auto_delete_may_choose(user=request.user)
    except AutoDeleteNotTheUsers as refusal:
        return _error(400, "commercial_account", str(refusal))
    auto_delete_choose(user=request.user, after_months=body["after_months"])
    return JsonResponse({"after_months": request.user.auto_delete_months})


@require_http_methods(["DELETE"])
@api_login_required
def account(request: HttpRequest) -> JsonResponse:
    """Body {"confirm": "<the account's email>"}: deletes the account (see
    retention.services.accounts.account_delete) and ends this session with
    the others. Anything else is a 400 and changes nothing."""
    example = '{"confirm": "<your account\'s email>"}'
    body, refused = _json_body(
        request,
        too_big=f"The body is too large; send {example}.",
        bad_json=f"Send a JSON body like {example}.",
    )
    if refused is not None:
        return refused
    if not isinstance(body, dict) or not isinstance(body.get("confirm"), str):
        return _error(400, "bad_confirm", f'"confirm" must be your account\'s email: {example}.')
    try:
        result = account_delete(user=request.user, confirm_email=body["confirm"])
    except AccountDeleteRefused as refusal:
        return _error(400, refusal.code, str(refusal))
    logout(request)
    return JsonResponse(account_deletion_json(result))
