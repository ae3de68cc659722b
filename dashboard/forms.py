"""Forms of the dashboard: they validate input and nothing else."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.auto_delete import AUTO_DELETE_MONTHS
from accounts.external_ids import is_valid_external_id
from dashboard.presentation import BadCursor, cursor_decode
from retention.models import ConversationKind, Rule

RULE_FILTER_CHOICES = [("", "Any rule")] + [
    (rule.value, rule.label)
    for rule in (
        Rule.FLAGGED,
        Rule.AUTO_DELETE,
        Rule.SHARED_TRAINING,
        Rule.NOT_SHARED,
        Rule.COMMERCIAL,
    )
]
KIND_FILTER_CHOICES = [("", "Any kind"), *ConversationKind.choices]
DELETE_ALL_PHRASE = "delete all"
MAX_SELECTED = 500


class ConversationFilterForm(forms.Form):
    rule = forms.ChoiceField(choices=RULE_FILTER_CHOICES, required=False, label="Rule")
    kind = forms.ChoiceField(choices=KIND_FILTER_CHOICES, required=False, label="Kind")
    q = forms.CharField(max_length=200, required=False, strip=True, label="Search titles")
    cursor = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_cursor(self) -> str:
        cursor = self.cleaned_data["cursor"]
        if cursor:
            try:
                cursor_decode(cursor)
            except BadCursor as exc:
                raise forms.ValidationError("This page link is not valid.") from exc
        return cursor


class CursorForm(forms.Form):
    cursor = forms.CharField(required=False)
    rcursor = forms.CharField(required=False)

    def clean(self):
        data = super().clean()
        for name in ("cursor", "rcursor"):
            if data.get(name):
                try:
                    cursor_decode(data[name])
                except BadCursor:
                    self.add_error(name, "This page link is not valid.")
        return data


class ConsentForm(forms.Form):
    allowed = forms.TypedChoiceField(
        choices=[("true", "Allow"), ("false", "Do not allow")],
        coerce=lambda value: value == "true",
        label="Use my chats and coding sessions to improve models",
    )
    confirm = forms.BooleanField(required=False)


class DeleteSelectedForm(forms.Form):
    """The ids come as repeated `ids` fields (one checkbox per row)."""

    def __init__(self, data=None):
        super().__init__(data)
        self.ids: list[str] = data.getlist("ids") if data is not None else []

    def clean(self):
        data = super().clean()
        if not self.ids:
            raise forms.ValidationError("Select at least one conversation to delete.")
        if len(self.ids) > MAX_SELECTED:
            raise forms.ValidationError(f"Select at most {MAX_SELECTED} conversations at once.")
        if not all(is_valid_external_id(i) for i in self.ids):
            raise forms.ValidationError("A selected conversation id is not valid.")
        data["ids"] = sorted(set(self.ids))
        return data


class DeleteAllForm(forms.Form):
    confirmation = forms.CharField(
        max_length=50,
        label=f'Type "{DELETE_ALL_PHRASE}" to confirm',
        help_text="Every conversation leaves your history at once; this cannot be undone.",
    )

    def clean_confirmation(self) -> str:
        value = " ".join(self.cleaned_data["confirmation"].split()).lower()
        if value != DELETE_ALL_PHRASE:
            raise forms.ValidationError(f'Type "{DELETE_ALL_PHRASE}" exactly to delete everything.')
        return value


class AutoDeleteForm(forms.Form):
    """ "off" or a period of accounts.auto_delete.AUTO_DELETE_MONTHS; cleaned
    to None or the number of months."""

    after_months = forms.TypedChoiceField(
        choices=[("off", "Off")] + [(str(n), f"{n} months") for n in AUTO_DELETE_MONTHS],
        coerce=lambda value: None if value == "off" else int(value),
        empty_value=None,
        label=_("Delete my conversations automatically"),
        error_messages={"required": _("Choose Off, 3, 18 or 36 months.")},
    )
    confirm = forms.BooleanField(required=False)
