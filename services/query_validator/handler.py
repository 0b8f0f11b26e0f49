"""query-validator: answers every SegmentQueryRequested with Validated or Rejected.

A request that does not fit its contract (no query, a query too long, a bad run id) is
rejected like a bad query, so the requester hears why instead of the message ending in the
DLQ. Only messages that are not such a request at all go there.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from contracts import (
    EventContractError,
    ParsedEvent,
    SegmentQueryRejected,
    SegmentQueryRequested,
    utc_now,
)
from services.common.batch import PartialItemFailureResponse, handle_event_batch
from services.common.clients import clients
from services.common.observability import logger, metrics, tracer
from services.common.publisher import EventPublisher
from services.query_validator.logic import Deployment, Outcome, answer, answer_unreadable
from services.query_validator.settings import get_settings


@cache
def _publisher() -> EventPublisher:
    return EventPublisher(get_settings().event_bus_name, clients.events)


@cache
def _deployment() -> Deployment:
    return get_settings().deployment()


def _publish(outcome: Outcome) -> None:
    _publisher().publish([outcome])
    run_id = outcome.data.run_id
    if isinstance(outcome, SegmentQueryRejected):
        codes = [reason.code for reason in outcome.data.reasons]
        logger.info("query rejected", extra={"run_id": run_id, "codes": codes})
        metrics.add_metric(name="QueriesRejected", unit=MetricUnit.Count, value=1)
    else:
        logger.info(
            "query validated",
            extra={
                "run_id": run_id,
                "application_id": outcome.data.application_id,
                "columns": outcome.data.columns,
                "tables": outcome.data.tables,
            },
        )
        metrics.add_metric(name="QueriesValidated", unit=MetricUnit.Count, value=1)


def _handle(parsed: ParsedEvent[BaseModel]) -> None:
    request = parsed.detail
    assert isinstance(request, SegmentQueryRequested)  # noqa: S101 - `accepts` ensures it
    _publish(answer(request, parsed.envelope, _deployment(), utc_now()))


def _handle_unreadable(raw: dict[str, Any] | None, error: EventContractError) -> None:
    rejected = answer_unreadable(raw, error, utc_now())
    if rejected is None:
        raise error  # not a request anyone could follow: let it reach the DLQ
    _publish(rejected)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return handle_event_batch(
        event,
        context,
        _handle,
        accepts=[SegmentQueryRequested],
        on_invalid=_handle_unreadable,
    )
