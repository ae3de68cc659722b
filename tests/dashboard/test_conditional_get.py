"""Conditional GET of the user's pages (dashboard/caching.py) and the cached
session and user behind it: a repeat visit with nothing changed is a 304
that reads nothing; any change to what the page shows, for that account or
for everyone, makes it a full page again."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.services import consent_choose
from retention.models import Conversation
from retention.services.conversations import conversations_delete_by_id
from retention.services.policy_settings import policy_settings_update
from retention.tasks import enforce_retention
from tests.factories import StaffFactory

pytestmark = pytest.mark.urls("tests.dashboard.conditional_urls")

PAGES = ["/", "/conversations/"]


@pytest.fixture(autouse=True)
def shared_cache(settings):
    # One test process: the memory cache is "shared" by everything in it.
    settings.PORTAL_CONDITIONAL_GET = True
    settings.PORTAL_USER_CACHE_SECONDS = 60
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def browser(owner):
    client = Client()
    client.force_login(owner)
    client.get("/")  # the CSRF cookie, as a browser has it after its first page
    return client


def revisit(client, url, response):
    return client.get(url, headers={"If-None-Match": response["ETag"]})


@pytest.mark.parametrize("url", PAGES)
def test_a_repeat_visit_with_nothing_changed_is_a_304_that_reads_nothing(browser, history, url):
    first = browser.get(url)
    assert first.status_code == 200 and first["ETag"]
    assert first["Cache-Control"] == "private, no-cache"
    with CaptureQueriesContext(connection) as queries:
        again = revisit(browser, url, first)
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    assert len(queries) == 0  # session and user from the cache, no page query


@pytest.mark.parametrize("url", PAGES)
def test_the_users_own_changes_make_it_a_full_page(
    browser, history, owner, url, django_capture_on_commit_callbacks
):
    first = browser.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        conversations_delete_by_id(user=owner, external_ids=["c-new"])
    after_delete = revisit(browser, url, first)
    assert after_delete.status_code == 200
    assert after_delete["ETag"] != first["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        consent_choose(user=owner, allowed=True, article_version="v-test")
    assert revisit(browser, url, after_delete).status_code == 200


def test_new_messages_change_the_page_of_their_owner_only(
    browser, history, owner, other, add_message, now, django_capture_on_commit_callbacks
):
    mine = browser.get("/conversations/")
    theirs_client = Client()
    theirs_client.force_login(other)
    theirs_client.get("/")
    theirs = theirs_client.get("/conversations/")
    with django_capture_on_commit_callbacks(execute=True):
        add_message(owner, now - timedelta(hours=1), conversation="c-newest", title="Fresh")
    changed = revisit(browser, "/conversations/", mine)
    assert changed.status_code == 200 and b"Fresh" in changed.content
    assert revisit(theirs_client, "/conversations/", theirs).status_code == 304


def test_a_policy_change_or_a_purge_changes_everyones_pages(
    browser, history, django_capture_on_commit_callbacks
):
    first = browser.get("/")
    with django_capture_on_commit_callbacks(execute=True):
        policy_settings_update(changes={"deleted_days": 20}, changed_by=StaffFactory())
    second = revisit(browser, "/", first)
    assert second.status_code == 200
    assert revisit(browser, "/", second).status_code == 304
    Conversation.objects.filter(external_id="c-old").update(
        deleted_at=timezone.now() - timedelta(days=40),
        retain_until=timezone.now() - timedelta(days=1),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert enforce_retention.apply().get()["conversations"] == 1
    assert revisit(browser, "/", second).status_code == 200


def test_no_etag_without_a_shared_cache_and_none_while_messages_wait(
    settings, browser, history, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        browser.post(reverse("dashboard:conversation_delete", args=["c-new"]), {"confirm": "yes"})
    # A message waits for the next page: it is shown, never skipped by a 304.
    waiting = browser.get("/conversations/")
    assert "ETag" not in waiting
    assert browser.get("/conversations/").has_header("ETag")
    settings.PORTAL_CONDITIONAL_GET = False
    plain = browser.get("/")
    assert "ETag" not in plain
    assert plain["Cache-Control"] == "private, no-store"


def test_signing_out_clears_the_browsers_copies(browser):
    response = browser.post(reverse("logout"))
    assert response["Clear-Site-Data"] == '"cache"'


def test_a_changed_password_or_a_deactivated_account_signs_out_despite_the_cache(browser, owner):
    assert browser.get("/").status_code == 200  # the user is in the cache now
    owner.set_password("a new password 123")
    owner.save()
    assert browser.get("/").status_code == 302
    other_browser = Client()
    owner.refresh_from_db()
    other_browser.force_login(owner)
    assert other_browser.get("/").status_code == 200
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    assert other_browser.get("/").status_code == 302
