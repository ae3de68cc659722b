"""The conversation list (search, pages both ways), one conversation with its
messages, and deleting conversations: every delete asks first (the contract
of dashboard/views/confirm.py and templates/_confirm.html)."""

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from accounts.external_ids import is_valid_external_id
from dashboard import selectors
from dashboard.auth import portal_login_required
from dashboard.caching import conditional_page
from dashboard.forms import ConversationFilterForm, DeleteAllForm, DeleteSelectedForm, PageForm
from dashboard.selectors.conversations import (
    deletion_summary,
    matching_conversations,
    owned_for_delete,
)
from dashboard.views.common import bad_request, not_found, page_context, wants_fragment
from dashboard.views.confirm import Confirmation, confirmation_response, is_confirmed
from retention.selectors.conversations import owned_conversations
from retention.services.conversations import (
    ConversationNotFound,
    conversations_delete,
    conversations_delete_by_id,
)
from retention.services.conversations import conversations_delete_all as delete_everything

LISTING = "#listing"
FILTERS = ("q", "rule", "kind")


def _list_context(request: HttpRequest, form: ConversationFilterForm, **extra) -> dict:
    data = form.cleaned_data
    page = selectors.conversation_page(
        user=request.user,
        now=timezone.now(),
        cursor=data["cursor"] or None,
        before=data["before"] or None,
        rule=data["rule"],
        kind=data["kind"],
        search=data["q"],
    )
    params = {k: data[k] for k in FILTERS if data[k]}
    return page_context(
        request,
        form=form,
        page=page,
        filter_params=params,
        filter_query=urlencode(params),
        delete_all_form=extra.pop("delete_all_form", DeleteAllForm()),
        **extra,
    )


def _listing(request: HttpRequest, form: ConversationFilterForm, status=200, **extra):
    template = (
        "dashboard/conversations.html#listing"
        if wants_fragment(request)
        else "dashboard/conversations.html"
    )
    return render(request, template, _list_context(request, form, **extra), status=status)


@require_GET
@conditional_page
@portal_login_required
def conversation_list(request: HttpRequest) -> HttpResponse:
    form = ConversationFilterForm(request.GET)
    if not form.is_valid():
        return bad_request(request, "; ".join(e for errors in form.errors.values() for e in errors))
    return _listing(request, form)


