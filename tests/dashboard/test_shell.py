"""The portal's shell: branded error pages (HTML, JSON under /api/), the
sign-out page, where staff land, the preferences page and its time zone, and
the language switch."""

from datetime import timedelta

import psycopg
import pytest
from django.conf import settings as django_settings
from django.core.exceptions import BadRequest, PermissionDenied
from django.db import IntegrityError, OperationalError
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import include, path
from django.utils import timezone

from privacy_portal.urls import urlpatterns as portal_urlpatterns
from tests.factories import UserFactory
from tests.support.helpers import make_privacy_admin, make_support_agent

pytestmark = pytest.mark.django_db


# A URLconf with views that fail, beside the portal's own routes.
def _raises(exception):
    def view(request):
        raise exception

    return view


def _boom(request):
    raise RuntimeError("a bug")


def _deadlocked(request):
    """As Django raises PostgreSQL's deadlock: its OperationalError, caused
    by the driver's error (which carries the SQLSTATE)."""
    try:
        raise psycopg.errors.DeadlockDetected("deadlock detected")
    except psycopg.Error as exc:
        raise OperationalError(*exc.args) from exc


def _ok(request):
    return HttpResponse("ok")


class DatabaseGoneInAMiddleware:
    """A middleware whose own query fails because the database went away (as
    the session or user lookup would), on the paths ending in /unreachable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.endswith("/unreachable"):
            try:
                raise psycopg.errors.AdminShutdown("terminating connection")
            except psycopg.Error as exc:
                raise OperationalError(*exc.args) from exc
        return self.get_response(request)


urlpatterns = [
    path("boom/", _boom),
    path("api/me/boom", _boom),
    path("bad/", _raises(BadRequest("no"))),
    path("forbidden/", _raises(PermissionDenied("no"))),
    path("api/me/forbidden", _raises(PermissionDenied("no"))),
    path("deadlocked/", _deadlocked),
    path("api/me/deadlocked", _deadlocked),
    path("api/internal/deadlocked", _deadlocked),
    path("duplicate/", _raises(IntegrityError("duplicate key"))),
    path("", include(portal_urlpatterns)),
]
handler400 = "privacy_portal.http.bad_request"
handler403 = "privacy_portal.http.permission_denied"
handler404 = "privacy_portal.http.page_not_found"
handler500 = "privacy_portal.http.server_error"

PRODUCTION = override_settings(DEBUG=False, ROOT_URLCONF=__name__)


def _branded(response, status: int) -> str:
    body = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert f"Error {status}" in body
    assert 'href="/"' in body  # a way back
    assert "/static/css/portal.css" in body
    return body


# --- Error pages ----------------------------------------------------------------
@PRODUCTION
def test_an_unknown_page_is_the_branded_404_with_a_way_back():
    body = _branded(Client().get("/no-such-page/"), 404)
    assert "Page not found" in body and "Sign in" in body


@PRODUCTION
def test_a_signed_in_404_keeps_the_nav_and_leads_back_to_the_overview():
    client = Client()
    client.force_login(UserFactory())
    body = _branded(client.get("/no-such-page/"), 404)
    assert "Back to your overview" in body and "Sign out" in body


@PRODUCTION
def test_a_view_that_raises_gets_the_branded_500_and_the_api_json():
    client = Client(raise_request_exception=False)
    body = _branded(client.get("/boom/"), 500)
    assert "Something went wrong on our side" in body
    assert "a bug" not in body and "Traceback" not in body
    api = client.get("/api/me/boom")
    assert api.status_code == 500
    assert api.json() == {
        "error": "server_error",
        "detail": "Something went wrong on our side; nothing was changed.",
    }


@PRODUCTION
def test_a_transient_database_error_is_a_503_to_retry_not_a_500(caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level("WARNING", logger="privacy_portal.http"):
        page = client.get("/deadlocked/")
    body = _branded(page, 503)
    assert "The portal is busy" in body and "nothing was changed" in body
    assert page["Retry-After"] == "1"
    # Operators see each one, with the driver's error and the traceback.
    assert "503 for GET /deadlocked/: transient database error" in caplog.text
    assert "DeadlockDetected" in caplog.text
    api = client.get("/api/me/deadlocked")
    assert (api.status_code, api["Retry-After"]) == (503, "1")
    assert api.json() == {
        "error": "busy",
        "detail": "The portal is busy; nothing was changed. Send the request again.",
    }
    internal = client.get("/api/internal/deadlocked")
    assert internal.status_code == 503
    assert internal.json()["errors"][0]["error"].startswith("The portal is busy")
    # A database error that would recur (a bug, a constraint) stays a 500.
    assert client.get("/duplicate/").status_code == 500


@PRODUCTION
def test_a_transient_database_error_outside_the_view_is_a_503_too(caplog):
    # override_settings nested inside PRODUCTION's (pytest-django's settings
    # fixture would restore after it, leaving this URLconf to later tests).
    middleware = [*django_settings.MIDDLEWARE, f"{__name__}.DatabaseGoneInAMiddleware"]
    client = Client(raise_request_exception=False)
    with (
        override_settings(MIDDLEWARE=middleware),
        caplog.at_level("WARNING", logger="privacy_portal.http"),
    ):
        page = client.get("/conversations/unreachable")
        api = client.get("/api/me/unreachable")
    assert "The portal is busy" in _branded(page, 503)
    assert page["Retry-After"] == "1"
    assert "503 for GET /conversations/unreachable: transient database error" in caplog.text
    assert (api.status_code, api["Retry-After"], api.json()["error"]) == (503, "1", "busy")


@PRODUCTION
def test_bad_request_and_permission_denied_are_branded_pages_and_json_under_api():
    client = Client(raise_request_exception=False)
    assert "That request was not valid" in _branded(client.get("/bad/"), 400)
    assert "You may not open this page" in _branded(client.get("/forbidden/"), 403)
    api = client.get("/api/me/forbidden")
    assert api.status_code == 403 and api.json()["error"] == "forbidden"


@PRODUCTION
def test_a_405_is_the_branded_page_and_keeps_its_allow_header():
    client = Client()
    response = client.post("/")  # the overview answers GET only
    body = _branded(response, 405)
    assert "This page cannot be used that way" in body
    assert response["Allow"] == "GET"
    api = client.post("/api/me/deleted")
    assert api.status_code == 405 and api["Allow"] == "GET"
    assert api.json() == {
        "error": "method_not_allowed",
        "detail": "This method is not allowed here.",
    }


@PRODUCTION
def test_api_404_stays_json_in_its_shape():
    response = Client().get("/api/me/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "There is nothing at this address."}


# --- Sign out ------------------------------------------------------------------------
def test_get_logout_shows_a_sign_out_button_and_post_signs_out():
    user = UserFactory(email="leaving@example.com")
    client = Client()
    client.force_login(user)
    page = client.get("/accounts/logout/")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'method="post" action="/accounts/logout/"' in body
    assert "leaving@example.com" in body and ">Sign out</button>" in body
    assert client.get("/").status_code == 200  # still signed in after the GET
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_get_logout_when_signed_out_offers_to_sign_in():
    body = Client().get("/accounts/logout/").content.decode()
    assert "You are not signed in." in body and 'href="/accounts/login/"' in body


# --- Where people land ----------------------------------------------------------
def _sign_in(user) -> Client:
    client = Client()
    response = client.post(
        "/accounts/login/",
        {"username": user.email, "password": "correct horse battery staple"},
        follow=True,
    )
    assert response.status_code == 200
    client.landed = response.redirect_chain[-1][0]
    return client


def test_after_sign_in_agents_land_on_the_console_admins_in_admin_users_on_the_overview():
    assert _sign_in(make_support_agent()).landed == "/support/"
    assert _sign_in(make_privacy_admin()).landed == "/admin/"
    assert _sign_in(UserFactory()).landed == "/"


def test_staff_opening_the_overview_get_links_to_their_tools_not_an_empty_overview():
    agent, admin = make_support_agent(), make_privacy_admin()
    client = Client()
    client.force_login(agent)
    body = client.get("/").content.decode()
    assert 'href="/support/"' in body and 'href="/admin/"' not in body
    assert "Your privacy overview" not in body
    client.force_login(admin)
    body = client.get("/").content.decode()
    assert 'href="/support/"' in body and 'href="/admin/"' in body


def test_the_console_has_sign_out_and_labelled_columns():
    client = Client()
    client.force_login(make_support_agent())
    body = client.get("/support/").content.decode()
    assert 'action="/accounts/logout/"' in body and "Sign out" in body


# --- Time zone and language -----------------------------------------------------------
@pytest.fixture
def evening_user(add_message):
    """A conversation last active at 20:00 UTC: already the next day in Tokyo."""
    user = UserFactory()
    at = (timezone.now() - timedelta(days=3)).replace(hour=20, minute=0, second=0, microsecond=0)
    add_message(user, at, conversation="evening", title="Evening chat")
    return user, at


def test_dates_follow_the_portal_tz_cookie_with_utc_in_datetime_and_title(evening_user):
    user, at = evening_user
    client = Client()
    client.force_login(user)
    iso = at.strftime("%Y-%m-%dT20:00:00Z")
    utc_day = f"{at.day} {at.strftime('%B %Y')}"
    tokyo = at + timedelta(hours=9)
    tokyo_day = f"{tokyo.day} {tokyo.strftime('%B %Y')}"
    body = client.get("/conversations/").content.decode()
    assert f'<time datetime="{iso}" title="{utc_day}, 20:00 UTC">{utc_day}</time>' in body
    client.cookies["portal_tz"] = "Asia/Tokyo"
    body = client.get("/conversations/").content.decode()
    assert f'<time datetime="{iso}" title="{utc_day}, 20:00 UTC">{tokyo_day}</time>' in body
    assert "Asia/Tokyo time zone" in body
    # The API stays in UTC whatever the cookie says.
    api = client.get("/api/me/conversations").json()
    assert iso in str(api)


@pytest.mark.parametrize("bad", ["Not/AZone", "../../etc/passwd", "localtime", "x" * 300, ""])
def test_a_bad_time_zone_cookie_is_ignored(evening_user, bad):
    user, _ = evening_user
    client = Client()
    client.force_login(user)
    client.cookies["portal_tz"] = bad
    response = client.get("/conversations/")
    assert response.status_code == 200
    assert "UTC time zone" in response.content.decode()


def test_preferences_save_a_valid_zone_and_language_in_cookies():
    client = Client()
    response = client.post("/preferences/", {"time_zone": "Asia/Tokyo", "language": "fr"})
    assert response.status_code == 302
    assert response.cookies["portal_tz"].value == "Asia/Tokyo"
    assert response.cookies["django_language"].value == "fr"
    page = client.get("/preferences/")
    body = page.content.decode()
    assert '<html lang="fr">' in body
    assert '<option value="Asia/Tokyo" selected>' in body


@pytest.mark.parametrize("bad", ["Not/AZone", "../../etc/passwd", "posixrules", "y" * 65])
def test_preferences_refuse_a_bad_zone_with_400_and_set_nothing(bad):
    response = Client().post("/preferences/", {"time_zone": bad, "language": "en"})
    assert response.status_code == 400
    assert "Choose a time zone from the list" in response.content.decode()
    assert "portal_tz" not in response.cookies and "django_language" not in response.cookies


def test_preferences_refuse_an_unknown_language_with_400():
    response = Client().post("/preferences/", {"time_zone": "", "language": "xx"})
    assert response.status_code == 400
    assert "django_language" not in response.cookies


def test_automatic_time_zone_clears_the_cookie_so_the_browser_sets_it_again():
    client = Client()
    client.cookies["portal_tz"] = "Europe/Paris"
    response = client.post("/preferences/", {"time_zone": "", "language": "en"})
    assert response.status_code == 302
    assert response.cookies["portal_tz"].value == ""  # deleted


def test_the_language_switch_sets_french_for_the_interface():
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert '<html lang="fr">' in client.get("/accounts/login/").content.decode()
