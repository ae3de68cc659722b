"""The documentation the code cites exists where the citation says: every
mention of the rules page (code, tests, docs) is docs/retention-rules.md, and
that page states every rule code of the product, in order of precedence."""

import os
import re
from pathlib import Path

from retention.models import Rule

ROOT = Path(__file__).resolve().parent.parent
RULES_PAGE = ROOT / "docs/retention-rules.md"
SCANNED = {".py", ".md", ".html", ".txt", ".toml", ".cfg", ".ini", ".yml", ".yaml"}
SKIPPED = {".git", ".venv", "var", "node_modules", "__pycache__", ".hypothesis", ".pytest_cache"}

# A markdown link target ("](...)") or any other mention, with its path.
MENTION = re.compile(r"(\]\()?([\w./-]*retention-rules\.md)")


def _files():
    for directory, subdirectories, names in os.walk(ROOT):
        subdirectories[:] = sorted(set(subdirectories) - SKIPPED)
        for name in sorted(names):
            if Path(name).suffix in SCANNED:
                yield Path(directory) / name


def _mentions() -> list[tuple[Path, bool, str]]:
    return [
        (path, bool(match[1]), match[2])
        for path in _files()
        for match in MENTION.finditer(path.read_text(errors="replace"))
    ]


def test_every_mention_of_the_rules_page_resolves_to_docs_retention_rules_md():
    mentions = _mentions()
    cited_by = {path.relative_to(ROOT).as_posix() for path, _, _ in mentions}
    # The citations this test exists for (a sanity check that the scan works).
    assert {
        "README.md",
        "docs/architecture.md",
        "retention/models.py",
        "retention/policy/__init__.py",
        "retention/policy/decide.py",
        "tests/retention/test_policy.py",
    } <= cited_by
    assert RULES_PAGE.is_file()
    broken = []
    for path, is_link, mention in mentions:
        # A link resolves from its own file; a citation in prose or code from
        # the repository root (or, in a page under docs/, from that page).
        bases = [path.parent] if is_link else [ROOT, path.parent]
        if not any((base / mention).resolve() == RULES_PAGE for base in bases):
            broken.append(f"{path.relative_to(ROOT)}: {mention}")
    assert broken == []


def test_the_rules_page_states_every_rule_code_in_order_of_precedence():
    rows = re.findall(r"^\| `(\w+)` \|", RULES_PAGE.read_text(), flags=re.MULTILINE)
    codes = [code for code in rows if code in Rule.values]
    assert codes == list(Rule.values)
