"""name-resolver's composition root: settings in, the service's ports out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from aws_lambda_powertools.utilities.typing import LambdaContext

from contracts import PinpointResourceResolved
from services.common.clients import AwsClients
from services.common.function import given
from services.common.publisher import EventPublisher
from services.common.targets.catalog import ResourceReader
from services.common.targets.pinpoint.catalog import PINPOINT_CATALOG
from services.name_resolver.adapters import PinpointApiResources
from services.name_resolver.logic import BatchMemo, Resources
from services.name_resolver.settings import Settings

Publish = Callable[[Sequence[PinpointResourceResolved]], object]


@dataclass(frozen=True)
class NameResolver:
    resources: Resources
    reader: ResourceReader  # how the target's bodies read as catalog fields
    publish: Publish

    def for_batch(self, _: LambdaContext | None = None) -> NameResolver:
        """The resolver of one batch: each distinct resource is read once in it."""
        return replace(self, resources=BatchMemo(self.resources))


def bootstrap(
    settings: Settings | None = None,
    *,
    aws: AwsClients | None = None,
    resources: Resources | None = None,
    reader: ResourceReader | None = None,
    publish: Publish | None = None,
) -> NameResolver:
    """The resolver of the stack's target: Pinpoint (its API reads and its body reader)."""
    settings = settings or Settings.from_environment()
    aws = aws or AwsClients()
    return NameResolver(
        resources=given(resources, lambda: PinpointApiResources(aws.pinpoint)),
        reader=given(reader, lambda: PINPOINT_CATALOG),
        publish=given(publish, lambda: EventPublisher(settings.event_bus_name, aws.events).publish),
    )
