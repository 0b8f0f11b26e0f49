"""What a deployed function needs is what `sam build` installs: requirements.txt.

The functions run `contracts` and `services`; every package they import must be a runtime
dependency in pyproject.toml, pinned in requirements.txt at the version uv.lock holds (the
version every test ran with).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DEPLOYED_PACKAGES = ("contracts", "services")


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    pins = {}
    for line in lines:
        if match := re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line):
            pins[_normalized(match[1])] = match[2]
    return pins


def _runtime_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        _normalized(re.split(r"[\[<>=~!; ]", spec, maxsplit=1)[0])
        for spec in project["dependencies"]
    }


class _RuntimeImports(ast.NodeVisitor):
    """Top-level names of modules imported when the code runs (not under TYPE_CHECKING)."""

    def __init__(self) -> None:
        self.modules: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
        if name == "TYPE_CHECKING":
            for statement in node.orelse:
                self.visit(statement)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.modules |= {alias.name.split(".")[0] for alias in node.names}

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.level == 0:
            self.modules.add(node.module.split(".")[0])


def _third_party_imports() -> set[str]:
    imports = _RuntimeImports()
    for package in DEPLOYED_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            imports.visit(ast.parse(path.read_text(), str(path)))
    own = set(DEPLOYED_PACKAGES)
    return {name for name in imports.modules if name not in sys.stdlib_module_names | own}


def test_every_runtime_dependency_is_pinned_as_uv_lock_resolved_it() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {_normalized(package["name"]): package["version"] for package in lock["package"]}
    pins = _pins()
    assert _runtime_dependencies() <= set(pins), "run `make requirements`"
    stale = {
        name: (version, locked.get(name))
        for name, version in pins.items()
        if locked.get(name) != version
    }
    assert not stale, f"requirements.txt differs from uv.lock, run `make requirements`: {stale}"


def test_every_package_the_functions_import_is_a_runtime_dependency() -> None:
    distributions = packages_distributions()
    runtime = _runtime_dependencies() | set(_pins())
    missing = {
        module: distributions.get(module, ["?"])
        for module in _third_party_imports()
        if not {_normalized(name) for name in distributions.get(module, [])} & runtime
    }
    assert not missing, f"imported by contracts/ or services/ but not deployed: {missing}"
