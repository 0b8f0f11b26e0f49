"""A deployed stack's outputs: what the CLI needs to reach the system."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cli.errors import AwsError

REQUIRED_OUTPUTS = (
    "EventBusName",
    "CampaignJourneyTableName",
    "SegmentTableName",
    "NotificationTopicArn",
    "PinpointProjectId",
)


class StackError(AwsError):
    """The stack cannot be used; the message says what to do next."""


@dataclass(frozen=True)
class StackOutputs:
    values: Mapping[str, str]
    parameters: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        try:
            return self.values[name]
        except KeyError:
            raise StackError(
                f"the stack has no output {name!r}: redeploy it from infra/template.yaml "
                "(sam build && sam deploy)"
            ) from None

    def get(self, name: str) -> str | None:
        return self.values.get(name)


def read_outputs(cloudformation: Any, stack_name: str) -> StackOutputs:
    """Outputs of `stack_name`, checked for the ones every command relies on."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        # CloudFormation answers a missing stack with ValidationError; anything else (access
        # denied, bad credentials) is explained like any other AWS failure (cli/errors.py).
        if error.response["Error"]["Code"] != "ValidationError":
            raise
        region = cloudformation.meta.region_name
        raise StackError(
            f"no stack {stack_name!r} in {region}: {error.response['Error']['Message']}. "
            "Check --stack and --region."
        ) from None
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stacks[0].get("Outputs", [])}
    parameters = {
        item["ParameterKey"]: item.get("ParameterValue", "")
        for item in stacks[0].get("Parameters", [])
    }
    missing = [name for name in REQUIRED_OUTPUTS if name not in outputs]
    if missing:
        raise StackError(
            f"stack {stack_name!r} lacks outputs {', '.join(missing)}: is it a pinpoint-lake "
            "stack? Deploy infra/template.yaml."
        )
    return StackOutputs(outputs, parameters)
