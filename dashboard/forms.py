"""Forms of the dashboard: they validate input and nothing else."""

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.auto_delete import AUTO_DELETE_MONTHS
from accounts.external_ids import is_valid_external_id
from dashboard.presentation import BadCursor, cursor_decode
from retention.models import ConversationKind, Rule

RULE_FILTER_CHOICES = [("", _("Any rule"))] + [
    (rule.value, rule.label)
    for rule in (
        Rule.FLAGGED,
        Rule.AUTO_DELETE,
        Rule.SHARED_TRAINING,
        Rule.NOT_SHARED,
        Rule.COMMERCIAL,
    )
]
KIND_FILTER_CHOICES = [("", _("Any kind")), *ConversationKind.choices]
DELETE_ALL_PHRASE = "delete all"
MAX_SELECTED = 500


def _page_link(value: str) -> str:
    if value:
        try:
            cursor_decode(value)
        except BadCursor as exc:
            raise forms.ValidationError(_("This page link is not valid.")) from exc
    return value


class PageForm(forms.Form):
    """A keyset page either way: after `cursor` (next) or before `before`
    (previous), never both."""

    cursor = forms.CharField(required=False, widget=forms.HiddenInput)
    before = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_cursor(self) -> str:
        return _page_link(self.cleaned_data["cursor"])

    def clean_before(self) -> str:
        return _page_link(self.cleaned_data["before"])

    def clean(self):
        data = super().clean()
        if data.get("cursor") and data.get("before"):
            raise forms.ValidationError(_("This page link is not valid."))
        return data


class ConversationFilterForm(PageForm):
    rule = forms.ChoiceField(choices=RULE_FILTER_CHOICES, required=False, label=_("Rule"))
    kind = forms.ChoiceField(choices=KIND_FILTER_CHOICES, required=False, label=_("Kind"))
    q = forms.CharField(
        max_length=200, required=False, strip=True, label=_("Search titles and messages")
    )

    field_order = ["q", "rule", "kind", "cursor", "before"]


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
                    self.add_error(name, _("This page link is not valid."))
        return data


class ConsentForm(forms.Form):
    allowed = forms.TypedChoiceField(
        choices=[("true", _("Allow")), ("false", _("Do not allow"))],
        coerce=lambda value: value == "true",
        label=_("Use my chats and coding sessions to improve models"),
    )
    confirm = forms.BooleanField(required=False)


class DeleteSelectedForm(forms.Form):
    """The ids come as repeated `ids` fields (one checkbox per row), or
    `all_matching=yes` with the list's filters (q, rule, kind) for every
    conversation the filters match, on all pages."""

    def __init__(self, data=None):
        super().__init__(data)
        self.ids: list[str] = data.getlist("ids") if data is not None else []
        self.all_matching = data is not None and data.get("all_matching") == "yes"
        self.filters = ConversationFilterForm(
            {k: data.get(k, "") for k in ("q", "rule", "kind")} if data is not None else {}
        )

    def clean(self):
        data = super().clean()
        if self.all_matching:
            if not self.filters.is_valid():
                raise forms.ValidationError(_("These filters are not valid."))
            data["filters"] = {k: self.filters.cleaned_data[k] for k in ("q", "rule", "kind")}
            data["ids"] = []
            return data
        if not self.ids:
            raise forms.ValidationError(_("Select at least one conversation to delete."))
        if len(self.ids) > MAX_SELECTED:
            raise forms.ValidationError(
                _("Select at most %(n)d conversations at once.") % {"n": MAX_SELECTED}
            )
        if not all(is_valid_external_id(i) for i in self.ids):
            raise forms.ValidationError(_("A selected conversation id is not valid."))
        data["ids"] = sorted(set(self.ids))
        return data


class DeleteAllForm(forms.Form):
    confirmation = forms.CharField(
        max_length=50,
        label=lazy(
            lambda: _('Type "%(phrase)s" to confirm') % {"phrase": DELETE_ALL_PHRASE}, str
        )(),
        help_text=_("Every conversation leaves your history at once; this cannot be undone."),
    )

    def clean_confirmation(self) -> str:
        value = " ".join(self.cleaned_data["confirmation"].split()).lower()
        if value != DELETE_ALL_PHRASE:
            raise forms.ValidationError(
                _('Type "%(phrase)s" exactly to delete everything.') % {"phrase": DELETE_ALL_PHRASE}
            )
        return value


class AutoDeleteForm(forms.Form):
    """ "off" or a period of accounts.auto_delete.AUTO_DELETE_MONTHS; cleaned
    to None or the number of months."""

    after_months = forms.TypedChoiceField(
        choices=[("off", _("Off"))]
        + [
            (str(n), lazy(lambda n=n: ngettext("%(n)d month", "%(n)d months", n) % {"n": n}, str)())
            for n in AUTO_DELETE_MONTHS
        ],
        coerce=lambda value: None if value == "off" else int(value),
        empty_value=None,
        label=_("Delete my conversations automatically"),
        error_messages={"required": _("Choose Off, 3, 18 or 36 months.")},
    )
    confirm = forms.BooleanField(required=False)
