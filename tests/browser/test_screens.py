"""Every page, as a person sees it: at 1280 and 375 px, in the light and the
dark colour scheme, with axe-core finding no serious or critical violation,
nothing wider than a phone at 375 px, and a screenshot of each kept under
test-artifacts/screens/ (docs/screens.md links them; SCREENS below is the
one list both read)."""

from dataclasses import dataclass
from pathlib import Path

import axe_playwright_python
import pytest
from django.apps import apps as django_apps
from django.utils import timezone

from accounts import roles
from accounts.models import User
from retention.demo import seed_demo

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"
WIDTHS = (1280, 375)
SCHEMES = ("light", "dark")


@dataclass(frozen=True)
class Screen:
    name: str  # the file name stem and the heading in docs/screens.md
    path: str
    who: str | None  # a demo account's email, or None for a visitor
    status: int = 200


SCREENS = (
    Screen("sign-in", "/accounts/login/", None),
    Screen("password-reset", "/accounts/password-reset/", None),
    Screen("policy", "/policy/", None),
    Screen("not-found", "/no-such-page/", None, status=404),
    Screen("overview", "/", "alice@example.com"),
    Screen("conversations", "/conversations/", "alice@example.com"),
    Screen("conversations-search", "/conversations/?q=recipe", "alice@example.com"),
    Screen("conversation", "/conversations/alice-recipes/", "alice@example.com"),
    Screen("consent", "/consent/", "alice@example.com"),
    Screen("deleted", "/deleted/", "alice@example.com"),
    Screen("feedback", "/feedback/", "alice@example.com"),
    Screen("auto-delete", "/auto-delete/", "alice@example.com"),
    Screen("account-delete", "/account/delete/", "alice@example.com"),
    Screen("preferences", "/preferences/", "alice@example.com"),
    Screen("sign-out", "/accounts/logout/", "alice@example.com"),
    Screen("overview-commercial", "/", "carol@example.com"),
    Screen("staff-home", "/", "agent@example.com"),
    Screen("support-console", "/support/", "agent@example.com"),
)


@pytest.fixture
def demo(portal):
    roles.groups_sync(django_apps)  # the staff groups a flush removed
    seed_demo(now=timezone.now())
    return portal


def _serious(results) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][0]['target']}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_is_accessible_fits_and_is_kept_as_a_screenshot(
    make_page, demo, artifacts, width, scheme
):
    folder = artifacts / "screens"
    folder.mkdir(exist_ok=True)
    pages = {}
    failures = {}
    for screen in SCREENS:
        if screen.who not in pages:
            user = User.objects.get(email=screen.who) if screen.who else None
            pages[screen.who] = make_page(
                user,
                viewport={"width": width, "height": 900 if width > 400 else 812},
                color_scheme=scheme,
                bypass_csp=True,  # axe is injected as a script
            )
        page = pages[screen.who]
        response = page.goto(screen.path)
        problems = []
        if response is None or response.status != screen.status:
            problems.append(f"status {response and response.status}, expected {screen.status}")
        if width == 375 and page.evaluate("document.documentElement.scrollWidth") > 375:
            problems.append("wider than 375 px")
        page.add_script_tag(path=str(AXE_JS))
        problems += _serious(page.evaluate("async () => await axe.run()"))
        page.screenshot(path=str(folder / f"{screen.name}-{scheme}-{width}.png"), full_page=True)
        if problems:
            failures[screen.name] = problems
    assert not failures, "\n".join(f"{name}: {problems}" for name, problems in failures.items())


def test_docs_screens_lists_every_screen():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "screens.md").read_text()
    for screen in SCREENS:
        for width in WIDTHS:
            for scheme in SCHEMES:
                assert f"screens/{screen.name}-{scheme}-{width}.png" in doc, screen.name
