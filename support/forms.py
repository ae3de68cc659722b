"""The console's one form: what to look up, and why."""

from django import forms
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from accounts.external_ids import RULE, is_valid_external_id
from staff.reasons import validate_reason
from support.selectors import LookupKind


class LookupForm(forms.Form):
    kind = forms.ChoiceField(
        choices=LookupKind.CHOICES, initial=LookupKind.EMAIL, label=_("Look up by")
    )
    value = forms.CharField(max_length=254, label=_("Email or id"), strip=True)
    reason = forms.CharField(
        max_length=500,
        validators=[validate_reason],
        strip=True,
        label=_("Reason (ticket reference)"),
        help_text=_("Required. The account's owner sees this reason, with your role and the time."),
        error_messages={"required": _("Give a reason (for example the ticket reference) first.")},
    )

    def clean(self):
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if not kind or not value:
            return cleaned
        if kind == LookupKind.EMAIL:
            try:
                validate_email(value)
            except forms.ValidationError:
                self.add_error("value", _("That is not a valid email address."))
        elif not is_valid_external_id(value):
            self.add_error("value", _("That is not a valid id (%(rule)s).") % {"rule": RULE})
        return cleaned
