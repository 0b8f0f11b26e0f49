"""log-ingester's composition root: settings in, the service's ports out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from contracts import Event, Platform
from services.common.clients import AwsClients
from services.common.function import given
from services.common.publisher import EventPublisher
from services.common.targets.catalog import IngestCatalog, TargetCatalog, TargetCatalogs
from services.common.targets.connect.catalog import ConnectCatalog
from services.common.targets.pinpoint.catalog import PINPOINT_CATALOG
from services.log_ingester.adapters import (
    ConnectApiLister,
    PinpointApiLister,
    S3LogFiles,
    TargetListers,
)
from services.log_ingester.backfill import ResourceLister
from services.log_ingester.logic import LogFiles
from services.log_ingester.settings import Settings

Publish = Callable[[Sequence[Event]], object]


@dataclass(frozen=True)
class LogIngester:
    log_files: LogFiles
    lister: ResourceLister
    catalog: IngestCatalog  # what the targets' records and bodies mean
    publish: Publish
    monitored: tuple[str, ...]  # scope keys (targets.catalog): projects, instance, domain
    backfill_page_size: int


def bootstrap(
    settings: Settings | None = None,
    *,
    aws: AwsClients | None = None,
    log_files: LogFiles | None = None,
    lister: ResourceLister | None = None,
    catalog: IngestCatalog | None = None,
    publish: Publish | None = None,
) -> LogIngester:
    """The ingester of the stack's targets: Pinpoint when projects are monitored, Amazon
    Connect when its domain or instance is set (each with its lister and catalog adapter)."""
    settings = settings or Settings.from_environment()
    aws = aws or AwsClients()
    targets: list[TargetCatalog] = []
    listers: dict[Platform, ResourceLister] = {}
    monitored = settings.monitored_project_ids
    if settings.monitored_project_ids:
        targets.append(PINPOINT_CATALOG)
        listers[Platform.PINPOINT] = PinpointApiLister(aws.pinpoint)
    if settings.connect_active:
        connect = ConnectCatalog(
            settings.customer_profiles_domain_name, settings.connect_instance_id
        )
        targets.append(connect)
        listers[Platform.CONNECT] = ConnectApiLister(aws.connect_campaigns, aws.customer_profiles)
        monitored += connect.monitored
    return LogIngester(
        log_files=given(log_files, lambda: S3LogFiles(aws.s3)),
        lister=given(lister, lambda: TargetListers(listers)),
        catalog=given(catalog, lambda: TargetCatalogs(*targets)),
        publish=given(publish, lambda: EventPublisher(settings.event_bus_name, aws.events).publish),
        monitored=monitored,
        backfill_page_size=settings.backfill_page_size,
    )