@require_GET
@portal_login_required
def conversation_detail(request: HttpRequest, external_id: str) -> HttpResponse:
    if not is_valid_external_id(external_id):
        return bad_request(request, _("This is not a valid conversation id."))
    pages = PageForm(request.GET)
    if not pages.is_valid():
        return bad_request(request, _("This page link is not valid."))
    detail = selectors.conversation_detail(
        user=request.user,
        external_id=external_id,
        now=timezone.now(),
        cursor=pages.cleaned_data["cursor"] or None,
        before=pages.cleaned_data["before"] or None,
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
    data.pop("before", None)
    form = ConversationFilterForm(data)
    if not form.is_valid():
        form = ConversationFilterForm({})
        form.is_valid()
    return form


def _list_url(request: HttpRequest) -> str:
    """The list to go back to from a confirmation: with the filters the
    posting form carried (the list's own forms repeat them as hidden fields)."""
    form = ConversationFilterForm({k: request.POST.get(k, "") for k in FILTERS})
    params = (
        {k: form.cleaned_data[k] for k in FILTERS if form.cleaned_data[k]}
        if (form.is_valid())
        else {}
    )
    url = reverse("dashboard:conversations")
    return f"{url}?{urlencode(params)}" if params else url


def _after_delete(request: HttpRequest, deleted: int) -> HttpResponse:
    if deleted:
        messages.success(
            request,
            ngettext(
                "Deleted %(n)d conversation. Gone from your history now; "
                "“Deleted, awaiting removal” shows when the content is removed.",
                "Deleted %(n)d conversations. Gone from your history now; "
                "“Deleted, awaiting removal” shows when the content is removed.",
                deleted,
            )
            % {"n": deleted},
        )
    else:
        messages.info(request, _("Nothing to delete: those conversations were already deleted."))
    if request.htmx and request.POST.get("from") == "conversation":
        # The conversation's own page has nothing left to show: go to the list.
        return HttpResponseClientRedirect(reverse("dashboard:conversations"))
    if request.htmx:
        return render(
            request,
            "dashboard/conversations.html#listing",
            _list_context(request, _current_filters(request)),
        )
    return redirect("dashboard:conversations")


def _ask(request, summary, *, title: str, button: str, fields, cancel_url: str, in_list: bool):
    return confirmation_response(
        request,
        Confirmation(
            title=title,
            action=request.path,
            button=button,
            cancel_url=cancel_url,
            fields=fields,
            goes=summary.titles,
            goes_more=summary.more,
            goes_text=summary.goes_text,
            goes_quotes=summary.goes_quotes,
            kept=summary.kept,
            hx_target=LISTING if in_list else "",
        ),
    )


def _delete_button(n: int) -> str:
    return ngettext("Delete %(n)d conversation", "Delete %(n)d conversations", n) % {"n": n}


@require_POST
@portal_login_required
def conversation_delete(request: HttpRequest, external_id: str) -> HttpResponse:
    if not is_valid_external_id(external_id):
        return bad_request(request, _("This is not a valid conversation id."))
    if not is_confirmed(request):
        targets = owned_for_delete(user=request.user, external_ids=[external_id])
        if targets is None:  # another user's id is not found, exactly like an unknown one
            return not_found(request)
        summary = deletion_summary(user=request.user, conversations=targets)
        if summary.count:
            from_page = request.POST.get("from") == "conversation"
            return _ask(
                request,
                summary,
                title=_("Delete “%(title)s”?") % {"title": summary.titles[0]},
                button=_("Delete this conversation"),
                fields=[("from", "conversation")] if from_page else [],
                cancel_url=(
                    reverse("dashboard:conversation", args=[external_id])
                    if from_page
                    else _list_url(request)
                ),
                in_list=not from_page,
            )
    try:
        deleted = conversations_delete_by_id(user=request.user, external_ids=[external_id])
    except ConversationNotFound:
        return not_found(request)
    return _after_delete(request, deleted)


def _nothing_selected(request: HttpRequest, message: str) -> HttpResponse:
    """Nothing ticked: the message next to the button, never a second page."""
    if request.htmx:
        response = render(
            request,
            "dashboard/conversations.html#select-error",
            {"select_error": message},
            status=400,
        )
        return reswap(retarget(response, "#select-error"), "innerHTML")
    return _listing(request, _current_filters(request), status=400, select_error=message)


@require_POST
@portal_login_required
def conversations_delete_selected(request: HttpRequest) -> HttpResponse:
    form = DeleteSelectedForm(request.POST)
    if not form.is_valid():
        return _nothing_selected(request, " ".join(form.non_field_errors()))
    ids = form.cleaned_data["ids"]
    if form.all_matching:
        filters = form.cleaned_data["filters"]
        targets = matching_conversations(
            user=request.user, rule=filters["rule"], kind=filters["kind"], search=filters["q"]
        )
        fields = [("all_matching", "yes")] + [(k, v) for k, v in filters.items() if v]
    else:
        targets = owned_for_delete(user=request.user, external_ids=ids)
        if targets is None:  # all or nothing: one id that is not the user's, nothing happens
            return not_found(request)
        fields = [("ids", i) for i in ids] + [
            (k, request.POST[k]) for k in FILTERS if request.POST.get(k)
        ]
    if not is_confirmed(request):
        summary = deletion_summary(user=request.user, conversations=targets)
        if summary.count:
            return _ask(
                request,
                summary,
                title=ngettext(
                    "Delete %(n)d selected conversation?",
                    "Delete %(n)d selected conversations?",
                    summary.count,
                )
                % {"n": summary.count},
                button=_delete_button(summary.count),
                fields=fields,
                cancel_url=_list_url(request),
                in_list=True,
            )
    if form.all_matching:
        deleted = conversations_delete(user=request.user, conversations=targets)
    else:
        try:
            deleted = conversations_delete_by_id(user=request.user, external_ids=ids)
        except ConversationNotFound:
            return not_found(request)
    return _after_delete(request, deleted)


@require_POST
@portal_login_required
def conversations_delete_all(request: HttpRequest) -> HttpResponse:
    form = DeleteAllForm(request.POST)
    if not form.is_valid():
        return _listing(request, _current_filters(request), status=400, delete_all_form=form)
    if not is_confirmed(request):
        summary = deletion_summary(
            user=request.user, conversations=owned_conversations(user_id=request.user.pk)
        )
        if summary.count:
            return _ask(
                request,
                summary,
                title=ngettext(
                    "Delete all %(n)d conversation?",
                    "Delete all %(n)d conversations?",
                    summary.count,
                )
                % {"n": summary.count},
                button=_delete_button(summary.count),
                fields=[("confirmation", form.cleaned_data["confirmation"])],
                cancel_url=_list_url(request),
                in_list=True,
            )
    return _after_delete(request, delete_everything(user=request.user))
