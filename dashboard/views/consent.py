"""The model-training consent page: show, preview, confirm."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.services import ConsentNotTheUsers, consent_choose, consent_may_choose
from dashboard import selectors
from dashboard.auth import portal_login_required
from dashboard.forms import ConsentForm
from dashboard.views.common import bad_request, page_context, wants_fragment
from retention.selectors.documents import current_article_version


def _consent_message(request: HttpRequest, change) -> None:
    if change is None:
        messages.info(request, _("This is already your setting; nothing changed."))
    elif change.allowed:
        messages.success(
            request, _("Training use is now allowed for new and resumed conversations.")
        )
    else:
        messages.success(
            request,
            _("Training use is now off. Future training runs will not use your conversations."),
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
                return bad_request(request, _("Choose whether to allow the use of your data."))
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
    # Read after any change: the state at the request's start would be the
    # old setting (the change is effective at its own, later, moment), and
    # the panel htmx swaps in must show what is stored now.
    now = timezone.now()
    context = page_context(
        request,
        state=selectors.consent_state(user=user, now=now),
        preview=preview,
        history=selectors.consent_history(user=user, now=now),
    )
    template = (
        "dashboard/consent.html#panel" if wants_fragment(request) else "dashboard/consent.html"
    )
    return render(request, template, context, status=status)
