"""The auto-delete page: show, preview, confirm (as the consent page)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from accounts.services import AutoDeleteNotTheUsers, auto_delete_may_choose
from dashboard import selectors
from dashboard.auth import portal_login_required
from dashboard.forms import AutoDeleteForm
from dashboard.selectors.auto_delete import period_choices
from dashboard.views.common import page_context, wants_fragment
from retention.services.auto_delete import AutoDeleteChosen, auto_delete_choose


def _chosen_message(request: HttpRequest, chosen: AutoDeleteChosen, months: int | None) -> None:
    if chosen.change is None:
        messages.info(request, _("Your setting was already this; nothing changed."))
    elif months is None:
        messages.success(
            request,
            _("Auto-delete is off. Your conversations are kept by the policy's dates again."),
        )
    else:
        text = ngettext(
            "Auto-delete is on: conversations are deleted %(months)d month after their last "
            "activity.",
            "Auto-delete is on: conversations are deleted %(months)d months after their last "
            "activity.",
            months,
        ) % {"months": months}
        if chosen.deleted_now:
            text += " " + ngettext(
                "%(n)d conversation was deleted now.",
                "%(n)d conversations were deleted now.",
                chosen.deleted_now,
            ) % {"n": chosen.deleted_now}
        messages.success(request, text)


@require_http_methods(["GET", "POST"])
@portal_login_required
def auto_delete(request: HttpRequest) -> HttpResponse:
    """GET shows the setting; POST without `confirm` previews a choice with
    real counts; POST with `confirm` records it, rewrites every date and
    deletes what is already past its moment."""
    now = timezone.now()
    user = request.user
    preview = None
    status = 200
    form = AutoDeleteForm(request.POST or None)
    if request.method == "POST":
        try:
            auto_delete_may_choose(user=user)
        except AutoDeleteNotTheUsers as refusal:
            messages.error(request, str(refusal))
            status = 400
        else:
            if not form.is_valid():
                messages.error(request, _("Choose Off, 3, 18 or 36 months."))
                status = 400
            elif form.cleaned_data["confirm"]:
                months = form.cleaned_data["after_months"]
                chosen = auto_delete_choose(user=user, after_months=months, now=now)
                _chosen_message(request, chosen, months)
                if not request.htmx:
                    return redirect("dashboard:auto_delete")
            else:
                preview = selectors.auto_delete_preview(
                    user=user, after_months=form.cleaned_data["after_months"], now=now
                )
    context = page_context(
        request,
        state=selectors.auto_delete_state(user=user, now=now),
        choices=period_choices(),
        preview=preview,
    )
    template = (
        "dashboard/auto_delete.html#panel"
        if wants_fragment(request)
        else "dashboard/auto_delete.html"
    )
    return render(request, template, context, status=status)
