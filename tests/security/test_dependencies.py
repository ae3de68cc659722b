"""Known vulnerabilities in the dependencies of requirements.txt and
requirements-dev.txt.

What is audited: every distribution the two files install (the runtime and
the tests and tools), their own pins and what they pull in, at the versions
installed here (read from the installed metadata, so the audit sees what runs).

How, in order:
1. pip-audit (pinned in requirements-dev.txt) against PyPI's per-version JSON
   API, `/pypi/<name>/<version>/json`, which carries the advisories of that
   exact version. `--strict` is not used: a dependency pip-audit cannot look
   up is reported as skipped, and handled in step 2, not counted as clean.
   (pip-audit alone says "No known vulnerabilities found" and exits 0 when it
   skipped every dependency: on a network where that endpoint answers 404,
   as on the machines this project was built on, it audits nothing.)
2. For what pip-audit skipped, PyPI's project JSON, `/pypi/<name>/json`, whose
   `vulnerabilities` are those of the project's *latest* release: that answers
   for a dependency pinned at its latest release, and for no other.
What neither can answer stays unverified: `test_every_dependency_was_audited`
skips with a one-line reason naming those dependencies, or fails when
PORTAL_REQUIRE_AUDIT=1. A finding in anything audited always fails.
PORTAL_AUDIT_PYPI_URL points both at another PyPI-compatible JSON API.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.security

ROOT = Path(__file__).resolve().parents[2]
PYPI = os.environ.get("PORTAL_AUDIT_PYPI_URL", "https://pypi.org/pypi").rstrip("/")
REQUIRED = os.environ.get("PORTAL_REQUIRE_AUDIT") == "1"
TIMEOUT = 20


REQUIREMENTS = (ROOT / "requirements.txt", ROOT / "requirements-dev.txt")


def pinned_requirements(path: Path) -> list[Requirement]:
    """The requirements a file lists, and those of the files it includes (`-r`)."""
    found: list[Requirement] = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += pinned_requirements(path.parent / line.removeprefix("-r ").strip())
        elif line:
            found.append(Requirement(line))
    return found


def requirements_closure(paths: tuple[Path, ...] = REQUIREMENTS) -> dict[str, str]:
    """{canonical name: installed version} of every pinned requirement and of
    everything it requires (extras and environment markers evaluated)."""
    pending: list[tuple[str, frozenset[str]]] = [
        (requirement.name, frozenset(requirement.extras))
        for path in paths
        for requirement in pinned_requirements(path)
    ]
    versions: dict[str, str] = {}
    extras_seen: dict[str, frozenset[str]] = {}
    while pending:
        name, extras = pending.pop()
        key = canonicalize_name(name)
        if key in extras_seen and extras <= extras_seen[key]:
            continue
        extras_seen[key] = extras_seen.get(key, frozenset()) | extras
        distribution = metadata.distribution(name)
        versions[key] = distribution.version
        for raw in distribution.requires or []:
            requirement = Requirement(raw)
            environments = [{"extra": extra} for extra in extras or {""}]
            if requirement.marker is None or any(
                requirement.marker.evaluate(environment) for environment in environments
            ):
                pending.append((requirement.name, frozenset(requirement.extras)))
    return versions


@dataclass
class Audit:
    findings: list[str] = field(default_factory=list)  # "name version: advisory ids"
    audited: dict[str, str] = field(default_factory=dict)  # name -> how it was audited
    unverified: dict[str, str] = field(default_factory=dict)  # name==version -> why
    unreachable: str | None = None  # set when no vulnerability service answered at all


def _pip_audit(closure: dict[str, str], tmp: Path) -> tuple[dict[str, list[str]], dict[str, str]]:
    """pip-audit over the exact versions: ({name: advisory ids} audited, {name: skip reason})."""
    if PYPI != "https://pypi.org/pypi":
        return {}, dict.fromkeys(closure, "PORTAL_AUDIT_PYPI_URL is set: pip-audit not used")
    pins = tmp / "closure.txt"
    pins.write_text("".join(f"{name}=={version}\n" for name, version in sorted(closure.items())))
    command = [sys.executable, "-m", "pip_audit", "-r", str(pins), "--no-deps", "--disable-pip"]
    command += ["--progress-spinner", "off", "--format", "json", "--timeout", str(TIMEOUT)]
    command += ["--cache-dir", str(tmp / "cache")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return {}, dict.fromkeys(closure, f"pip-audit failed: {last}")
    audited, skipped = {}, {}
    for dependency in report["dependencies"]:
        name = canonicalize_name(dependency["name"])
        if "skip_reason" in dependency:
            skipped[name] = dependency["skip_reason"]
        else:
            audited[name] = [vuln["id"] for vuln in dependency.get("vulns", [])]
    return audited, skipped


def _project_json(name: str) -> dict | str:
    """PyPI's project JSON, or why it could not be read."""
    try:
        with urllib.request.urlopen(f"{PYPI}/{name}/json", timeout=TIMEOUT) as response:  # noqa: S310
            return json.load(response)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def run_audit(tmp: Path) -> Audit:
    closure = requirements_closure()
    audit = Audit()
    audited, skipped = _pip_audit(closure, tmp)
    for name, advisories in audited.items():
        audit.audited[name] = "pip-audit"
        if advisories:
            audit.findings.append(f"{name} {closure[name]}: {', '.join(advisories)}")
    with ThreadPoolExecutor(max_workers=8) as pool:
        projects = dict(zip(skipped, pool.map(_project_json, skipped), strict=True))
    errors = []
    for name, project in projects.items():
        pin = f"{name}=={closure[name]}"
        if isinstance(project, str):
            errors.append(project)
            audit.unverified[pin] = project
            continue
        latest = project["info"]["version"]
        if latest != closure[name]:
            audit.unverified[pin] = f"not the latest release ({latest}); no per-version data"
            continue
        audit.audited[name] = "PyPI project JSON (latest release)"
        advisories = [
            vuln["id"] for vuln in project.get("vulnerabilities") or [] if not vuln.get("withdrawn")
        ]
        if advisories:
            audit.findings.append(f"{name} {closure[name]}: {', '.join(advisories)}")
    if skipped and len(errors) == len(skipped) and not audited:
        audit.unreachable = errors[0]
    return audit


