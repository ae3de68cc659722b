"""Sign in and out, and password reset, with Django's auth views and our
templates. Sign-in is throttled by django-axes (settings.AXES_*); its lockout
page is templates/registration/lockout.html (HTTP 429)."""

from urllib.parse import urlsplit

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.shortcuts import render
from django.urls import reverse

from accounts.models import User


class EmailAuthenticationForm(AuthenticationForm):
    """Emails are stored lower-cased; accept any case at sign-in."""

    username = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class AccountPasswordResetForm(PasswordResetForm):
    """Django's form skips accounts with an unusable password. Ours must not:
    accounts the chat service created have none until their owner sets one
    through this very flow."""

    def get_users(self, email: str):
        return User.objects.filter(email__iexact=email.strip(), is_active=True)


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


class PasswordResetView(auth_views.PasswordResetView):
    form_class = AccountPasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"


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
