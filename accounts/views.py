"""Sign in and out, and password reset, with Django's auth views and our
templates. Sign-in is throttled by django-axes (settings.AXES_*); its lockout
page is templates/registration/lockout.html (HTTP 429)."""

import ipaddress
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.forms import AccountPasswordResetForm
from accounts.roles import home_url_name
from accounts.tasks import password_reset_mail


class EmailAuthenticationForm(AuthenticationForm):
    """Emails are stored lower-cased; accept any case at sign-in."""

    username = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        """`next`, unless it leads back to signing in or out: a signed-in
        visitor of /accounts/login/?next=/accounts/login/ would be sent to the
        same page forever (Django refuses that loop with a 500). Such a `next`
        counts as none, so the visit ends on LOGIN_REDIRECT_URL."""
        url = super().get_redirect_url()
        if url and urlsplit(url).path in (reverse("login"), reverse("logout")):
            return ""
        return url

    def get_default_redirect_url(self) -> str:
        """Without a `next`, staff land where they work (accounts.roles.home_url_name)."""
        return reverse(home_url_name(self.request.user))


class PasswordResetView(auth_views.PasswordResetView):
    """The mail goes out from a Celery task (accounts.tasks), queued after the
    commit with the address, never the account: the request looks nobody up
    and sends nothing, whether the address is known or not, so the answer
    takes the same time and says nothing about who has an account."""

    form_class = AccountPasswordResetForm
    template_name = "registration/password_reset_form.html"

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        domain, use_https = self.request.get_host(), self.request.is_secure()
        transaction.on_commit(
            lambda: password_reset_mail.delay(email=email, domain=domain, use_https=use_https)
        )
        return HttpResponseRedirect(self.get_success_url())


def lockout(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the page a throttled sign-in gets, with 429."""
    from axes.helpers import get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    context = {"failure_limit": get_failure_limit(request, credentials), "minutes": minutes}
    return render(request, "registration/lockout.html", context, status=429)


def axes_username(request, credentials=None) -> str:
    """AXES_USERNAME_CALLABLE: the sign-in email as the lockout key, lower-cased.
    Axes would otherwise read the field named like USERNAME_FIELD ("email"),
    which the login form does not have, and key every failure on no user at all;
    and varying the case must not buy another five attempts."""
    source = credentials if credentials else getattr(request, "POST", {})
    return str(source.get("username") or source.get("email") or "").strip().lower()


def axes_client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address a sign-in attempt came from.

    Behind reverse proxies every request's REMOTE_ADDR is the nearest proxy,
    so with REMOTE_ADDR as the key one client's failures would lock the
    account for every client. With PORTAL_TRUSTED_PROXY_COUNT = N proxies in
    front of the portal, each appending to X-Forwarded-For, the client is the
    N-th address from the right: the entries right of it were written by the
    trusted proxies, those left of it by the client (and are ignored, so a
    forged header buys nothing). Without proxies, or with a header shorter
    than N or not an address, REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR")
    count = settings.PORTAL_TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return remote


class LogoutView(auth_views.LogoutView):
    """POST signs out (Django's view); GET shows a page with the sign-out
    button instead of an empty 405, so a typed or bookmarked /accounts/logout/
    still leads somewhere; signing out clears the browser's cache of the portal."""

    http_method_names = ["get", "post", "options"]
    confirm_template_name = "registration/logged_out_confirm.html"

    def get(self, request, *args, **kwargs):
        return render(request, self.confirm_template_name)

    def post(self, request, *args, **kwargs):
        # The browser drops its cached copies of the portal's pages (pages
        # with an ETag may be kept for revalidation, dashboard/caching.py),
        # so the next person at the machine finds none.
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache"'
        return response
