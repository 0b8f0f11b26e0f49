"""catalog-writer's composition root: settings in, the service's ports out."""

from __future__ import annotations

from dataclasses import dataclass

from services.catalog_writer.adapters import DynamoCatalogStore
from services.catalog_writer.logic import CatalogMirror, CatalogStore, Publish
from services.catalog_writer.mirror import S3CatalogMirror
from services.catalog_writer.settings import Settings
from services.common.clients import AwsClients
from services.common.function import given
from services.common.publisher import EventPublisher


@dataclass(frozen=True)
class CatalogWriter:
    store: CatalogStore
    mirror: CatalogMirror
    publish: Publish


def bootstrap(
    settings: Settings | None = None,
    *,
    aws: AwsClients | None = None,
    store: CatalogStore | None = None,
    mirror: CatalogMirror | None = None,
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
        mirror=given(
            mirror,
            lambda: S3CatalogMirror(
                aws.s3, bucket=settings.mirror_bucket, prefix=settings.mirror_prefix
            ),
        ),
        publish=given(publish, lambda: EventPublisher(settings.event_bus_name, aws.events).publish),
    )
