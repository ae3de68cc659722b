"""Pages of the end-user privacy dashboard.

Plain function views: validate, call one selector or service, render. Every
page works without JavaScript (forms POST and redirect); with htmx a view
renders only its fragment ("page.html#partial").
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.external_ids import is_valid_external_id
from accounts.services import ConsentNotTheUsers, consent_choose, consent_may_choose
from dashboard import selectors
from dashboard.auth import portal_login_required
from dashboard.export import export_chunks
from dashboard.forms import (
    ConsentForm,
    ConversationFilterForm,
    CursorForm,
    DeleteAllForm,
    DeleteSelectedForm,
)
from dashboard.presentation import LAW_CAVEAT
from retention.selectors.documents import current_article_version
from retention.services.conversations import ConversationNotFound, conversations_delete_by_id
from retention.services.conversations import conversations_delete_all as delete_everything
from retention.services.documents import UnknownPolicyVersion, policy_notice_dismiss


def _context(request: HttpRequest, **extra) -> dict:
    return {
        "caveat": LAW_CAVEAT,
        "commercial_terms_url": settings.PORTAL_COMMERCIAL_TERMS_URL,
        "is_commercial": request.user.is_commercial,
        **extra,
    }


def _fragment(request: HttpRequest) -> bool:
    """Render only the partial: an htmx request, but not a history restore
    (going back to a pushed URL needs the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(
        request,
        "dashboard/error.html",
        {"title": "That request was not valid", "message": message},
        status=400,
    )


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "dashboard/error.html",
        {
            "title": "Conversation not found",
            "message": "There is no conversation with this id in your history.",
        },
        status=404,
    )


@require_GET
@portal_login_required
def overview(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "dashboard/overview.html",
        _context(
            request,
            overview=selectors.overview(user=request.user, now=now),
            notice=selectors.policy_notice(user=request.user),
        ),
    )


@require_POST
@portal_login_required
def policy_notice_read(request: HttpRequest, version: str) -> HttpResponse:
    """Dismiss the notice of a policy change (recorded per user). A plain form
    POST redirects to the overview; htmx re-renders the (now empty) notice."""
    try:
        policy_notice_dismiss(user=request.user, version=version)
    except UnknownPolicyVersion:
        return render(
            request,
            "dashboard/error.html",
            {"title": "Policy version not found", "message": "There is no such policy version."},
            status=404,
        )
    if request.htmx:
        return render(
            request,
            "dashboard/overview.html#notice",
            _context(request, notice=selectors.policy_notice(user=request.user)),
        )
    return redirect("dashboard:overview")


def _list_context(request: HttpRequest, form: ConversationFilterForm, **extra) -> dict:
    now = timezone.now()
    data = form.cleaned_data
    page = selectors.conversation_page(
        user=request.user,
        now=now,
        cursor=data["cursor"] or None,
        rule=data["rule"],
        kind=data["kind"],
        search=data["q"],
    )
    params = {k: data[k] for k in ("rule", "kind", "q") if data[k]}
    return _context(
        request,
        form=form,
        page=page,
        filter_params=params,
        delete_all_form=extra.pop("delete_all_form", DeleteAllForm()),
        **extra,
    )


@require_GET
@portal_login_required
def conversation_list(request: HttpRequest) -> HttpResponse:
    form = ConversationFilterForm(request.GET)
    if not form.is_valid():
        return _bad_request(
            request, "; ".join(e for errors in form.errors.values() for e in errors)
        )
    template = (
        "dashboard/conversations.html#listing"
        if _fragment(request)
        else "dashboard/conversations.html"
    )
    return render(request, template, _list_context(request, form))


@require_GET
@portal_login_required
def conversation_detail(request: HttpRequest, external_id: str) -> HttpResponse:
    if not is_valid_external_id(external_id):
        return _bad_request(request, "This is not a valid conversation id.")
    detail = selectors.conversation_detail(
        user=request.user, external_id=external_id, now=timezone.now()
    )
    if detail is None:
        return _not_found(request)
    return render(request, "dashboard/conversation.html", _context(request, detail=detail))


def _current_filters(request: HttpRequest) -> ConversationFilterForm:
    """The list filters of the page an htmx POST came from, so the re-rendered
    list matches the filter form still on screen (from page one)."""
    try:
        query = urlsplit(request.headers.get("HX-Current-URL", "")).query
    except ValueError:  # a header that is not a URL: the list from page one, unfiltered
        query = ""
    data = QueryDict(query, mutable=True)
    data.pop("cursor", None)
    form = ConversationFilterForm(data)
    if not form.is_valid():
        form = ConversationFilterForm({})
        form.is_valid()
    return form


def _after_delete(request: HttpRequest, deleted: int) -> HttpResponse:
    if deleted:
        noun = "1 conversation" if deleted == 1 else f"{deleted} conversations"
        messages.success(
            request,
            f"Deleted {noun}. Gone from your history now; "
            "“Deleted, awaiting purge” shows when the content is removed.",
        )
    else:
        messages.info(request, "Nothing to delete: those conversations were already deleted.")
    if request.htmx:
        return render(
            request,
            "dashboard/conversations.html#listing",
            _list_context(request, _current_filters(request)),
        )
    return redirect("dashboard:conversations")


