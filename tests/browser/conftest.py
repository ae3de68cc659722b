"""Browser tests: Playwright's sync API drives Debian's Chromium
(/usr/bin/chromium) against pytest-django's live_server. No test tool
downloads a browser. Without Chromium these tests skip, unless
PORTAL_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.

A message the page shows is looked up inside #main: portal.js repeats it
in #live-region (outside main) for screen readers a moment after the swap,
so a page-wide get_by_text finds it once or twice depending on timing."""

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between browser steps are still plain synchronous calls.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = (
            f"Chromium not found at {CHROMIUM}: install Debian's chromium package (see .ci/run)."
        )
        if os.environ.get("PORTAL_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def portal(transactional_db, live_server):
    """The live portal with the data migrations' rows back in place: a
    transactional test flushes the tables the migrations filled."""
    from retention.selectors.settings import policy_settings
    from retention.services.documents import policy_document_load

    policy_document_load()
    policy_settings()
    return live_server


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _new_context(browser, live_server, **options):
    context = browser.new_context(base_url=live_server.url, accept_downloads=True, **options)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def make_page(browser, portal):
    """make_page(user=None, **context_options) -> a page, signed in as `user`
    through a real session cookie. Every page records CSP violations."""
    contexts = []

    def _make(user=None, **options):
        context = _new_context(browser, portal, **options)
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
            context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": portal.url}])
        page = context.new_page()
        page.csp_violations = []
        page.on(
            "console",
            lambda message: (
                page.csp_violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm
        return page

    yield _make
    for context in contexts:
        context.close()
