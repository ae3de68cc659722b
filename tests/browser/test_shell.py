"""The portal's shell in a real browser: the nav collapses at 375 px (with
JavaScript; without it the links wrap), the dark scheme, focus and the polite
announcement after an htmx action, loading feedback (indicator and
aria-busy), dates in the browser's time zone with UTC on hover, branded error
and sign-out pages, the staff console on a phone. Screenshots go to
test-artifacts/screens/."""

from datetime import timedelta
from pathlib import Path

import axe_playwright_python
import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import groups_sync
from tests.factories import UserFactory
from tests.support.helpers import make_support_agent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
WIDTHS = {"1280": DESKTOP, "375": PHONE}


@pytest.fixture
def screens(artifacts) -> Path:
    folder = artifacts / "screens"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def user(portal, add_message):
    owner = UserFactory(email="shell@example.com")
    at = (timezone.now() - timedelta(days=3)).replace(hour=20, minute=0, second=0, microsecond=0)
    add_message(owner, at, conversation="s-evening", title="Evening chat")
    add_message(
        owner, timezone.now() - timedelta(days=1), conversation="s-new", title="Tax question"
    )
    owner.evening = at
    return owner


def _links_visible(page) -> bool:
    return page.get_by_role("link", name="Conversations").is_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_nav_collapses_on_a_phone_and_wraps_without_javascript(
    make_page, user, screens, javascript
):
    page = make_page(user, viewport=PHONE, java_script_enabled=javascript)
    page.goto("/conversations/")
    toggle = page.locator(".nav-toggle")
    state = "js" if javascript else "nojs"
    if javascript:
        assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
        assert not _links_visible(page)
        page.screenshot(path=str(screens / f"nav-closed-{state}-375.png"))
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert _links_visible(page)
        assert page.evaluate("document.activeElement.textContent.trim()") == "Overview"
        page.screenshot(path=str(screens / f"nav-open-{state}-375.png"))
        page.keyboard.press("Escape")
        assert toggle.get_attribute("aria-expanded") == "false" and not _links_visible(page)
    else:
        assert not toggle.is_visible()
        assert _links_visible(page)
        assert page.get_by_role("button", name="Sign out").is_visible()
        page.screenshot(path=str(screens / f"nav-open-{state}-375.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    desktop = make_page(user, viewport=DESKTOP, java_script_enabled=javascript)
    desktop.goto("/conversations/")
    assert _links_visible(desktop) and not desktop.locator(".nav-toggle").is_visible()
    desktop.screenshot(path=str(screens / f"nav-{state}-1280.png"))
    assert page.csp_violations == [] and desktop.csp_violations == []


@pytest.mark.parametrize("width", WIDTHS)
def test_dark_scheme_uses_the_dark_tokens_and_passes_axe(make_page, user, screens, width):
    page = make_page(user, viewport=WIDTHS[width], color_scheme="dark", bypass_csp=True)
    for path, name in (
        ("/", "overview"),
        ("/conversations/s-new/", "conversation"),
        ("/preferences/", "preferences"),
    ):
        page.goto(path)
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(18, 20, 24)", path
        page.add_script_tag(path=str(AXE_JS))
        results = page.evaluate("async () => await axe.run()")
        bad = [
            f"{v['id']}: {v['help']}"
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert bad == [], path
        page.screenshot(path=str(screens / f"{name}-dark-{width}.png"), full_page=True)
    light = make_page(user, viewport=WIDTHS[width], color_scheme="light")
    light.goto("/")
    assert light.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    light.screenshot(path=str(screens / f"overview-light-{width}.png"), full_page=True)


def test_focus_moves_to_the_updated_region_and_the_message_is_announced(make_page, user, screens):
    page = make_page(user, viewport=DESKTOP)
    page.goto("/consent/")
    page.get_by_label("Allow", exact=True).check()
    held = []
    page.route(
        "**/consent/",
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    page.get_by_role("button", name="Preview the change").click()
    # While the request runs, the region is busy and its indicator class is set.
    page.locator('#consent-panel[aria-busy="true"]').wait_for(state="attached")
    assert page.evaluate("document.querySelector('.htmx-request') !== null")
    while not held:
        page.wait_for_timeout(50)
    held[0].continue_()
    page.unroute("**/consent/")
    page.locator(".preview").wait_for()
    assert page.evaluate("document.querySelector('[aria-busy=\"true\"]')") is None
    # Focus moves once htmx has settled the swap, a moment after it lands.
    page.wait_for_function(
        "document.getElementById('consent-panel').contains(document.activeElement)",
        timeout=5_000,
    )
    page.get_by_role("button", name="Confirm: allow training use").click()
    # The message, not its copy in the live region (which may already hold it).
    page.locator(".message").get_by_text("Training use is now allowed").wait_for()
    expect(page.locator("#live-region")).to_contain_text("Training use is now allowed")
    focused = page.evaluate(
        "document.activeElement.id || document.activeElement.closest('[id]').id"
    )
    assert focused == "consent-panel"
    assert page.locator("#live-region").get_attribute("aria-live") == "polite"
    page.screenshot(path=str(screens / "consent-after-confirm-1280.png"), full_page=True)
    assert page.csp_violations == []


def test_the_loading_indicator_shows_only_during_a_request(make_page, user):
    page = make_page(user, viewport=DESKTOP)
    page.goto("/")
    opacity = page.evaluate(
        """() => {
          const box = document.createElement('div');
          box.innerHTML = '<span class="htmx-indicator">Loading</span>';
          document.body.appendChild(box);
          const span = box.firstChild;
          const idle = getComputedStyle(span).opacity;
          box.classList.add('htmx-request');
          span.style.transition = 'none';
          const busy = getComputedStyle(span).opacity;
          return [idle, busy];
        }"""
    )
    assert opacity == ["0", "1"]


def test_dates_are_in_the_browser_time_zone_with_utc_on_hover(make_page, user, screens):
    page = make_page(user, viewport=DESKTOP, timezone_id="Asia/Tokyo")
    page.goto("/conversations/")  # the first page sets the cookie from the browser
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get("portal_tz") == "Asia/Tokyo"
    page.goto("/conversations/")
    at = user.evening
    tokyo = at + timedelta(hours=9)
    iso = at.strftime("%Y-%m-%dT20:00:00Z")
    time = page.locator(f'time[datetime="{iso}"]').first
    assert time.inner_text() == f"{tokyo.day} {tokyo.strftime('%B %Y')}"
    assert time.get_attribute("title") == f"{at.day} {at.strftime('%B %Y')}, 20:00 UTC"
    assert "Asia/Tokyo" in page.locator(".site-footer").inner_text()
    page.screenshot(path=str(screens / "conversations-tokyo-1280.png"))
    # Changed on the preferences page, without JavaScript too.
    nojs = make_page(user, viewport=PHONE, java_script_enabled=False)
    nojs.goto("/preferences/")
    nojs.get_by_label("Time zone").select_option("America/New_York")
    nojs.get_by_role("button", name="Save preferences").click()
    nojs.get_by_text("Your preferences are saved.").wait_for()
    assert "America/New_York" in nojs.locator(".site-footer").inner_text()
    nojs.screenshot(path=str(screens / "preferences-saved-375.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_branded_error_and_sign_out_pages(make_page, user, screens, width):
    page = make_page(user, viewport=WIDTHS[width])
    response = page.goto("/no-such-page/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    page.screenshot(path=str(screens / f"error-404-{width}.png"), full_page=True)
    page.goto("/accounts/logout/")
    page.screenshot(path=str(screens / f"logout-{width}.png"), full_page=True)
    page.locator("main").get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/accounts/login/")
    page.screenshot(path=str(screens / f"login-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]["width"]


@pytest.mark.parametrize("width", WIDTHS)
def test_the_console_on_a_phone_keeps_column_labels_and_signs_out(make_page, user, screens, width):
    groups_sync(apps)  # a transactional test flushed the groups the migrations made
    agent = make_support_agent(email="agent@example.com")
    page = make_page(agent, viewport=WIDTHS[width])
    page.goto("/")
    page.screenshot(path=str(screens / f"staff-home-{width}.png"), full_page=True)
    page.goto("/support/")
    page.screenshot(path=str(screens / f"console-{width}.png"), full_page=True)
    page.get_by_label("Email or id").fill("shell@example.com")
    page.get_by_label("Reason (ticket reference)").fill("TICKET-11")
    page.get_by_role("button", name="Look up").click()
    page.wait_for_url("**/support/accounts/**")
    cell = page.locator("td[data-label='Last activity']").first
    assert cell.get_attribute("data-label") == "Last activity"
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert (label == '"Last activity"') is (width == "375")
    assert "UTC" in cell.locator("time").get_attribute("title")
    page.screenshot(path=str(screens / f"console-account-{width}.png"), full_page=True)
    if width == "375":
        page.locator(".nav-toggle").click()
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
