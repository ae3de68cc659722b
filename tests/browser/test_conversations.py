"""The conversation pages in Chromium, with JavaScript on and off, at 1280 and
375 px: every delete asks first (a modal dialog that keeps focus and gives it
back, or a confirmation page without JavaScript), nothing ticked is a message
by the button, search counts, a phone row is two lines. Screenshots of each
state go to test-artifacts/screens/conversations-<state>-<width>.png."""

from datetime import timedelta

import pytest
from django.utils import timezone

from retention.models import Conversation
from retention.services.conversations import conversation_flag
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {1280: {"width": 1280, "height": 900}, 375: {"width": 375, "height": 812}}
INSIDE_DIALOG = "() => !!document.activeElement && !!document.activeElement.closest('dialog[open]')"


@pytest.fixture
def user(portal, add_message):
    owner = UserFactory(email="conv@example.com")
    now = timezone.now()
    add_message(owner, now - timedelta(days=3), conversation="b-old", title="Garden planning")
    add_message(owner, now - timedelta(days=2), conversation="b-mid", title="Bread recipe")
    add_message(
        owner, now - timedelta(days=1), conversation="b-new", title="Tax question", content="VAT?"
    )
    add_message(
        owner, now - timedelta(hours=20), conversation="b-new", title="Tax question", content="Yes"
    )
    conversation_flag(
        conversation=Conversation.objects.get(external_id="b-mid"), flagged_at=now, scores={}
    )
    return owner


def deleted_ids(user):
    return set(
        Conversation.objects.filter(user=user, deleted_at__isnull=False).values_list(
            "external_id", flat=True
        )
    )


def shot(page, artifacts, state: str, width: int) -> None:
    screens = artifacts / "screens"
    screens.mkdir(exist_ok=True)
    # caret="initial": Playwright's default hides the caret with a style of its
    # own, which the page's CSP (rightly) refuses and reports.
    page.screenshot(
        path=str(screens / f"conversations-{state}-{width}.png"), full_page=True, caret="initial"
    )


@pytest.mark.parametrize("width", [1280, 375])
def test_with_javascript_a_delete_asks_in_a_dialog_that_keeps_and_returns_focus(
    make_page, user, artifacts, width
):
    page = make_page(user, viewport=WIDTHS[width])
    page.goto("/conversations/")
    shot(page, artifacts, "list", width)
    trigger = page.get_by_role("button", name="Delete Bread recipe")
    trigger.click()
    dialog = page.get_by_role("dialog", name="Delete “Bread recipe”?")
    dialog.wait_for()
    assert page.evaluate(INSIDE_DIALOG)
    assert "flagged by our trust and safety classifiers" in dialog.inner_text()
    assert "What the policy keeps longer" in dialog.inner_text()
    shot(page, artifacts, "dialog", width)
    # Focus stays in the modal dialog: Tab never reaches the page behind it.
    for _ in range(8):
        page.keyboard.press("Tab")
        assert page.evaluate(
            "() => document.activeElement === document.body"
            " || !!document.activeElement.closest('dialog[open]')"
        )
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("() => document.activeElement.textContent.includes('Bread recipe')")
    assert deleted_ids(user) == set()

    trigger.click()
    dialog.get_by_role("button", name="Delete this conversation").click()
    page.locator("#main").get_by_text("Deleted 1 conversation").wait_for()
    assert not dialog.is_visible()
    listing = page.locator("#listing").inner_text()
    assert "2 conversations in your history" in listing and "Bread recipe" not in listing
    assert deleted_ids(user) == {"b-mid"}
    shot(page, artifacts, "deleted", width)
    assert page.csp_violations == []


def test_cancel_closes_the_dialog_and_deletes_nothing(make_page, user):
    page = make_page(user, viewport=WIDTHS[1280])
    page.goto("/conversations/")
    page.get_by_label("Select Garden planning").check()
    page.get_by_label("Select Tax question").check()
    page.get_by_role("button", name="Delete selected").click()
    dialog = page.get_by_role("dialog", name="Delete 2 selected conversations?")
    dialog.wait_for()
    assert "Garden planning" in dialog.inner_text() and "Tax question" in dialog.inner_text()
    dialog.get_by_role("link", name="Cancel").click()
    dialog.wait_for(state="hidden")
    assert page.evaluate("() => document.activeElement.textContent.trim() === 'Delete selected'")
    assert deleted_ids(user) == set()
    page.get_by_role("button", name="Delete selected").click()
    dialog.get_by_role("button", name="Delete 2 conversations").click()
    page.locator("#main").get_by_text("Deleted 2 conversations").wait_for()
    assert deleted_ids(user) == {"b-old", "b-new"}


