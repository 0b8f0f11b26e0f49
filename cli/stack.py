"""A deployed stack's outputs: what the CLI needs to reach the system."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

REQUIRED_OUTPUTS = (
    "EventBusName",
    "CampaignJourneyTableName",
    "SegmentTableName",
    "NotificationTopicArn",
    "PinpointProjectId",
)


class StackError(RuntimeError):
    """The stack cannot be used; the message says what to do next."""


@dataclass(frozen=True)
class StackOutputs:
    values: Mapping[str, str]

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
        raise StackError(
            f"cannot read stack {stack_name!r}: {error.response['Error']['Message']}. "
            "Check --stack, --region and your AWS credentials."
        ) from None
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stacks[0].get("Outputs", [])}
    missing = [name for name in REQUIRED_OUTPUTS if name not in outputs]
    if missing:
        raise StackError(
            f"stack {stack_name!r} lacks outputs {', '.join(missing)}: is it a pinpoint-lake "
            "stack? Deploy infra/template.yaml."
        )
    return StackOutputs(outputs)
