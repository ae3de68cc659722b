"""Admin actions that need a reason: the action shows an intermediate page
with a reason form, then applies a service to each selected row (each in its
own transaction, inside the service) and records the reason in the admin
history of each row. Legal holds (retention.admin) are built on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from staff.reasons import validate_reason

# An action is applied one row at a time; a selection of "all 1,000,000" is
# refused rather than run inside one admin request.
MAX_ACTION_TARGETS = 200


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        validators=[validate_reason],
        strip=True,
        label="Reason",
    )

    def __init__(self, *args, help_text: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = help_text


@dataclass(frozen=True)
class ReasonAction:
    """What the intermediate page says and what applying it does.
    `apply_one(obj, reason)` raises `refused` (an exception class) to skip a
    row with a message; anything else aborts."""

    action: str  # the admin action's name, posted back by the page
    title: str
    explanation: str
    reason_help: str
    done: str  # "Legal hold placed": the message and the history entry
    apply_one: Callable[[Model, str], object]
    refused: type[Exception]


def _confirm(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, spec: ReasonAction, form
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "admin/reason_confirmation.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": spec.title,
            "explanation": spec.explanation,
            "objects": queryset[:MAX_ACTION_TARGETS],
            "form": form,
            "action": spec.action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "opts": modeladmin.model._meta,
            "media": modeladmin.media,
        },
    )


def run_reason_action(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet, spec: ReasonAction
) -> TemplateResponse | None:
    """Show the reason form; on a valid POST apply `spec.apply_one` to each
    selected row and report. Returns None to go back to the changelist."""
    if queryset.count() > MAX_ACTION_TARGETS:
        modeladmin.message_user(
            request, f"Select at most {MAX_ACTION_TARGETS} rows for this action.", messages.ERROR
        )
        return None
    form = ReasonForm(request.POST if "apply" in request.POST else None, help_text=spec.reason_help)
    if not form.is_valid():
        return _confirm(modeladmin, request, queryset, spec, form)
    reason = form.cleaned_data["reason"]
    applied, refused = 0, []
    for obj in queryset:
        try:
            spec.apply_one(obj, reason)
        except spec.refused as exc:
            refused.append(f"{obj}: {exc}")
            continue
        modeladmin.log_change(request, obj, f"{spec.done}: {reason}")
        applied += 1
    if applied:
        modeladmin.message_user(request, f"{spec.done}: {applied}.", messages.SUCCESS)
    for line in refused:
        modeladmin.message_user(request, line, messages.WARNING)
    return None
