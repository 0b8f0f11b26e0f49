"""`make package` builds an artifact that holds only what runs, and every handler runs from it.

Slow (two builds, from PyPI through uv's cache): `make test-all`. The Lambda build is for the
template's Python and architecture; a second build for this interpreter proves that every
handler imports from the artifact alone, in a fresh interpreter that sees no repository and
no site-packages.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cold_start import lambda_environment, lambda_functions
from infra import package
from infra.local.template import load_stack_template, load_template

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
# Never deployed: the repository's other folders, and the dev group's packages.
NOT_DEPLOYED = {
    "tests",
    "bench",
    "docs",
    "cli",
    "infra",
    ".venv",
    "pytest",
    "_pytest",
    "moto",
    "mypy",
    "ruff",
    "duckdb",
    "pyarrow",
    "hypothesis",
    "samtranslator",
    "cfnlint",
    "yaml",
    "flask",
    "werkzeug",
    "pytest_socket",
}
# The modules a handler may load from outside the artifact: the standard library only.
IMPORT_CHECK = """
import importlib, json, sys, sysconfig
code = sys.argv[1]
sys.path.insert(0, code)
importlib.import_module(sys.argv[2])
stdlib = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib")}
outside = sorted(
    name
    for name, module in list(sys.modules.items())
    if (path := getattr(module, "__file__", None))
    and not path.startswith(code)
    and not any(path.startswith(prefix) for prefix in stdlib)
)
print(json.dumps({"outside": outside, "handler": sys.modules[sys.argv[2]].__file__}))
"""


def _pins() -> set[str]:
    text = (ROOT / "requirements.txt").read_text()
    return {
        m[1].lower().replace("-", "_") for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", text, re.M)
    }


@pytest.fixture(scope="module")
def lambda_package(tmp_path_factory: pytest.TempPathFactory) -> package.Package:
    return package.build(tmp_path_factory.mktemp("lambda") / "package", uv=_uv())


@pytest.fixture(scope="module")
def local_package(tmp_path_factory: pytest.TempPathFactory) -> package.Package:
    return package.build(
        tmp_path_factory.mktemp("local") / "package", package.local_target(), uv=_uv()
    )


def _uv() -> str:
    bundled = ROOT / ".tools" / "bin" / "uv"
    return str(bundled) if bundled.exists() else "uv"


def test_the_target_is_the_templates_runtime_and_architecture() -> None:
    function = load_template(package.TEMPLATE)["Globals"]["Function"]
    target = package.lambda_target()
    assert function["Runtime"] == f"python{target.python_version}"
    assert {"arm64": "aarch64", "x86_64": "x86_64"}[function["Architectures"][0]] == target.machine


def test_the_artifact_holds_only_contracts_services_and_the_locked_packages(
    lambda_package: package.Package, capsys: pytest.CaptureFixture[str]
) -> None:
    code = lambda_package.code_dir
    names = {path.name for path in code.iterdir()}
    assert not names & NOT_DEPLOYED, f"not to be deployed: {sorted(names & NOT_DEPLOYED)}"
    distributions = {name.split("-")[0].lower() for name in names if name.endswith(".dist-info")}
    assert distributions == _pins(), "installed packages differ from requirements.txt"
    assert {"contracts", "services"} <= names
    assert not (code / "contracts" / "schemas").exists()
    assert not (code / "contracts" / "schema_export.py").exists()
    own = [
        path
        for package_name in ("contracts", "services")
        for path in (code / package_name).rglob("*")
    ]
    assert not [path for path in own if path.name.startswith(("test_", "conftest"))]
    assert not list(code.rglob("__pycache__")) or lambda_package.compiled
    # Native code is for the runtime's Python and machine, nothing else.
    target = lambda_package.target
    tag = f"cpython-{target.python_version.replace('.', '')}-{target.machine}-linux-gnu"
    native = [path.name for path in code.rglob("*.so")]
    assert native, "pydantic-core ships a native module"
    assert all(tag in name for name in native), native
    with capsys.disabled():  # the sizes are part of the report
        sys.stdout.write("\n" + "\n".join(package.size_report(lambda_package)) + "\n")


def test_the_packaged_template_points_every_function_at_the_artifact(
    lambda_package: package.Package,
) -> None:
    translated = load_stack_template(lambda_package.template, region="us-east-1")
    assert translated.code_paths
    assert set(translated.code_paths.values()) == {lambda_package.code_dir.resolve()}
    original = load_template(package.TEMPLATE)["Resources"]
    packaged = load_template(lambda_package.template)["Resources"]
    assert packaged.keys() == original.keys()


def test_every_handler_imports_from_the_artifact_alone(
    local_package: package.Package, tmp_path: Path
) -> None:
    code = str(local_package.code_dir.resolve())
    functions = lambda_functions()
    assert len(functions) == 8
    for function in functions:
        environment = {**function.environment, "LAMBDA_TASK_ROOT": code}
        environment.pop("PYTHONPATH", None)
        result = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-I", "-S", "-c", IMPORT_CHECK, code, function.module],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=lambda_environment("f", "h", {}) | environment,
            check=False,
            timeout=120,
        )
        assert result.returncode == 0, f"{function.module}:\n{result.stderr[-3000:]}"
        report = json.loads(result.stdout.splitlines()[-1])
        assert report["handler"].startswith(code), report
        assert report["outside"] == [], f"{function.module} loaded {report['outside']}"
