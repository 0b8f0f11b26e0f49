"""catalog-writer: applies resolved resources to the catalog tables and announces changes."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from contracts import ParsedEvent, PinpointResourceResolved
from services.catalog_writer.adapters import DynamoCatalogStore
from services.catalog_writer.logic import apply_resolution
from services.catalog_writer.settings import get_settings
from services.common.batch import PartialItemFailureResponse, handle_event_batch
from services.common.clients import clients
from services.common.observability import logger, metrics, tracer
from services.common.publisher import EventPublisher


@cache
def _store() -> DynamoCatalogStore:
    settings = get_settings()
    return DynamoCatalogStore(
        clients.dynamodb,
        campaign_journey_table=settings.campaign_journey_table,
        segment_table=settings.segment_table,
    )


@cache
def _publisher() -> EventPublisher:
    return EventPublisher(get_settings().event_bus_name, clients.events)


def _handle(parsed: ParsedEvent[BaseModel]) -> None:
    event = parsed.detail
    assert isinstance(event, PinpointResourceResolved)  # noqa: S101 - guaranteed by `accepts`
    outcome = apply_resolution(event, _store(), _publisher().publish)
    logger.info(
        "resolution applied",
        extra={
            "outcome": outcome.value,
            "resource_type": event.data.resource_type.value,
            "resource_id": event.data.resource_id,
        },
    )
    metrics.add_metric(name=f"Catalog{outcome.value.title()}", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return handle_event_batch(event, context, _handle, accepts=[PinpointResourceResolved])
