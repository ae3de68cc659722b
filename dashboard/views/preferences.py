"""The preferences page: the time zone dates are shown in and the interface
language. Both live in cookies (no account field): `portal_tz`, which
static/js/portal.js fills from the browser when it is missing, and Django's
language cookie. Open to everyone, signed in or not (the sign-in page shows
dates too), and the only write is to the visitor's own cookies."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from privacy_portal.http import available_time_zones, time_zone_or_none

# A year: the choice outlives a session; the browser's detection refills it.
COOKIE_AGE = 365 * 24 * 3600
AUTOMATIC = ""


def _zone_choices() -> list[tuple[str, str]]:
    return [(AUTOMATIC, gettext_lazy("Automatic (from this browser)"))] + [
        (name, name.replace("_", " ")) for name in available_time_zones()
    ]


class PreferencesForm(forms.Form):
    time_zone = forms.CharField(required=False, label=gettext_lazy("Time zone"))
    language = forms.ChoiceField(choices=settings.LANGUAGES, label=gettext_lazy("Language"))

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"].strip()
        if name and time_zone_or_none(name) is None:
            raise forms.ValidationError(
                gettext_lazy("Choose a time zone from the list, for example Europe/Paris.")
            )
        return name


def _render(request: HttpRequest, form: PreferencesForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "dashboard/preferences.html",
        {
            "form": form,
            "zones": _zone_choices(),
            "current_zone": timezone.get_current_timezone_name(),
            "zone_cookie": request.COOKIES.get(settings.PORTAL_TZ_COOKIE, ""),
            "now": timezone.now(),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        zone = request.COOKIES.get(settings.PORTAL_TZ_COOKIE, "")
        initial = {
            "time_zone": zone if time_zone_or_none(zone) else AUTOMATIC,
            "language": translation.get_language(),
        }
        return _render(request, PreferencesForm(initial=initial))
    form = PreferencesForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    zone, language = form.cleaned_data["time_zone"], form.cleaned_data["language"]
    translation.activate(language)
    messages.success(request, _("Your preferences are saved."))
    response = redirect("preferences")
    cookie = {
        "max_age": COOKIE_AGE,
        "samesite": "Lax",
        "secure": settings.SESSION_COOKIE_SECURE,
    }
    if zone:
        response.set_cookie(settings.PORTAL_TZ_COOKIE, zone, **cookie)
    else:
        response.delete_cookie(settings.PORTAL_TZ_COOKIE, samesite="Lax")
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=COOKIE_AGE,
        samesite="Lax",
        secure=settings.LANGUAGE_COOKIE_SECURE or settings.SESSION_COOKIE_SECURE,
        path=settings.LANGUAGE_COOKIE_PATH,
    )
    return response