@require_POST
@portal_login_required
def conversation_delete(request: HttpRequest, external_id: str) -> HttpResponse:
    if not is_valid_external_id(external_id):
        return _bad_request(request, "This is not a valid conversation id.")
    try:
        deleted = conversations_delete_by_id(user=request.user, external_ids=[external_id])
    except ConversationNotFound:  # another user's id is not found, exactly like an unknown one
        return _not_found(request)
    return _after_delete(request, deleted)


@require_POST
@portal_login_required
def conversations_delete_selected(request: HttpRequest) -> HttpResponse:
    form = DeleteSelectedForm(request.POST)
    if not form.is_valid():
        return _bad_request(request, " ".join(form.non_field_errors()))
    try:  # all or nothing: one id that is not the user's and nothing is deleted
        deleted = conversations_delete_by_id(
            user=request.user, external_ids=form.cleaned_data["ids"]
        )
    except ConversationNotFound:
        return _not_found(request)
    return _after_delete(request, deleted)


@require_POST
@portal_login_required
def conversations_delete_all(request: HttpRequest) -> HttpResponse:
    form = DeleteAllForm(request.POST)
    if not form.is_valid():
        template = (
            "dashboard/conversations.html#listing"
            if _fragment(request)
            else "dashboard/conversations.html"
        )
        context = _list_context(request, _current_filters(request), delete_all_form=form)
        return render(request, template, context, status=400)
    return _after_delete(request, delete_everything(user=request.user))


def _consent_message(request: HttpRequest, change) -> None:
    if change is None:
        messages.info(request, "Your setting was already this; nothing changed.")
    elif change.allowed:
        messages.success(request, "Training use is now allowed for new and resumed conversations.")
    else:
        messages.success(
            request,
            "Training use is now off. Future training runs will not use your conversations.",
        )


@require_http_methods(["GET", "POST"])
@portal_login_required
def consent(request: HttpRequest) -> HttpResponse:
    """GET shows the setting; POST without `confirm` previews the change with
    real counts; POST with `confirm` records it (source: dashboard)."""
    now = timezone.now()
    user = request.user
    preview = None
    status = 200
    if request.method == "POST":
        form = ConsentForm(request.POST)
        try:
            consent_may_choose(user=user)
        except ConsentNotTheUsers as refusal:
            messages.error(request, str(refusal))
            status = 400
        else:
            if not form.is_valid():
                return _bad_request(request, "Choose whether to allow the use of your data.")
            if form.cleaned_data["confirm"]:
                change = consent_choose(
                    user=user,
                    allowed=form.cleaned_data["allowed"],
                    article_version=current_article_version(),
                )
                _consent_message(request, change)
                if not request.htmx:
                    return redirect("dashboard:consent")
            else:
                preview = selectors.consent_preview(
                    user=user, allowed=form.cleaned_data["allowed"], now=now
                )
    context = _context(
        request,
        state=selectors.consent_state(user=user, now=now),
        preview=preview,
        history=selectors.consent_history(user=user, now=now),
    )
    template = "dashboard/consent.html#panel" if _fragment(request) else "dashboard/consent.html"
    return render(request, template, context, status=status)


@require_GET
@portal_login_required
def deleted(request: HttpRequest) -> HttpResponse:
    form = CursorForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, "This page link is not valid.")
    now = timezone.now()
    context = _context(
        request,
        pending=selectors.deleted_page(
            user=request.user, now=now, cursor=form.cleaned_data["cursor"] or None
        ),
        receipts=selectors.receipt_page(
            user=request.user, now=now, cursor=form.cleaned_data["rcursor"] or None
        ),
    )
    return render(request, "dashboard/deleted.html", context)


@require_GET
@portal_login_required
def feedback(request: HttpRequest) -> HttpResponse:
    form = CursorForm(request.GET)
    if not form.is_valid():
        return _bad_request(request, "This page link is not valid.")
    page = selectors.feedback_page(
        user=request.user, now=timezone.now(), cursor=form.cleaned_data["cursor"] or None
    )
    return render(request, "dashboard/feedback.html", _context(request, page=page))


@require_GET
def policy(request: HttpRequest) -> HttpResponse:
    """The whole article, public, one anchor per section: every quote links here."""
    page = selectors.policy_page(now=timezone.now())
    return render(
        request,
        "dashboard/policy.html",
        {
            "document": page.document,
            "sections": page.sections,
            "versions": page.versions,
            "caveat": LAW_CAVEAT,
        },
    )


@require_GET
@portal_login_required
def export(request: HttpRequest) -> StreamingHttpResponse:
    return export_response(request)


def export_response(request: HttpRequest) -> StreamingHttpResponse:
    now = timezone.now()
    response = StreamingHttpResponse(
        export_chunks(user=request.user, now=now), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="my-data-{now:%Y-%m-%d}.json"'
    response["Cache-Control"] = "no-store"
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a page that says what happened and what to do, or
    JSON for the API. The refused request changed nothing."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "error": "csrf_failed",
                "detail": "The CSRF token is missing or stale; nothing was changed.",
            },
            status=403,
        )
    return render(request, "dashboard/csrf_failure.html", {"reason": reason}, status=403)
