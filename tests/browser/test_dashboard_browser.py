"""The dashboard in a real browser: sign in, read a clock and its quote,
flip consent through the preview, delete one and several, see the deleted
section and a receipt after a purge, download the export, keyboard-only
use, axe-core on every page, and a 375 px screenshot."""

import json
import zipfile
from datetime import timedelta
from pathlib import Path

import axe_playwright_python
import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import ConsentChange
from retention.models import Conversation, DeletionReceipt, Rule
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"


@pytest.fixture
def user(portal, add_message):
    owner = UserFactory(email="reader@example.com")
    now = timezone.now()
    add_message(owner, now - timedelta(days=3), conversation="b-old", title="Garden planning")
    add_message(owner, now - timedelta(days=2), conversation="b-mid", title="Bread recipe")
    add_message(owner, now - timedelta(days=1), conversation="b-new", title="Tax question")
    return owner


def deleted_ids(user):
    return set(
        Conversation.objects.filter(user=user, deleted_at__isnull=False).values_list(
            "external_id", flat=True
        )
    )


def test_sign_in_and_read_a_conversations_clock_and_quote(make_page, user):
    page = make_page()
    page.goto("/conversations/b-new/")
    assert "/accounts/login/" in page.url
    page.get_by_label("Email address").fill("Reader@Example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/conversations/b-new/")
    clock = page.locator(".clock").first
    assert "Kept until" in clock.inner_text() and "(in 29 days)" in clock.inner_text()
    assert "unless retention is required by law" in clock.inner_text()
    quote = page.locator("blockquote").first.inner_text()
    assert "retained in our back-end storage systems for up to 30 days" in quote
    page.get_by_role("link", name="Read this in the policy").first.click()
    page.wait_for_url("**/policy/#if-you-do-not-allow-us-to-use-your-data-to-improve-claude")
    assert (
        page.locator("section:target h3").inner_text()
        == "If You Do Not Allow Us to Use Your Data to Improve Claude"
    )
    assert page.csp_violations == []


def test_flip_consent_through_the_preview(make_page, user):
    page = make_page(user)
    page.goto("/consent/")
    page.get_by_label("Allow", exact=True).check()
    page.get_by_role("button", name="Preview the change").click()
    preview = page.locator(".preview")
    preview.wait_for()
    assert "Before you turn training use on" in preview.inner_text()
    assert "Shared for model training" in preview.inner_text()
    assert not ConsentChange.objects.filter(user=user).exists()  # nothing yet
    page.get_by_role("button", name="Confirm: allow training use").click()
    # The message, not its copy in the live region (which may already hold it).
    page.locator(".message").get_by_text("Training use is now allowed").wait_for()
    assert "Dashboard" in page.locator("#history-heading + table").inner_text()
    change = ConsentChange.objects.get(user=user)
    assert change.allowed is True and change.source == "dashboard"
    assert page.csp_violations == []


def test_delete_one_and_then_several(make_page, user):
    page = make_page(user)
    page.goto("/conversations/")
    page.get_by_role("button", name="Delete Tax question").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete this conversation").click()
    page.locator("#main").get_by_text("Deleted 1 conversation").wait_for()
    assert page.get_by_role("link", name="Tax question").count() == 0
    assert deleted_ids(user) == {"b-new"}
    page.get_by_label("Select Bread recipe").check()
    page.get_by_label("Select Garden planning").check()
    page.get_by_role("button", name="Delete selected").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete 2 conversations").click()
    page.locator("#main").get_by_text("Deleted 2 conversations").wait_for()
    assert "No conversations" in page.locator("#listing").inner_text()
    assert deleted_ids(user) == {"b-new", "b-mid", "b-old"}


def test_deleted_section_and_a_receipt_after_a_purge(make_page, user):
    page = make_page(user)
    page.goto("/conversations/b-old/")
    page.get_by_role("button", name="Delete this conversation").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete this conversation").click()
    page.wait_for_url("**/conversations/")
    page.goto("/deleted/")
    pending = page.locator("#pending-heading").locator("xpath=..").inner_text()
    assert "Chat" in pending and "Garden planning" not in pending
    assert "unless retention is required by law" in pending
    # What the purge does: a receipt, then the content goes (set-based SQL).
    conversation = Conversation.objects.get(external_id="b-old")
    now = timezone.now()
    DeletionReceipt.objects.create(
        sequence=1,
        user=user,
        conversation_external_id="b-old",
        kind="chat",
        rule=Rule.DELETED,
        deleted_at=conversation.deleted_at,
        retain_until=conversation.retain_until,
        purged_at=now,
        messages_removed=1,
        previous_hash="0" * 64,
        receipt_hash="c" * 64,
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM retention_conversation WHERE id = %s", [conversation.pk])
    page.reload()
    assert "Nothing is awaiting removal" in page.locator("body").inner_text()
    receipts = page.locator("#receipts-heading").locator("xpath=..").locator("ol").inner_text()
    assert "Chat" in receipts and "today" in receipts


def test_download_my_data(make_page, user):
    page = make_page(user)
    page.goto("/")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download my data").click()
    download = info.value
    assert download.suggested_filename.startswith("my-data-")
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.path()) as archive:
        data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == "reader@example.com"
    assert {c["title"] for c in data["conversations"]} == {
        "Garden planning",
        "Bread recipe",
        "Tax question",
    }


def test_keyboard_only_sign_in_and_navigation(make_page, user):
    page = make_page()
    page.goto("/accounts/login/")
    # The email field has autofocus: no mouse needed from the first key.
    assert page.evaluate("document.activeElement.id") == "id_username"
    page.keyboard.type("reader@example.com")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_text("Your privacy overview").wait_for()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Conversations":
            break
    else:
        pytest.fail("Tab never reached the Conversations link")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus ring
    page.keyboard.press("Enter")
    page.wait_for_url("**/conversations/")
    # Filter by keyboard: type into search and press Enter (htmx swaps the list).
    page.get_by_label("Search titles").focus()
    page.keyboard.type("bread")
    page.keyboard.press("Enter")
    page.wait_for_url("**/conversations/?*q=bread*")
    assert page.get_by_role("link", name="Garden planning").count() == 0
    assert page.get_by_role("link", name="Bread recipe").count() == 1


def test_axe_finds_no_serious_or_critical_violations_on_any_page(browser, portal, user, make_page):
    page = make_page(user, bypass_csp=True)  # axe is injected as a script
    anonymous = make_page(bypass_csp=True)
    checks = [
        (anonymous, "/accounts/login/"),
        (anonymous, "/accounts/password-reset/"),
        (page, "/"),
        (page, "/conversations/"),
        (page, "/conversations/b-new/"),
        (page, "/consent/"),
        (page, "/deleted/"),
        (page, "/feedback/"),
        (page, "/policy/"),
    ]
    failures = {}
    for target, path in checks:
        target.goto(path)
        target.add_script_tag(path=str(AXE_JS))
        results = target.evaluate("async () => await axe.run()")
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']}"
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        if bad:
            failures[path] = bad
    assert failures == {}


def test_375px_wide_pages_fit_and_a_screenshot_is_kept(make_page, user, artifacts):
    page = make_page(user, viewport={"width": 375, "height": 812})
    for path, name in (
        ("/conversations/", "conversations"),
        ("/conversations/b-new/", "conversation"),
        ("/", "overview"),
    ):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        page.screenshot(path=str(artifacts / f"dashboard-375-{name}.png"), full_page=True)
    assert (artifacts / "dashboard-375-conversations.png").stat().st_size > 0
    assert page.csp_violations == []
