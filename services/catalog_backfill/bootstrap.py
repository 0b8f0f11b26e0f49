"""catalog-backfill's composition root: settings in, the service's ports out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.catalog_backfill.adapters import send_response
from services.catalog_backfill.logic import Publish
from services.catalog_backfill.settings import Settings
from services.common.clients import AwsClients
from services.common.function import given
from services.common.publisher import EventPublisher


@dataclass(frozen=True)
class CatalogBackfill:
    publish: Publish
    respond: Callable[[str, dict[str, Any]], None]


def bootstrap(
    settings: Settings | None = None,
    *,
    aws: AwsClients | None = None,
    publish: Publish | None = None,
    respond: Callable[[str, dict[str, Any]], None] | None = None,
) -> CatalogBackfill:
    settings = settings or Settings.from_environment()
    aws = aws or AwsClients()
    return CatalogBackfill(
        publish=given(publish, lambda: EventPublisher(settings.event_bus_name, aws.events).publish),
        respond=given(respond, lambda: send_response),
    )
