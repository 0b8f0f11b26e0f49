"""log-ingester: CloudTrail log files, API-call events and backfills -> PinpointResourceChanged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from contracts import (
    CatalogBackfillRequested,
    CloudTrailApiCall,
    EventContractError,
    ParsedEvent,
    S3ObjectCreated,
)
from services.common.function import LambdaFunction, Routes, route
from services.common.observability import logger, metrics
from services.log_ingester.bootstrap import LogIngester, bootstrap
from services.log_ingester.logic import (
    BackfillReport,
    FileStatus,
    IngestReport,
    ingest_api_call,
    ingest_log_file,
    report_unreadable_api_call,
    run_backfill,
)


def on_log_file(ingester: LogIngester, parsed: ParsedEvent[S3ObjectCreated]) -> None:
    _ingest_file(ingester, parsed.detail, parsed.envelope.id)


def on_api_call(ingester: LogIngester, parsed: ParsedEvent[CloudTrailApiCall]) -> None:
    detail = parsed.detail
    outcome = ingest_api_call(detail, ingester.monitored, causation_id=parsed.envelope.id)
    ingester.publish(outcome.events)
    # A lone surrogate (a JSON escape) would make the logging module drop the line.
    event_id = detail.event_id.encode("utf-8", "backslashreplace").decode("utf-8")
    _report_records(outcome.report, {"cloudtrail_event_id": event_id})


def on_backfill(ingester: LogIngester, parsed: ParsedEvent[CatalogBackfillRequested]) -> None:
    request = parsed.detail
    backfill = run_backfill(
        request, ingester.lister, ingester.monitored, ingester.backfill_page_size
    )
    ingester.publish(backfill.events)
    _report_backfill(request, backfill.report, len(backfill.events))


def on_unreadable(ingester: LogIngester, error: EventContractError) -> None:
    """An API-call event whose CloudTrail record is bad is counted and acked, as a bad record
    of a file is: no retry can mend AWS's data. Anything else that breaks its contract (an
    envelope, an S3 notification, a backfill request) fails, and ends in the DLQ."""
    detail = _api_call_detail(error)
    report = None if detail is None else report_unreadable_api_call(detail, ingester.monitored)
    if report is None:
        raise error
    event_id = report.samples[0].event_id if report.samples else None
    _report_records(report, {"cloudtrail_event_id": event_id})


def _api_call_detail(error: EventContractError) -> Mapping[str, Any] | None:
    """The detail of an "AWS API Call via CloudTrail" event whose envelope read, else None."""
    if error.detail_type != CloudTrailApiCall.DETAIL_TYPE:
        return None
    if any(problem.part == "envelope" for problem in error.problems):
        return None
    return error.detail


def _ingest_file(ingester: LogIngester, detail: S3ObjectCreated, cause: str) -> None:
    where = {"bucket": detail.bucket.name, "key": detail.decoded_key}
    outcome = ingest_log_file(
        ingester.log_files,
        detail.bucket.name,
        detail.decoded_key,
        ingester.monitored,
        causation_id=cause,
    )
    if outcome.status is FileStatus.NOT_A_LOG_FILE:
        metrics.add_metric(name="FilesSkipped", unit=MetricUnit.Count, value=1)
        logger.debug("not a CloudTrail log file", extra=where)
        return
    if outcome.status is FileStatus.MISSING:
        metrics.add_metric(name="LogFilesMissing", unit=MetricUnit.Count, value=1)
        logger.warning("CloudTrail log file no longer exists; acknowledged", extra=where)
        return
    ingester.publish(outcome.events)
    metrics.add_metric(name="LogFilesRead", unit=MetricUnit.Count, value=1)
    if outcome.status is FileStatus.CORRUPT:
        # Reading it again cannot help: report, keep what was read, and ack (no retry loop).
        metrics.add_metric(name="CorruptLogFiles", unit=MetricUnit.Count, value=1)
        logger.error(
            "CloudTrail log file is unreadable; acknowledged after the records before the damage",
            extra={**where, "problem": outcome.report.corrupt},
        )
    _report_records(outcome.report, where)


def _report_records(report: IngestReport, where: Mapping[str, Any]) -> None:
    metrics.add_metric(name="RecordsRead", unit=MetricUnit.Count, value=report.records)
    metrics.add_metric(name="ResourceChangesPublished", unit=MetricUnit.Count, value=report.changes)
    if report.coalesced:
        metrics.add_metric(name="RecordsCoalesced", unit=MetricUnit.Count, value=report.coalesced)
    _count_by_reason("RecordsSkipped", report.skipped)
    _count_by_reason("RecordsRejected", report.rejected)
    for rejection in report.samples:  # reasons, positions, names and ids: never record content
        logger.warning(
            "CloudTrail record rejected",
            extra={
                **where,
                "reason": rejection.reason.value,
                "record_index": rejection.index,
                "event_name": rejection.event_name,
                "cloudtrail_event_id": rejection.event_id,
                "fields": list(rejection.fields),
            },
        )
    logger.info(
        "CloudTrail records ingested",
        extra={
            **where,
            "records": report.records,
            "changes": report.changes,
            "coalesced": report.coalesced,
            "skipped": dict(report.skipped),
            "rejected": dict(report.rejected),
        },
    )


def _report_backfill(
    request: CatalogBackfillRequested, report: BackfillReport, published: int
) -> None:
    context = {"correlation_id": request.metadata.correlation_id}
    if request.data.page is not None:
        context |= {
            "application_id": request.data.page.application_id,
            "resource_type": request.data.page.resource_type.value,
        }
    metrics.add_metric(name="BackfillPagesRead", unit=MetricUnit.Count, value=report.pages_read)
    metrics.add_metric(
        name="BackfillContinuations", unit=MetricUnit.Count, value=report.continuations
    )
    metrics.add_metric(
        name="ResourceChangesPublished",
        unit=MetricUnit.Count,
        value=published - report.continuations,
    )
    _count_by_reason("BackfillItemsRejected", report.rejected)
    if report.ignored_projects:
        logger.warning(
            "backfill asked for projects that are not monitored; ignored",
            extra={**context, "application_ids": report.ignored_projects},
        )
    if report.missing_project:
        logger.warning("backfill project does not exist in Pinpoint", extra=context)
    if report.repeated_token:
        logger.warning(
            "Pinpoint returned the page token it was given; paging stopped", extra=context
        )
    logger.info(
        "backfill step done",
        extra={
            **context,
            "items": report.items,
            "continuations": report.continuations,
            "rejected": dict(report.rejected),
        },
    )


def _count_by_reason(name: str, counts: Mapping[str, int]) -> None:
    """One metric per reason, with the reason as a dimension (besides the service)."""
    for reason, count in sorted(counts.items()):
        if not count:
            continue
        with single_metric(
            name=name, unit=MetricUnit.Count, value=count, namespace=metrics.namespace
        ) as metric:
            if metrics.service:
                metric.add_dimension(name="service", value=str(metrics.service))
            metric.add_dimension(name="reason", value=reason)
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)


ROUTES = Routes(
    route(S3ObjectCreated, on_log_file),
    route(CloudTrailApiCall, on_api_call),
    route(CatalogBackfillRequested, on_backfill),
    on_invalid=on_unreadable,
)
lambda_handler = LambdaFunction(bootstrap, ROUTES)
