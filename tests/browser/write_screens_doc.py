"""Writes docs/screens.md from SCREENS (tests/browser/test_screens.py) and the
screenshots the browser tests left in test-artifacts/screens/:

    .venv/bin/python tests/browser/write_screens_doc.py
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "test-artifacts" / "screens"
INTRO = """# Screens

Every page of the portal as a person sees it, at 1280 and 375 px, in the light
and the dark colour scheme. `tests/browser/test_screens.py` visits each page
(the demo data of `make run`), checks it with axe-core (no serious or critical
violation), checks nothing is wider than a 375 px phone, and saves the
screenshot linked here. Run `make test` (or `.venv/bin/python -m pytest
tests/browser/test_screens.py`) to refresh them, then
`tests/browser/write_screens_doc.py` to list them here; the files live in
`test-artifacts/screens/` (CI output, not committed: every run makes them afresh).
"""


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from tests.browser.test_screens import SCHEMES, SCREENS, WIDTHS

    lines = [INTRO]
    for screen in SCREENS:
        lines += [f"## {screen.name}", "", f"`{screen.path}` as {screen.who or 'a visitor'}.", ""]
        lines += ["| | light | dark |", "|---|---|---|"]
        for width in WIDTHS:
            cells = " | ".join(
                f"[{scheme}](../test-artifacts/screens/{screen.name}-{scheme}-{width}.png)"
                for scheme in SCHEMES
            )
            lines.append(f"| {width} px | {cells} |")
        lines.append("")
    listed = {f"{s.name}-{sc}-{w}.png" for s in SCREENS for w in WIDTHS for sc in SCHEMES}
    states = sorted(p.name for p in FOLDER.glob("*.png") if p.name not in listed)
    if states:
        lines += [
            "## Page states",
            "",
            "Captured by the feature tests in `tests/browser/` (a dialog open, a preview, a",
            "confirmation page without JavaScript, a form error), light unless the name says dark:",
            "",
        ]
        lines += [f"- [{name[:-4]}](../test-artifacts/screens/{name})" for name in states]
        lines.append("")
    (ROOT / "docs" / "screens.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
