"""catalog-writer's composition root: settings in, the service's ports out."""

from __future__ import annotations

from dataclasses import dataclass

from services.catalog_writer.adapters import DynamoCatalogStore
from services.catalog_writer.logic import CatalogStore, Publish
from services.catalog_writer.settings import Settings
from services.common.clients import AwsClients
from services.common.function import given
from services.common.publisher import EventPublisher


@dataclass(frozen=True)
class CatalogWriter:
    store: CatalogStore
    publish: Publish


def bootstrap(
    settings: Settings | None = None,
    *,
    aws: AwsClients | None = None,
    store: CatalogStore | None = None,
    publish: Publish | None = None,
) -> CatalogWriter:
    settings = settings or Settings.from_environment()
    aws = aws or AwsClients()
    return CatalogWriter(
        store=given(
            store,
            lambda: DynamoCatalogStore(
                aws.dynamodb,
                campaign_journey_table=settings.campaign_journey_table,
                segment_table=settings.segment_table,
            ),
        ),
        publish=given(publish, lambda: EventPublisher(settings.event_bus_name, aws.events).publish),
    )
