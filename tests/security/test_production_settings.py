"""Production settings: what `privacy_portal/settings.py` gives with DEBUG off
and a SECRET_KEY set (the README's production environment), checked on what
a browser receives and on Django's own deployment checklist.

The cookie and transport settings are taken from the settings module run with
a production environment (in a separate namespace, not the test settings) and
applied to a real sign-in over HTTPS; the deployment check runs manage.py in
a subprocess with that environment."""

import runpy
from http.cookies import SimpleCookie

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import UserFactory
from tests.test_settings import run_manage

pytestmark = pytest.mark.security

HOST = "portal.example.com"
PRODUCTION_ENV = {
    "SECRET_KEY": "x" * 20 + "-production-like-secret-key-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": HOST,
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
}
# Variables the test settings or a developer's shell may set, which production does not.
NOT_IN_PRODUCTION = (
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "CSRF_TRUSTED_ORIGINS",
    "DJANGO_SETTINGS_MODULE",
)


@pytest.fixture
def production(monkeypatch, tmp_path) -> dict:
    """The transport and cookie settings of privacy_portal/settings.py under
    the production environment."""
    for name in NOT_IN_PRODUCTION:
        monkeypatch.delenv(name, raising=False)
    for name, value in {**PRODUCTION_ENV, "PORTAL_VAR_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    namespace = runpy.run_path(str(settings.BASE_DIR / "privacy_portal" / "settings.py"))
    return {
        name: value
        for name, value in namespace.items()
        if name in ("DEBUG", "ALLOWED_HOSTS") or name.startswith(("SESSION_", "CSRF_", "SECURE_"))
    }


def _set_cookie(response, name: str) -> dict[str, str | bool]:
    """The attributes of one Set-Cookie header exactly as the WSGI handler
    writes it (Django's handler sends `morsel.output(header="")`)."""
    header = response.cookies[name].output(header="").strip()
    parsed = SimpleCookie()
    parsed.load(header)
    morsel = parsed[name]
    attributes = {key: morsel[key] for key in morsel if morsel[key]}
    attributes["raw"] = header
    return attributes


def test_production_turns_debug_off_and_secures_every_cookie(production):
    assert production["DEBUG"] is False
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["CSRF_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert production["CSRF_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert production["SECURE_SSL_REDIRECT"] is True


@pytest.mark.django_db
def test_a_production_sign_in_sets_secure_httponly_samesite_cookies(production):
    user = UserFactory()
    with override_settings(**production):
        browser = Client(enforce_csrf_checks=True, HTTP_HOST=HOST)
        page = browser.get(reverse("login"), secure=True)
        assert page.status_code == 200
        csrf = _set_cookie(page, settings.CSRF_COOKIE_NAME)
        response = browser.post(
            reverse("login"),
            {
                "username": user.email,
                "password": "correct horse battery staple",
                "csrfmiddlewaretoken": browser.cookies[settings.CSRF_COOKIE_NAME].value,
            },
            secure=True,
            headers={"Origin": f"https://{HOST}", "Referer": f"https://{HOST}/accounts/login/"},
        )
        assert response.status_code == 302, "sign-in failed"
        session = _set_cookie(response, settings.SESSION_COOKIE_NAME)

    assert session["secure"] is True, session["raw"]
    assert session["httponly"] is True, session["raw"]
    assert session["samesite"] in ("Lax", "Strict"), session["raw"]
    assert csrf["secure"] is True, csrf["raw"]
    assert csrf["samesite"] in ("Lax", "Strict"), csrf["raw"]


@pytest.mark.django_db
def test_production_sends_plain_http_to_https_and_pins_https_with_hsts(production):
    with override_settings(**production):
        plain = Client(HTTP_HOST=HOST).get(reverse("login"))
        secure = Client(HTTP_HOST=HOST).get(reverse("login"), secure=True)
    assert plain.status_code == 301 and plain["Location"] == f"https://{HOST}/accounts/login/"
    hsts = secure["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts and "preload" in hsts


def test_production_settings_pass_the_deploy_check(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION_ENV,
        PORTAL_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
def test_production_pages_forbid_inline_script_framing_and_sniffing(production):
    with override_settings(**production):
        page = Client(HTTP_HOST=HOST).get(reverse("login"), secure=True)
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in page["Content-Security-Policy"].split(";")
        if directive.strip()
    }
    assert policy["script-src"] == ["'self'"]  # no inline script, no other origin
    assert policy["frame-ancestors"] == ["'none'"]
    assert page["X-Frame-Options"] == "DENY"
    assert page["X-Content-Type-Options"] == "nosniff"
    assert page["Referrer-Policy"] == "same-origin"
