"""The conversation list, one conversation, and deleting conversations."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.external_ids import is_valid_external_id
from dashboard import selectors
from dashboard.auth import portal_login_required
from dashboard.forms import ConversationFilterForm, DeleteAllForm, DeleteSelectedForm
from dashboard.views.common import bad_request, not_found, page_context, wants_fragment
from retention.services.conversations import ConversationNotFound, conversations_delete_by_id
from retention.services.conversations import conversations_delete_all as delete_everything


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
    return page_context(
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
        return bad_request(request, "; ".join(e for errors in form.errors.values() for e in errors))
    template = (
        "dashboard/conversations.html#listing"
        if wants_fragment(request)
        else "dashboard/conversations.html"
    )
    return render(request, template, _list_context(request, form))


@require_GET
@portal_login_required
def conversation_detail(request: HttpRequest, external_id: str) -> HttpResponse:
    if not is_valid_external_id(external_id):
        return bad_request(request, "This is not a valid conversation id.")
    detail = selectors.conversation_detail(
        user=request.user, external_id=external_id, now=timezone.now()
    )
    if detail is None:
        return not_found(request)
    return render(request, "dashboard/conversation.html", page_context(request, detail=detail))


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
        return bad_request(request, "This is not a valid conversation id.")
    try:
        deleted = conversations_delete_by_id(user=request.user, external_ids=[external_id])
    except ConversationNotFound:  # another user's id is not found, exactly like an unknown one
        return not_found(request)
    return _after_delete(request, deleted)


@require_POST
@portal_login_required
def conversations_delete_selected(request: HttpRequest) -> HttpResponse:
    form = DeleteSelectedForm(request.POST)
    if not form.is_valid():
        return bad_request(request, " ".join(form.non_field_errors()))
    try:  # all or nothing: one id that is not the user's and nothing is deleted
        deleted = conversations_delete_by_id(
            user=request.user, external_ids=form.cleaned_data["ids"]
        )
    except ConversationNotFound:
        return not_found(request)
    return _after_delete(request, deleted)


@require_POST
@portal_login_required
def conversations_delete_all(request: HttpRequest) -> HttpResponse:
    form = DeleteAllForm(request.POST)
    if not form.is_valid():
        template = (
            "dashboard/conversations.html#listing"
            if wants_fragment(request)
            else "dashboard/conversations.html"
        )
        context = _list_context(request, _current_filters(request), delete_all_form=form)
        return render(request, template, context, status=400)
    return _after_delete(request, delete_everything(user=request.user))
