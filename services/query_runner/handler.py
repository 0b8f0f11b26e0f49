"""query-runner: starts validated queries on Athena and ends runs from Athena's own events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from contracts import (
    AthenaQueryStateChange,
    ParsedEvent,
    ScheduledEvent,
    SegmentQueryValidated,
)
from services.common.batch import PartialItemFailureResponse, handle_event_batch
from services.common.clients import clients
from services.common.observability import logger, metrics, tracer
from services.common.publisher import EventPublisher
from services.query_runner.adapters import AthenaApi, DynamoRunLedger
from services.query_runner.logic import Ports, QueryPlacement, finish_run, start_run, stop_overdue
from services.query_runner.settings import get_settings


@cache
def _ports() -> Ports:
    settings = get_settings()
    publisher = EventPublisher(settings.event_bus_name, clients.events)
    ledger = DynamoRunLedger(clients.dynamodb, settings.runs_table)
    # A run's events stay in the trace the run started in, whoever ends it.
    publish = ledger.traces.publishing_in_run_trace(publisher.publish)
    return Ports(athena=AthenaApi(clients.athena), ledger=ledger, publish=publish)


@cache
def _placement() -> QueryPlacement:
    settings = get_settings()
    return QueryPlacement(
        workgroup=settings.workgroup,
        catalog=settings.catalog,
        database=settings.database,
        results_bucket=settings.results_bucket,
        timeout=timedelta(seconds=settings.query_timeout_seconds),
    )


def _handle(parsed: ParsedEvent[BaseModel]) -> None:
    detail = parsed.detail
    if isinstance(detail, SegmentQueryValidated):
        execution = start_run(detail, _ports(), _placement(), datetime.now(UTC))
        logger.info("query started", extra={"run_id": detail.data.run_id, "execution": execution})
    elif isinstance(detail, AthenaQueryStateChange):
        status = finish_run(detail, _ports())
        if status is not None:
            logger.info("run ended", extra={"status": status.value})
    elif isinstance(detail, ScheduledEvent):
        # Schedules may be late or early: the envelope's time is when the rule fired.
        now = parsed.envelope.time or datetime.now(UTC)
        stopped = stop_overdue(now, _ports(), _placement())
        if stopped:
            logger.warning("stopped overdue queries", extra={"run_ids": stopped})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return handle_event_batch(
        event,
        context,
        _handle,
        accepts=[SegmentQueryValidated, AthenaQueryStateChange, ScheduledEvent],
    )
