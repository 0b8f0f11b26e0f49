"""name-resolver's composition root: settings in, the service's ports out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from aws_lambda_powertools.utilities.typing import LambdaContext

from contracts import PinpointResourceResolved, Platform
from services.common.clients import AwsClients
from services.common.function import given
from services.common.publisher import EventPublisher
from services.common.targets.catalog import ResourceReader
from services.common.targets.connect.catalog import ConnectCatalog
from services.common.targets.pinpoint.catalog import PINPOINT_CATALOG
from services.name_resolver.adapters import ConnectApiResources, PinpointApiResources
from services.name_resolver.logic import BatchMemo, Resources
from services.name_resolver.settings import Settings

Publish = Callable[[Sequence[PinpointResourceResolved]], object]


@dataclass(frozen=True)
class Target:
    """How one platform's resources are read: its API reads and its body reader."""

    resources: Resources
    reader: ResourceReader


@dataclass(frozen=True)
class NameResolver:
    targets: Mapping[Platform, Target]  # the active targets
    publish: Publish

    def for_batch(self, _: LambdaContext | None = None) -> NameResolver:
        """The resolver of one batch: each distinct resource is read once in it."""
        return replace(
            self,
            targets={
                platform: replace(target, resources=BatchMemo(target.resources))
                for platform, target in self.targets.items()
            },
        )


def bootstrap(
    settings: Settings | None = None,
    *,
    aws: AwsClients | None = None,
    targets: Mapping[Platform, Target] | None = None,
    publish: Publish | None = None,
) -> NameResolver:
    """The resolver of the stack's targets: Pinpoint when projects are monitored (the
    template always names one), Connect when its domain or instance is set."""
    settings = settings or Settings.from_environment()
    aws = aws or AwsClients()

    def active() -> dict[Platform, Target]:
        built: dict[Platform, Target] = {}
        if settings.monitored_project_ids:
            built[Platform.PINPOINT] = Target(PinpointApiResources(aws.pinpoint), PINPOINT_CATALOG)
        if settings.connect_active:
            built[Platform.CONNECT] = Target(
                ConnectApiResources(aws.connect_campaigns, aws.customer_profiles),
                ConnectCatalog(
                    settings.customer_profiles_domain_name, settings.connect_instance_id
                ),
            )
        return built

    return NameResolver(
        targets=given(targets, active),
        publish=given(publish, lambda: EventPublisher(settings.event_bus_name, aws.events).publish),
    )
