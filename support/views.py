"""The support console: read-only account lookups for support agents and
privacy admins. Every page is GET except the lookup itself; nothing here writes
anything but the access log.

A lookup (POST, with a required reason) writes one access-log row and redirects
to the account page with that row's id (`?access=`): the page is shown only
through a recent grant of the same staff member for the same account, so the
reason logged is the reason the page was opened. Paging through the account's
conversations reuses the grant and logs nothing more.
"""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import can_use_console, role_of
from staff.http import request_trail
from staff.models import DataKind
from staff.selectors import ACCESS_GRANT_TTL, access_grant
from staff.services import access_denied_record, access_granted_record
from support.forms import LookupForm
from support.selectors import account_conversations_page, account_find, account_overview

# Built by the accounts helper; the fallback keeps this app usable without it.
LOGIN_PATH = "/accounts/login/"


def _login_redirect(request: HttpRequest) -> HttpResponse:
    try:
        return redirect_to_login(request.get_full_path())
    except NoReverseMatch:
        return redirect_to_login(request.get_full_path(), login_url=LOGIN_PATH)


def forbidden(request: HttpRequest, *, message: str, status: int = 403) -> HttpResponse:
    return render(request, "support/forbidden.html", {"message": message}, status=status)


def console_required(view):
    """Anonymous visitors go to the login page; signed-in people without a
    console role get a 403 page, and the attempt is logged as denied."""

    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return _login_redirect(request)
        if not can_use_console(request.user):
            access_denied_record(**request_trail(request))
            return forbidden(
                request,
                message=_(
                    "The support console is for support agents and privacy admins only. "
                    "This attempt was logged."
                ),
            )
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _render_lookup(request: HttpRequest, form: LookupForm) -> HttpResponse:
    template = "support/index.html#lookup_form" if request.htmx else "support/index.html"
    return render(request, template, {"form": form, "role": role_of(request.user)})


@require_GET
@console_required
def index(request: HttpRequest) -> HttpResponse:
    return _render_lookup(request, LookupForm())


@require_POST
@console_required
def lookup(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.POST)
    if not form.is_valid():
        if "reason" in form.errors:
            # Looking without a reason is refused and leaves a trace.
            access_denied_record(**request_trail(request))
        return _render_lookup(request, form)
    account = account_find(kind=form.cleaned_data["kind"], value=form.cleaned_data["value"])
    if account is None:
        # The search itself is logged (nothing was shown, no account named).
        access_granted_record(
            **request_trail(request),
            account=None,
            reason=form.cleaned_data["reason"],
            data_kind=DataKind.NONE,
        )
        form.add_error("value", _("No account found."))
        return _render_lookup(request, form)
    grant = access_granted_record(
        **request_trail(request),
        account=account,
        reason=form.cleaned_data["reason"],
        data_kind=DataKind.METADATA,
    )
    url = f"{_account_path(account.pk)}?{urlencode({'access': grant.pk})}"
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _account_path(account_id: int) -> str:
    return reverse("support:account", args=[account_id])


def _int_param(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "")
    # isascii: str.isdigit() is also true of "²" and other digits int() refuses.
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


@require_GET
@console_required
def account(request: HttpRequest, account_id: int) -> HttpResponse:
    """Metadata of one account, opened through the grant of a lookup."""
    grant_id = _int_param(request, "access")
    grant = (
        access_grant(
            grant_id=grant_id,
            staff=request.user,
            account_id=account_id,
            data_kind=DataKind.METADATA,
        )
        if grant_id is not None
        else None
    )
    if grant is None:
        access_denied_record(**request_trail(request))
        return forbidden(
            request,
            message=_(
                "Look the account up with a reason first: account pages open only "
                "through a lookup of yours from the last %(minutes)d minutes. "
                "This attempt was logged."
            )
            % {"minutes": int(ACCESS_GRANT_TTL.total_seconds() // 60)},
        )
    before_raw = request.GET.get("before")
    before = _int_param(request, "before")
    if before_raw is not None and before is None:
        return HttpResponseBadRequest("'before' must be a conversation id.")
    page = account_conversations_page(user_id=account_id, before=before)
    context = {"grant": grant, "page": page, "role": role_of(request.user)}
    if request.htmx and before is not None:
        return render(request, "support/account.html#conversations", context)
    context["account"] = account_overview(user_id=account_id)
    return render(request, "support/account.html", context)
