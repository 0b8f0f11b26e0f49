"""`make package`: the functions' deployable artifact, built from the lock.

`sam build` with `CodeUri: ../` copies the whole repository (tests, bench, docs, the local
cloud, `.venv`...) into each of the eight functions. This builds what runs, once:

    .build/package/
      code/          contracts/, services/ and the locked runtime packages
      template.yaml  infra/template.yaml with every function's CodeUri set to code/

`code/` holds the two packages the handlers import and the packages of `requirements.txt`
(pinned from `uv.lock` by `make requirements`), installed with `uv pip install --target`
from PyPI, binary wheels only, with no dependency resolution of their own (`--no-deps`:
the pins are the whole set), for the Python version and architecture the template's
`Globals.Function` gives (`Runtime: python3.X`, `Architectures: [arm64 | x86_64]`).

Bytecode: when an interpreter of the runtime's Python version is at hand (the one running
this, or `python3.X` on the PATH), every module is compiled with it (`unchecked-hash` .pyc:
Lambda's file system is read-only, and a zip's 2-second timestamps would make
mtime-checked .pyc look stale). .pyc files do not depend on the machine, so an x86_64
python3.14 compiles for arm64. Without one, no bytecode is shipped (it would be the wrong
version) and every cold start compiles what it imports from source; the report says so.

`sam deploy --template-file .build/package/template.yaml` zips `code/` for each function
(the same zip, uploaded once) and deploys; `sam build` is not needed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from infra.local.template import load_template

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "infra" / "template.yaml"
REQUIREMENTS = ROOT / "requirements.txt"
DEFAULT_OUT = ROOT / ".build" / "package"
# What the handlers import from this repository; nothing else of it is deployed.
SOURCE_PACKAGES = ("contracts", "services")
# Inside those packages: generators and their inputs, not run by any function.
EXCLUDED_SOURCES = ("contracts/schema_export.py", "contracts/schemas")
# Left behind by wheels and never imported: console scripts, stubs, caches.
EXCLUDED_INSTALLED = ("bin", "__pycache__", "*-stubs")
_ARCHITECTURES = {"arm64": "aarch64", "x86_64": "x86_64"}
_CODE_URI = re.compile(r"^(?P<indent>\s+)CodeUri: \.\./\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Target:
    """The interpreter the artifact is built for."""

    python_version: str  # "3.14"
    machine: str | None  # "aarch64"; None: the machine building it

    @property
    def is_local(self) -> bool:
        return self.machine is None

    def compiler(self) -> str | None:
        """An interpreter that writes the bytecode the target reads, if one is at hand."""
        if self.python_version == f"{sys.version_info.major}.{sys.version_info.minor}":
            return sys.executable
        return shutil.which(f"python{self.python_version}")

    @property
    def label(self) -> str:
        return f"python{self.python_version} {self.machine or 'local'}"


def lambda_target(template: Path = TEMPLATE) -> Target:
    """The Python and architecture of the template's `Globals.Function`."""
    function = (load_template(template).get("Globals") or {}).get("Function") or {}
    runtime = str(function.get("Runtime", ""))
    match = re.fullmatch(r"python(3\.\d+)", runtime)
    if match is None:
        raise ValueError(f"Globals.Function.Runtime {runtime!r} is not a python3.X runtime")
    architectures = function.get("Architectures") or ["x86_64"]
    if len(architectures) != 1 or architectures[0] not in _ARCHITECTURES:
        raise ValueError(f"Globals.Function.Architectures {architectures!r}: one of arm64, x86_64")
    return Target(match[1], _ARCHITECTURES[architectures[0]])


def local_target() -> Target:
    """The interpreter running this: an artifact whose imports can be tried here."""
    return Target(f"{sys.version_info.major}.{sys.version_info.minor}", None)


@dataclass(frozen=True)
class Package:
    out_dir: Path
    target: Target
    compiled_with: str | None  # the interpreter that compiled the bytecode; None: none shipped

    @property
    def compiled(self) -> bool:
        return self.compiled_with is not None

    @property
    def code_dir(self) -> Path:
        return self.out_dir / "code"

    @property
    def template(self) -> Path:
        return self.out_dir / "template.yaml"


