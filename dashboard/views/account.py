"""Delete my account: what goes now and what the article keeps to its own
date, a typed confirmation (the account's email), then the deletion
(retention.services.accounts.account_delete), sign-out and a page saying
what happened. The page itself is the confirmation of the destructive-action
contract: its form carries confirm=yes; a POST without it shows the page."""

from datetime import datetime

from django import forms
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from dashboard.account_summary import account_deletion_json
from dashboard.auth import portal_login_required
from dashboard.presentation import LAW_CAVEAT, shown_date
from dashboard.selectors.common import policy_anchor_url
from dashboard.views.common import page_context
from retention.policy.article import quotes_for
from retention.policy.dates import add_days
from retention.selectors.accounts import account_holdings, account_last_date
from retention.selectors.settings import policy_durations
from retention.services.accounts import (
    AccountDeleteRefused,
    account_may_delete,
    email_matches,
)
from retention.services.accounts import (
    account_delete as account_delete_service,
)

SUMMARY_KEY = "account_deleted"


def _quotes(*topics: str) -> dict[str, list[dict[str, str]]]:
    """The article's own sentences per topic, with a link to each on the policy page."""
    durations = policy_durations()
    return {
        topic: [
            {"text": q.text, "url": policy_anchor_url(q.section)}
            for q in quotes_for(topic, durations)
        ]
        for topic in topics
    }


class AccountDeleteForm(forms.Form):
    email = forms.CharField(
        label=_("Type your account's email address to confirm"), max_length=254, strip=True
    )
    confirm = forms.CharField(required=False, widget=forms.HiddenInput)


def _page(request: HttpRequest, form: AccountDeleteForm, *, status: int = 200) -> HttpResponse:
    user, now = request.user, timezone.now()
    refusal = None
    try:
        account_may_delete(user=user)
    except AccountDeleteRefused as exc:
        refusal = str(exc)
    context = page_context(request, form=form, refusal=refusal, email=user.email)
    if refusal is None:
        durations = policy_durations()
        holdings = account_holdings(user=user)
        purge_by = add_days(now, durations.deleted_days)
        context.update(
            holdings=holdings,
            purge_by=shown_date(purge_by, now),
            flagged_until=shown_date(holdings.flagged_until, now),
            scores_until=shown_date(holdings.scores_until, now),
            feedback_until=shown_date(holdings.feedback_until, now),
            last_date=shown_date(
                max(d for d in (purge_by, account_last_date(holdings)) if d is not None), now
            ),
            quotes=_quotes("deleted", "flagged", "feedback", "training_consent_off"),
        )
    return render(request, "dashboard/account_delete.html", context, status=status)


@require_http_methods(["GET", "POST"])
@portal_login_required
def account_delete(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, AccountDeleteForm())
    form = AccountDeleteForm(request.POST)
    if request.POST.get("confirm") != "yes":
        return _page(request, AccountDeleteForm())  # the confirmation: this page
    if not form.is_valid():
        return _page(request, form, status=400)
    if not email_matches(user=request.user, typed=form.cleaned_data["email"]):
        form.add_error("email", _("This is not your account's email address. Nothing was deleted."))
        return _page(request, form, status=400)
    try:
        result = account_delete_service(user=request.user, confirm_email=form.cleaned_data["email"])
    except AccountDeleteRefused as refusal:
        form.add_error(None, str(refusal))
        return _page(request, form, status=400)
    logout(request)
    # The new, anonymous session carries what happened to the next page.
    request.session[SUMMARY_KEY] = account_deletion_json(result)
    return redirect("dashboard:account_deleted")


def _when(value: str | None, now: datetime):
    return shown_date(datetime.fromisoformat(value), now) if value else None


@require_GET
def account_deleted(request: HttpRequest) -> HttpResponse:
    """Shown once, right after the deletion (anonymous by then)."""
    summary = request.session.get(SUMMARY_KEY)
    if not summary:
        return redirect("login")
    now = timezone.now()
    kept = {item["kind"]: (item["count"], _when(item["until"], now)) for item in summary["kept"]}
    context = {
        "caveat": LAW_CAVEAT,
        "summary": summary,
        "kept": kept,
        "last_date": max(
            (until for _count, until in kept.values() if until), default=None, key=lambda d: d.at
        ),
        "quotes": _quotes("deleted", "flagged", "feedback"),
    }
    return render(request, "dashboard/account_deleted.html", context)
