"""log-ingester's composition root: settings in, the service's ports out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from contracts import Event
from services.common.clients import AwsClients
from services.common.function import given
from services.common.publisher import EventPublisher
from services.common.targets.catalog import TargetCatalog
from services.common.targets.pinpoint.catalog import PINPOINT_CATALOG
from services.log_ingester.adapters import PinpointApiLister, S3LogFiles
from services.log_ingester.backfill import ResourceLister
from services.log_ingester.logic import LogFiles
from services.log_ingester.settings import Settings

Publish = Callable[[Sequence[Event]], object]


@dataclass(frozen=True)
class LogIngester:
    log_files: LogFiles
    lister: ResourceLister
    catalog: TargetCatalog  # what the target's records and bodies mean
    publish: Publish
    monitored: tuple[str, ...]
    backfill_page_size: int


def bootstrap(
    settings: Settings | None = None,
    *,
    aws: AwsClients | None = None,
    log_files: LogFiles | None = None,
    lister: ResourceLister | None = None,
    catalog: TargetCatalog | None = None,
    publish: Publish | None = None,
) -> LogIngester:
    """The ingester of the stack's target: Pinpoint (its lister and its catalog adapter)."""
    settings = settings or Settings.from_environment()
    aws = aws or AwsClients()
    return LogIngester(
        log_files=given(log_files, lambda: S3LogFiles(aws.s3)),
        lister=given(lister, lambda: PinpointApiLister(aws.pinpoint)),
        catalog=given(catalog, lambda: PINPOINT_CATALOG),
        publish=given(publish, lambda: EventPublisher(settings.event_bus_name, aws.events).publish),
        monitored=settings.monitored_project_ids,
        backfill_page_size=settings.backfill_page_size,
    )
