"""The README's deploy steps, tested as far as offline allows.

The steps are read from the README itself: `make package` comes first, the later steps
name the template it writes, and `sam deploy`'s flags and parameter overrides are ones the
packaged template accepts (the overrides, with their placeholders filled, pass the
template's constraints). The slow test lints the packaged template with cfn-lint, which is
what `sam validate --lint` runs, and runs `sam validate --lint` itself when a SAM CLI is on
the PATH (it is too heavy for the lock; a throwaway venv with `pip install aws-sam-cli`
does).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra import package
from infra.local.template import StackModel, load_stack_template, load_template

ROOT = Path(__file__).resolve().parents[3]
PACKAGED = ".build/package/template.yaml"
PLACEHOLDERS = {
    "<your project id>": "0123456789abcdef0123456789abcdef",
    "<your-lake-bucket>": "customer-lake",
}


def deploy_steps() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deploying to AWS", 1)[1]
    block = section.split("```", 2)[1]
    for placeholder, value in PLACEHOLDERS.items():
        block = block.replace(placeholder, value)
    return [shlex.split(command) for command in block.replace("\\\n", " ").splitlines() if command]


def _flag(command: list[str], name: str) -> list[str]:
    """The values after `name`, up to the next flag."""
    index = command.index(name)
    values = []
    for item in command[index + 1 :]:
        if item.startswith("--"):
            break
        values.append(item)
    return values


def test_the_steps_package_then_validate_then_deploy_the_packaged_template() -> None:
    steps = deploy_steps()
    assert steps[0] == ["make", "package"]
    assert [step[:2] for step in steps[1:]] == [["sam", "validate"], ["sam", "deploy"]]
    validate, deploy = steps[1], steps[2]
    assert _flag(validate, "--template") == [PACKAGED]
    assert "--lint" in validate
    assert _flag(deploy, "--template-file") == [PACKAGED]
    assert str(package.DEFAULT_OUT.relative_to(ROOT) / "template.yaml") == PACKAGED
    # The roles have no names, so CAPABILITY_IAM; the template is over the 51,200 bytes
    # CloudFormation takes inline, so it must go through S3.
    assert _flag(deploy, "--capabilities") == ["CAPABILITY_IAM"]
    assert len((ROOT / "infra" / "template.yaml").read_bytes()) > 51_200
    assert "--resolve-s3" in deploy or "--s3-bucket" in deploy


def test_the_deploy_steps_parameter_overrides_pass_the_templates_constraints() -> None:
    deploy = deploy_steps()[2]
    overrides = dict(item.split("=", 1) for item in _flag(deploy, "--parameter-overrides"))
    template = load_stack_template(ROOT / "infra" / "template.yaml", region="us-east-1")
    assert set(overrides) <= set(template.resources_template["Parameters"])
    stack = StackModel(template.resources_template, parameters=overrides)
    stack.require_all_parameters()


def test_the_packaged_template_is_the_template_with_the_artifact_as_code() -> None:
    original = (ROOT / "infra" / "template.yaml").read_text()
    packaged = package.packaged_template(original)
    functions = [
        resource
        for resource in load_template(ROOT / "infra" / "template.yaml")["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    assert packaged.count("      CodeUri: code/\n") == len(functions) == 8
    assert "CodeUri: ../\n" not in packaged


@pytest.mark.slow
def test_the_packaged_template_lints_as_sam_validate_lint_does(tmp_path: Path) -> None:
    packaged = tmp_path / "template.yaml"
    packaged.write_text(package.packaged_template((ROOT / "infra" / "template.yaml").read_text()))
    (tmp_path / "code").mkdir()
    lint = subprocess.run(  # noqa: S603 - the locked cfn-lint of this environment
        [str(Path(sys.executable).parent / "cfn-lint"), str(packaged)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    sam = shutil.which("sam")
    if sam is None:
        return  # SAM CLI not installed: cfn-lint above is what its --lint runs
    validated = subprocess.run(  # noqa: S603 - the SAM CLI on the PATH
        [sam, "validate", "--lint", "--template", str(packaged)],
        capture_output=True,
        text=True,
        check=False,
        env={"SAM_CLI_TELEMETRY": "0", "PATH": str(Path(sam).parent), "HOME": str(tmp_path)},
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert re.search(r"is a valid SAM Template", validated.stdout + validated.stderr)
