"""Issue 11 in a real browser, with JavaScript on and off, at 1280 and 375 px:
confirming a consent change shows the new setting (text and radio) at once,
without a reload when JavaScript runs; the overview, deleted, consent,
feedback and policy pages are screenshotted in the states a person meets."""

import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from accounts import roles
from accounts.models import User
from retention.demo import seed_demo

# As the other browser tests: a serialized rollback after their flushes
# would restore content types that post_migrate already put back.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {1280: {"width": 1280, "height": 900}, 375: {"width": 375, "height": 812}}


@pytest.fixture
def alice(portal):
    # The staff groups a migration made are gone after another browser
    # test's flush; the demo grants them to its staff accounts.
    roles.groups_sync(django_apps)
    seed_demo(now=timezone.now())
    return User.objects.get(email="alice@example.com")


def shot(page, artifacts, name: str) -> None:
    folder = artifacts / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_confirming_a_consent_change_shows_the_new_setting_at_once(
    make_page, alice, artifacts, width, js
):
    page = make_page(user=alice, java_script_enabled=js, viewport=WIDTHS[width])
    suffix = "" if js else "-nojs"
    page.goto("/consent/")
    assert page.locator("#allowed-false").is_checked()
    assert "not allowed" in page.locator("#consent-state").inner_text()
    if js:
        page.evaluate("window.__sameDocument = true")

    # Previewing the setting she already has offers nothing to confirm.
    page.get_by_role("button", name="Preview the change").click()
    page.get_by_role("heading", name="This is already your setting").wait_for()
    assert page.get_by_role("button", name="Confirm: allow training use").count() == 0
    shot(page, artifacts, f"consent-already-{width}{suffix}")
    page.get_by_role("link", name="Back to your setting").click()

    page.locator("#allowed-true").check()
    page.get_by_role("button", name="Preview the change").click()
    page.get_by_role("heading", name="Before you turn training use on").wait_for()
    shot(page, artifacts, f"consent-preview-{width}{suffix}")
    page.get_by_role("button", name="Confirm: allow training use").click()
    # The message, not its copy in the live region (which may already hold it).
    page.locator(".message").get_by_text("Training use is now allowed").wait_for()

    state = page.locator("#consent-state").inner_text()
    assert "allowed" in state and "not allowed" not in state and "(today)" in state
    assert page.locator("#allowed-true").is_checked()
    assert not page.locator("#allowed-false").is_checked()
    assert "Allowed" in page.locator("table tbody tr").first.inner_text()
    if js:  # updated in place: the same document, no reload
        assert page.evaluate("window.__sameDocument === true")
    shot(page, artifacts, f"consent-confirmed-{width}{suffix}")
    assert page.csp_violations == []


@pytest.mark.parametrize("width", [1280, 375])
def test_truth_pages_read_true_and_are_screenshotted(make_page, alice, artifacts, width):
    page = make_page(user=alice, viewport=WIDTHS[width])

    page.goto("/")
    counts = page.locator(".counts-sum").inner_text()
    assert "in your history +" in counts and "conversations we hold" in counts
    assert "next purge run" not in page.content()
    shot(page, artifacts, f"overview-default-{width}")
    page.get_by_role("link", name="the chat “Old shopping list”").click()
    page.wait_for_url("**/conversations/alice-old-list/")

    page.goto("/deleted/")
    items = page.locator("#pending-heading ~ ol .deleted-item")
    assert items.count() == 3
    flagged = items.filter(has_text="flagged content is kept up to 2 years")
    assert flagged.count() == 1
    assert "We retain inputs and outputs" in flagged.locator("blockquote").inner_text()
    shot(page, artifacts, f"deleted-pending-{width}")

    page.goto("/feedback/")
    assert "for 5 years from the day you gave it" in page.locator("main").inner_text()
    shot(page, artifacts, f"feedback-default-{width}")

    page.goto("/policy/")
    assert "published in English" in page.locator("main").inner_text()
    shot(page, artifacts, f"policy-default-{width}")
    assert page.csp_violations == []
