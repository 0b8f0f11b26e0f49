"""name-resolver: turns resource changes into named, resolved resources."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from contracts import ParsedEvent, PinpointResourceChanged
from services.common.batch import PartialItemFailureResponse, handle_event_batch
from services.common.clients import clients
from services.common.observability import logger, metrics, tracer
from services.common.publisher import EventPublisher
from services.name_resolver.adapters import PinpointApiResources
from services.name_resolver.logic import BatchMemo, resolve
from services.name_resolver.settings import get_settings


@cache
def _publisher() -> EventPublisher:
    return EventPublisher(get_settings().event_bus_name, clients.events)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    resources = BatchMemo(PinpointApiResources(clients.pinpoint))

    def handle(parsed: ParsedEvent[BaseModel]) -> None:
        change = parsed.detail
        assert isinstance(change, PinpointResourceChanged)  # noqa: S101 - `accepts` ensures it
        resolved = resolve(change, resources)
        if resolved is None:
            metrics.add_metric(name="DraftJourneysSkipped", unit=MetricUnit.Count, value=1)
            return
        _publisher().publish([resolved])
        metrics.add_metric(name="ResourcesResolved", unit=MetricUnit.Count, value=1)

    return handle_event_batch(event, context, handle, accepts=[PinpointResourceChanged])
