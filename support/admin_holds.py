"""The legal-hold admin actions (place on accounts or conversations, release),
each through an intermediate page that requires a reason. The work is done by
retention.services.holds, which recomputes the deadlines of what a hold covers."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

# A hold is placed one target at a time; a selection of "all 1,000,000" is
# refused rather than run inside one admin request.
MAX_HOLD_TARGETS = 200


class HoldReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        min_length=3,
        strip=True,
        label="Reason",
        help_text="Required: the legal matter or request this hold is for.",
    )


def _confirm(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: str,
    explanation: str,
    form: HoldReasonForm,
) -> TemplateResponse:
    opts = modeladmin.model._meta
    return TemplateResponse(
        request,
        "admin/hold_confirmation.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "explanation": explanation,
            "objects": queryset[:MAX_HOLD_TARGETS],
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": opts,
            "media": modeladmin.media,
        },
    )


def run_hold_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: str,
    explanation: str,
    apply_one,
    done: str,
):
    """Shared flow: show the reason form; on a valid POST apply `apply_one(obj,
    reason)` to each selected object (each in its own transaction, inside the
    service) and report. Returns None to go back to the changelist."""
    from retention.services.holds import HoldError

    if queryset.count() > MAX_HOLD_TARGETS:
        modeladmin.message_user(
            request,
            f"Select at most {MAX_HOLD_TARGETS} rows for a legal-hold action.",
            messages.ERROR,
        )
        return None
    form = HoldReasonForm(request.POST if "apply" in request.POST else None)
    if not form.is_valid():
        return _confirm(
            modeladmin,
            request,
            queryset,
            action=action,
            title=title,
            explanation=explanation,
            form=form,
        )
    applied, refused = 0, []
    for obj in queryset:
        try:
            result = apply_one(obj, form.cleaned_data["reason"])
        except HoldError as exc:
            refused.append(f"{obj}: {exc}")
            continue
        modeladmin.log_change(request, obj, f"{done}: {form.cleaned_data['reason']}")
        applied += result if isinstance(result, int) else 1
    if applied:
        modeladmin.message_user(request, f"{done}: {applied}.", messages.SUCCESS)
    for line in refused:
        modeladmin.message_user(request, line, messages.WARNING)
    return None