def build(
    out_dir: Path = DEFAULT_OUT,
    target: Target | None = None,
    *,
    uv: str = "uv",
    bytecode: bool = True,
) -> Package:
    """Build the artifact into `out_dir` (replaced) for `target` (default: the template's);
    `bytecode=False` ships none even when it could (the benchmark's "compiled" case)."""
    target = target or lambda_target()
    shutil.rmtree(out_dir, ignore_errors=True)
    code_dir = out_dir / "code"
    code_dir.mkdir(parents=True)
    _copy_sources(code_dir)
    _install_runtime_packages(code_dir, target, uv)
    compiler = target.compiler() if bytecode else None
    if compiler is not None:
        _compile(code_dir, compiler)
    (out_dir / "template.yaml").write_text(packaged_template(TEMPLATE.read_text()))
    return Package(out_dir, target, compiler)


def packaged_template(text: str) -> str:
    """The template with every function's `CodeUri: ../` pointing at `code/` beside it."""
    rewritten, count = _CODE_URI.subn(r"\g<indent>CodeUri: code/", text)
    if count == 0:
        raise ValueError("no function has CodeUri: ../")
    header = "# Generated by `make package` from infra/template.yaml; deploy this one.\n"
    return header + rewritten


def _copy_sources(code_dir: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        relative = Path(directory).relative_to(ROOT)
        return {
            name
            for name in names
            if name == "__pycache__"
            or name.endswith((".pyc", ".pyo"))
            or (relative / name).as_posix() in EXCLUDED_SOURCES
        }

    for package in SOURCE_PACKAGES:
        shutil.copytree(ROOT / package, code_dir / package, ignore=ignore)


def _install_runtime_packages(code_dir: Path, target: Target, uv: str) -> None:
    command = [
        uv,
        "pip",
        "install",
        "--quiet",
        "--no-deps",  # requirements.txt pins the whole set, as uv.lock resolved it
        "--no-build",  # wheels only: nothing is compiled for the wrong machine
        "--target",
        str(code_dir),
        "--requirements",
        str(REQUIREMENTS),
    ]
    if target.is_local:
        command += ["--python", sys.executable]
    else:
        command += [
            "--python-platform",
            f"{target.machine}-manylinux2014",
            "--python-version",
            target.python_version,
        ]
    subprocess.run(command, check=True)  # noqa: S603 - our own command line
    for pattern in EXCLUDED_INSTALLED:
        for path in code_dir.glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def _compile(code_dir: Path, python: str) -> None:
    command = [python, "-m", "compileall", "-q", "-j", "0"]
    command += ["--invalidation-mode", "unchecked-hash", str(code_dir)]
    subprocess.run(command, check=True)  # noqa: S603 - our own command line


def tree_size(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def size_report(package: Package) -> list[str]:
    """Every function's deployed size: the shared code directory, and its own service."""
    template = load_template(package.template)
    code = tree_size(package.code_dir)
    bytecode = (
        f"compiled by {package.compiled_with}"
        if package.compiled
        else f"not shipped: no python{package.target.python_version} here to compile it"
    )
    lines = [
        f"artifact for {package.target.label}: {package.code_dir} "
        f"({code / 1e6:.1f} MB unzipped, bytecode {bytecode})"
    ]
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        handler = str(resource["Properties"]["Handler"])
        service = package.code_dir / Path(*handler.split(".")[:2])
        lines.append(
            f"  {logical_id}: {code / 1e6:.1f} MB ({handler}; its service "
            f"{tree_size(service) / 1e3:.0f} kB)"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--local",
        action="store_true",
        help="build for this interpreter and machine instead (to try the imports here)",
    )
    parser.add_argument("--uv", default="uv", help="the uv executable")
    args = parser.parse_args(argv)
    package = build(args.out, local_target() if args.local else None, uv=args.uv)
    for line in size_report(package):
        print(line)  # noqa: T201 - the command's report
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