@pytest.fixture(scope="module")
def audit(tmp_path_factory) -> Audit:
    result = run_audit(tmp_path_factory.mktemp("audit"))
    if result.unreachable and not REQUIRED:
        pytest.skip(
            f"vulnerability service unreachable ({result.unreachable}); PORTAL_REQUIRE_AUDIT=1 fails instead"
        )
    return result


def test_the_audit_covers_every_installed_requirement():
    closure = requirements_closure()
    for path in REQUIREMENTS:
        for requirement in pinned_requirements(path):
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"{path.name}: {requirement} is not pinned"
            installed = closure[canonicalize_name(requirement.name)]
            assert installed == specifier.version, (
                f"{requirement.name} {installed} installed, {specifier.version} pinned: run make venv"
            )


def test_the_pre_commit_hook_runs_the_pinned_ruff():
    """The hook and `make lint` must judge code with the same ruff."""
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    revs = re.findall(r"repo: https://github.com/astral-sh/ruff-pre-commit\s+rev: (\S+)", config)
    (pin,) = [r for r in pinned_requirements(REQUIREMENTS[1]) if r.name == "ruff"]
    assert revs == [f"v{next(iter(pin.specifier)).version}"]


def test_no_audited_dependency_has_a_known_vulnerability(audit):
    assert audit.unreachable is None, audit.unreachable
    assert audit.findings == []
    assert audit.audited, "nothing was audited"


def test_every_dependency_was_audited(audit):
    if audit.unverified and not REQUIRED:
        listed = ", ".join(f"{pin} ({why})" for pin, why in sorted(audit.unverified.items()))
        pytest.skip(
            f"{len(audit.unverified)} of {len(audit.unverified) + len(audit.audited)} dependencies could not be audited: {listed}"
        )
    assert audit.unverified == {}


# --- The audit's own logic, without the network --------------------------------
def test_an_advisory_from_pip_audit_is_a_finding(monkeypatch, tmp_path):
    closure = requirements_closure()
    monkeypatch.setattr(
        sys.modules[__name__],
        "_pip_audit",
        lambda closure, tmp: ({name: [] for name in closure} | {"django": ["GHSA-test"]}, {}),
    )
    audit = run_audit(tmp_path)
    assert audit.findings == [f"django {closure['django']}: GHSA-test"]
    assert audit.unverified == {}


def test_an_advisory_on_the_latest_release_is_a_finding_and_an_older_pin_is_unverified(
    monkeypatch, tmp_path
):
    closure = requirements_closure()
    module = sys.modules[__name__]
    monkeypatch.setattr(
        module,
        "_pip_audit",
        lambda closure, tmp: ({}, dict.fromkeys(["django", "celery"], "not found")),
    )
    projects = {
        "django": {"info": {"version": closure["django"]}, "vulnerabilities": [{"id": "PYSEC-1"}]},
        "celery": {"info": {"version": "999.0"}, "vulnerabilities": []},
    }
    monkeypatch.setattr(module, "_project_json", projects.__getitem__)
    audit = run_audit(tmp_path)
    assert audit.findings == [f"django {closure['django']}: PYSEC-1"]
    assert list(audit.unverified) == [f"celery=={closure['celery']}"]
    assert audit.unreachable is None
