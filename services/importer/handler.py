"""importer: turns a run's result file into a Pinpoint import job and follows it to its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from contracts import ParsedEvent, ScheduledEvent, SegmentQuerySucceeded
from services.common.batch import PartialItemFailureResponse, handle_event_batch
from services.common.clients import clients
from services.common.observability import logger, metrics, tracer
from services.common.publisher import EventPublisher
from services.importer.adapters import DynamoImportLedger, PinpointImportJobs, S3ResultFiles
from services.importer.logic import ImportPlacement, Ports, import_result, poll_imports
from services.importer.settings import get_settings


@cache
def _ports() -> Ports:
    settings = get_settings()
    publisher = EventPublisher(settings.event_bus_name, clients.events)
    ledger = DynamoImportLedger(clients.dynamodb, settings.runs_table)
    return Ports(
        files=S3ResultFiles(clients.s3),
        pinpoint=PinpointImportJobs(clients.pinpoint),
        ledger=ledger,
        # A run's ending is published in the trace the import started in, not the poll's.
        publish=ledger.traces.publishing_in_run_trace(publisher.publish),
    )


@cache
def _placement() -> ImportPlacement:
    settings = get_settings()
    return ImportPlacement(
        results_bucket=settings.results_bucket,
        role_arn=settings.import_role_arn,
        timeout=timedelta(seconds=settings.import_timeout_seconds),
        max_jobs_per_poll=settings.max_jobs_per_poll,
    )


def _handle(parsed: ParsedEvent[BaseModel]) -> None:
    detail = parsed.detail
    if isinstance(detail, SegmentQuerySucceeded):
        step = import_result(detail, _ports(), _placement(), datetime.now(UTC))
        # Counts and codes only: rows and their values never reach the log.
        logger.info("import step", extra={"run_id": detail.data.run_id, "step": step.value})
    elif isinstance(detail, ScheduledEvent):
        # Schedules may be late or early: the envelope's time is when the rule fired.
        now = parsed.envelope.time or datetime.now(UTC)
        report = poll_imports(now, _ports(), _placement())
        if report.ended:
            logger.info(
                "imports ended",
                extra={"ended": {run: result.value for run, result in report.ended.items()}},
            )
            metrics.add_metric(name="ImportsEnded", unit=MetricUnit.Count, value=len(report.ended))
        if report.unreadable:
            logger.warning("import jobs not readable this time", extra={"runs": report.unreadable})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return handle_event_batch(
        event, context, _handle, accepts=[SegmentQuerySucceeded, ScheduledEvent]
    )
