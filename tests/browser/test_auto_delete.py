"""Auto-delete in a real browser, JavaScript on and off, at 1280 and 375 px:
choose a period, read the preview (what goes now, what goes next), confirm,
and see every part of the page in the new state without a reload (htmx) or
after the redirect (no JavaScript). Screenshots of each state."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.services import consent_record
from retention.models import Conversation
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {1280: 900, 375: 812}


@pytest.fixture
def user(portal, add_message):
    owner = UserFactory(email="auto@example.com")
    now = timezone.now()
    consent_record(
        user=owner,
        allowed=True,
        source="dashboard",
        article_version="v",
        effective_at=now - timedelta(days=400),
    )
    add_message(owner, now - timedelta(days=200), conversation="a-ancient", title="Holiday 2025")
    add_message(owner, now - timedelta(days=120), conversation="a-old", title="Old recipe")
    add_message(owner, now - timedelta(days=10), conversation="a-new", title="New question")
    return owner


def _shot(page, artifacts, state, width):
    path = artifacts / "screens" / f"auto-delete-{state}-{width}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_choose_preview_and_confirm_auto_delete(make_page, user, artifacts, width, javascript):
    page = make_page(
        user, viewport={"width": width, "height": WIDTHS[width]}, java_script_enabled=javascript
    )
    suffix = "" if javascript else "-nojs"
    page.goto("/auto-delete/")
    assert page.locator("[data-setting]").inner_text() == "Off"
    assert page.get_by_label("Off").is_checked()
    _shot(page, artifacts, f"off{suffix}", width)

    page.get_by_label("After 3 months").check()
    page.get_by_role("button", name="Preview the change").click()
    preview = page.locator(".preview")
    preview.wait_for()
    text = preview.inner_text()
    assert "These 2 conversations would be deleted now." in text
    assert "Holiday 2025" in text and "Old recipe" in text
    assert "New question" in text and "deleted on" in text
    assert page.url.endswith("/auto-delete/")
    _shot(page, artifacts, f"preview{suffix}", width)

    page.get_by_role("button", name="Confirm: turn on and delete 2 conversations now").click()
    page.locator("[data-setting='3']").wait_for()
    # Every part of the page shows the stored state: the setting, the radio,
    # the history, the action's message.
    assert page.locator("[data-setting]").inner_text() == "After 3 months"
    assert page.get_by_label("After 3 months").is_checked()
    assert (
        "2 conversations were deleted now."
        in page.locator("#auto-delete-panel .messages").inner_text()
    )
    assert "After 3 months" in page.locator("table").inner_text()
    assert page.csp_violations == []
    _shot(page, artifacts, f"on{suffix}", width)

    assert User.objects.get(pk=user.pk).auto_delete_months == 3
    assert set(
        Conversation.objects.filter(user=user, deleted_at__isnull=False).values_list(
            "external_id", flat=True
        )
    ) == {"a-ancient", "a-old"}

    # Previewing the setting in force offers nothing to confirm.
    page.get_by_role("button", name="Preview the change").click()
    page.get_by_role("heading", name="This is already your setting").wait_for()
    assert page.get_by_role("button", name="Confirm", exact=False).count() == 0
    _shot(page, artifacts, f"current{suffix}", width)

    # Off again: the dates come back.
    page.get_by_label("Off").check()
    page.get_by_role("button", name="Preview the change").click()
    page.get_by_role("button", name="Confirm: turn auto-delete off").click()
    page.locator("[data-setting='off']").wait_for()
    assert page.get_by_label("Off").is_checked()
    assert User.objects.get(pk=user.pk).auto_delete_months is None
