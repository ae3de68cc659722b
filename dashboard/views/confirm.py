"""The one contract every destructive action follows (templates/_confirm.html
documents it for templates): a POST without `confirm=yes` answers the
confirmation, a POST with it acts.

Without htmx the confirmation is a full page (200) holding the same form
again; with htmx it is only the page's `#confirm` partial, retargeted into the
`<dialog>` of templates/_confirm_dialog.html, which static/js/confirm-dialog.js
opens as a modal.
"""

from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import reswap, retarget

DIALOG_BODY = "#confirm-dialog-body"


def is_confirmed(request: HttpRequest) -> bool:
    return request.POST.get("confirm") == "yes"


@dataclass(frozen=True)
class Confirmation:
    """What templates/_confirm.html shows: see the contract at its top."""

    title: str
    action: str  # the URL the confirm form posts to (the same view)
    button: str  # the danger button's label
    cancel_url: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # hidden, besides confirm=yes
    goes: list[str] = field(default_factory=list)  # named items that go
    goes_more: int = 0  # items that go but are not named
    goes_text: str = ""
    goes_quotes: list = field(default_factory=list)  # [.text, .url]
    kept: list = field(default_factory=list)  # [.text, .quotes]
    hx_target: str = ""  # with htmx the confirm form swaps its answer here ("" = plain POST)
    hx_swap: str = "outerHTML"


def confirmation_response(
    request: HttpRequest,
    confirm: Confirmation,
    *,
    template: str = "confirm.html",
    context: dict | None = None,
) -> HttpResponse:
    """The confirmation: the whole `template` without htmx, its `#confirm`
    partial put into the dialog with htmx."""
    ctx = {**(context or {}), "confirm": confirm}
    if request.htmx:
        response = render(request, f"{template}#confirm", ctx)
        return reswap(retarget(response, DIALOG_BODY), "innerHTML")
    return render(request, template, ctx)
