"""catalog-backfill: a CloudFormation custom resource that requests a catalog backfill."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from services.catalog_backfill.adapters import send_response
from services.catalog_backfill.logic import handle_request
from services.catalog_backfill.settings import get_settings
from services.common.clients import clients
from services.common.observability import logger, tracer
from services.common.publisher import EventPublisher


@cache
def _publisher() -> EventPublisher:
    return EventPublisher(get_settings().event_bus_name, clients.events)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    answer = handle_request(event, _publisher().publish)
    body = answer.body(event)
    logger.info(
        "custom resource answered",
        extra={"request_type": event.get("RequestType"), "status": answer.status},
    )
    send_response(event["ResponseURL"], body)
    return body
