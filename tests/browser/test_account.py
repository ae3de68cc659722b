"""Delete my account and Download my data in Chromium, with JavaScript on
and off, at 1280 and 375 px: the page says what goes and what is kept, a
wrong email is refused with a message and changes nothing, the right one
deletes, signs out and says what happened; the export downloads as a zip.
Screenshots of each state go to test-artifacts/screens/."""

import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from retention.models import Conversation
from retention.services.conversations import conversation_flag
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {1280: {"width": 1280, "height": 900}, 375: {"width": 375, "height": 812}}
CASES = [(js, width) for js in (True, False) for width in (1280, 375)]
IDS = [f"{'js' if js else 'nojs'}-{width}" for js, width in CASES]


@pytest.fixture
def account(portal, add_message):
    def _make(tag: str):
        owner = UserFactory(email=f"leaver-{tag}@example.com")
        now = timezone.now()
        add_message(owner, now - timedelta(days=3), conversation=f"{tag}-a", title="Garden plan")
        add_message(owner, now - timedelta(days=1), conversation=f"{tag}-b", title="Tax <b>q</b>")
        conversation_flag(
            conversation=Conversation.objects.get(external_id=f"{tag}-b"),
            flagged_at=now,
            scores={"x": 0.5},
        )
        return owner

    return _make


def _page(make_page, user, js: bool, width: int):
    page = make_page(user, java_script_enabled=js, viewport=VIEWPORTS[width])
    return page


def _shot(page, artifacts, state: str, js: bool, width: int) -> None:
    screens = artifacts / "screens"
    screens.mkdir(exist_ok=True)
    suffix = "" if js else "-nojs"
    page.screenshot(path=str(screens / f"account-{state}{suffix}-{width}.png"), full_page=True)


def _fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize(("js", "width"), CASES, ids=IDS)
def test_delete_my_account(make_page, account, artifacts, js, width):
    owner = account(f"{'js' if js else 'nojs'}{width}")
    page = _page(make_page, owner, js, width)
    page.goto("/")
    page.get_by_role("link", name="Delete my account").click()
    page.wait_for_url("**/account/delete/")
    body = page.locator("main").inner_text()
    assert "Your 2 conversations and their 2 messages leave your history at once" in body
    assert "1 conversation flagged by our trust and safety classifiers" in body
    assert _fits(page, width)
    _shot(page, artifacts, "delete", js, width)

    page.get_by_label("Type your account's email address to confirm").fill("wrong@example.com")
    page.get_by_role("button", name="Delete my account").click()
    page.locator("#main").get_by_text("This is not your account's email address").wait_for()
    assert User.objects.get(pk=owner.pk).is_active
    _shot(page, artifacts, "delete-wrong-email", js, width)

    page.get_by_label("Type your account's email address to confirm").fill(owner.email.upper())
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_url("**/account/deleted/")
    body = page.locator("main").inner_text()
    assert "2 conversations left your history" in body
    assert "1 flagged conversation, its content kept until" in body
    assert _fits(page, width)
    _shot(page, artifacts, "deleted", js, width)
    assert page.csp_violations == []

    page.goto("/")
    assert "/accounts/login/" in page.url  # signed out
    assert not User.objects.get(pk=owner.pk).is_active


@pytest.mark.parametrize(("js", "width"), CASES, ids=IDS)
def test_download_my_data_is_a_zip(make_page, account, js, width):
    owner = account(f"dl{'js' if js else 'nojs'}{width}")
    page = _page(make_page, owner, js, width)
    page.goto("/")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download my data").click()
    download = info.value
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.path()) as archive:
        assert sorted(archive.namelist()) == ["README.txt", "data.json", "index.html"]
        data = json.loads(archive.read("data.json"))
        html = archive.read("index.html").decode()
    assert data["account"]["email"] == owner.email
    assert "Tax &lt;b&gt;q&lt;/b&gt;" in html and "<script" not in html