@pytest.mark.parametrize("width", [1280, 375])
def test_nothing_ticked_says_so_by_the_button(make_page, user, artifacts, width):
    page = make_page(user, viewport=WIDTHS[width])
    page.goto("/conversations/")
    page.get_by_role("button", name="Delete selected").click()
    error = page.locator("#select-error")
    error.get_by_text("Select at least one conversation to delete.").wait_for()
    assert not page.get_by_role("dialog").is_visible()
    assert page.locator("#listing table.conversations").count() == 1  # no second page inside
    assert page.locator("#listing #listing").count() == 0
    shot(page, artifacts, "nothing-ticked", width)


def test_select_all_on_the_page_ticks_every_row(make_page, user):
    page = make_page(user, viewport=WIDTHS[1280])
    page.goto("/conversations/")
    page.get_by_label("Select all on this page").check()
    boxes = page.locator("input[name=ids]")
    assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    page.get_by_label("Select all on this page").uncheck()
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))


@pytest.mark.parametrize("width", [1280, 375])
def test_search_counts_matches_in_titles_and_messages(make_page, user, artifacts, width):
    page = make_page(user, viewport=WIDTHS[width])
    page.goto("/conversations/")
    page.get_by_label("Search titles and messages").fill("vat")
    page.get_by_role("button", name="Apply").click()
    page.locator("#main").get_by_text("1 conversation matches “vat”").wait_for()
    assert page.get_by_role("link", name="Tax question").count() == 1
    shot(page, artifacts, "search", width)


@pytest.mark.parametrize("width", [1280, 375])
def test_without_javascript_a_delete_shows_a_confirmation_page(make_page, user, artifacts, width):
    page = make_page(user, viewport=WIDTHS[width], java_script_enabled=False)
    page.goto("/conversations/")
    page.get_by_role("button", name="Delete Tax question").click()
    heading = page.get_by_role("heading", level=1, name="Delete “Tax question”?")
    heading.wait_for()
    assert "/conversations/b-new/delete/" in page.url
    shot(page, artifacts, "confirm-page", width)
    page.get_by_role("link", name="Cancel").click()
    page.wait_for_url("**/conversations/")
    assert deleted_ids(user) == set()
    page.get_by_role("button", name="Delete Tax question").click()
    page.get_by_role("button", name="Delete this conversation").click()
    page.wait_for_url("**/conversations/")
    assert "Deleted 1 conversation" in page.locator("body").inner_text()
    assert deleted_ids(user) == {"b-new"}
    # Nothing ticked: the list again, with the message by the button.
    page.get_by_role("button", name="Delete selected").click()
    assert (
        page.locator("#select-error").inner_text() == "Select at least one conversation to delete."
    )
    shot(page, artifacts, "nothing-ticked-nojs", width)


def test_without_javascript_the_conversation_page_asks_and_then_deletes(make_page, user):
    page = make_page(user, viewport=WIDTHS[1280], java_script_enabled=False)
    page.goto("/conversations/b-new/")
    page.get_by_role("button", name="Delete this conversation").click()
    page.get_by_role("heading", level=1, name="Delete “Tax question”?").wait_for()
    page.get_by_role("button", name="Delete this conversation").click()
    page.wait_for_url("**/conversations/")
    assert deleted_ids(user) == {"b-new"}


@pytest.mark.parametrize("width", [1280, 375])
def test_the_conversation_page_shows_its_messages(make_page, user, artifacts, width):
    page = make_page(user, viewport=WIDTHS[width])
    page.goto("/conversations/b-new/")
    transcript = page.locator(".transcript").inner_text()
    assert transcript.index("VAT?") < transcript.index("Yes")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, artifacts, "conversation", width)
    page.get_by_role("button", name="Delete this conversation").click()
    page.get_by_role("dialog").wait_for()
    shot(page, artifacts, "conversation-dialog", width)


def test_a_phone_row_is_two_lines_with_its_delete_at_hand(make_page, user):
    page = make_page(user, viewport=WIDTHS[375])
    page.goto("/conversations/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    rows = page.locator("table.conversations tbody tr")
    assert rows.count() == 3
    for i in range(3):
        box = rows.nth(i).bounding_box()
        assert box["height"] <= 80, box
        delete = rows.nth(i).get_by_role("button").bounding_box()
        assert delete["x"] + delete["width"] <= 375 and delete["y"] < box["y"] + box["height"]
    # The cells keep their table roles, so each is read with its column.
    assert page.get_by_role("columnheader", name="Kind").count() == 1
    assert page.get_by_role("cell", name="Chat").count() >= 1
