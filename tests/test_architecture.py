"""The app graph of docs/architecture.md, enforced: each app imports only the
apps below it, no app imports another from inside a function (a dependency
pointing the wrong way), and no two modules import each other.

Layers, bottom up (an app may import only apps of a lower layer):
  0 connected  connected systems: outbox, deliveries, feed, erasure confirmations
  1 accounts   people, roles, consent, external ids
  2 staff      admin site and toolkit, staff access log
  3 retention  the policy, its services, selectors, purge
  4 ingest, support, dashboard   the entry points (never each other)
An app's admin modules form the top of that app: like Django's own
contrib.auth.admin, they may use the admin toolkit in `staff` whatever the
app's layer.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {
    "connected": 0,
    "accounts": 1,
    "staff": 2,
    "retention": 3,
    "ingest": 4,
    "support": 4,
    "dashboard": 4,
}


def _modules():
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            yield name.removesuffix(".__init__"), path


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _imports(path: Path):
    """(imported module, line, inside a function) for every import of ours."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function.update(id(sub) for sub in ast.walk(node) if sub is not node)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from package import module` depends on the module itself.
            targets = [
                f"{node.module}.{alias.name}"
                if _is_module(f"{node.module}.{alias.name}")
                else node.module
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in LAYERS:
                yield target, node.lineno, id(node) in in_function


def _is_admin(module: str) -> bool:
    parts = module.split(".")
    return "admin" in parts or any(part.startswith("admin_") for part in parts)


def test_each_app_imports_only_the_apps_below_it():
    wrong = []
    for module, path in _modules():
        app = module.split(".")[0]
        for target, line, _ in _imports(path):
            other = target.split(".")[0]
            if other == app or LAYERS[other] < LAYERS[app]:
                continue
            if other == "staff" and _is_admin(module):
                continue
            wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not wrong, "imports against the app graph:\n" + "\n".join(wrong)


def test_no_app_imports_another_inside_a_function():
    lazy = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for module, path in _modules()
        for target, line, in_function in _imports(path)
        if in_function and target.split(".")[0] != module.split(".")[0]
    ]
    assert not lazy, "function-level imports across apps:\n" + "\n".join(lazy)


def test_no_two_modules_import_each_other_even_lazily():
    graph: dict[str, set[str]] = {}
    for module, path in _modules():
        graph[module] = {target for target, _, _ in _imports(path) if target != module}
    packages = {module for module, path in _modules() if path.name == "__init__.py"}
    # A package's __init__ re-exports its modules; importing through it is
    # not a cycle of the modules themselves.
    edges = {
        module: {t for t in targets if t not in packages}
        for module, targets in graph.items()
        if module not in packages
    }
    seen: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            cycle = [*trail[trail.index(module) :], module]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if module in seen:
            return
        for target in sorted(edges.get(module, ())):
            visit(target, [*trail, module])
        seen.add(module)

    for module in sorted(edges):
        visit(module, [])
