"""What the log-ingester tells operators: metrics and log lines, never record content.

Kept apart from the handler so the handler stays routes and one call each, and apart from
the logic, which counts but never logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from contracts import CatalogBackfillRequested
from services.common.observability import logger, metrics
from services.common.targets.catalog import scope_key
from services.log_ingester.backfill import BackfillReport
from services.log_ingester.logic import FileStatus, Ingested, IngestReport


def report_file(outcome: Ingested, where: Mapping[str, Any]) -> None:
    """A log file read (or not a log file, or gone): its metrics and log lines."""
    if outcome.status is FileStatus.NOT_A_LOG_FILE:
        metrics.add_metric(name="FilesSkipped", unit=MetricUnit.Count, value=1)
        logger.debug("not a CloudTrail log file", extra=where)
        return
    if outcome.status is FileStatus.MISSING:
        metrics.add_metric(name="LogFilesMissing", unit=MetricUnit.Count, value=1)
        logger.warning("CloudTrail log file no longer exists; acknowledged", extra=where)
        return
    metrics.add_metric(name="LogFilesRead", unit=MetricUnit.Count, value=1)
    if outcome.status is FileStatus.CORRUPT:
        # Reading it again cannot help: report, keep what was read, and ack (no retry loop).
        metrics.add_metric(name="CorruptLogFiles", unit=MetricUnit.Count, value=1)
        logger.error(
            "CloudTrail log file is unreadable; acknowledged after the records before the damage",
            extra={**where, "problem": outcome.report.corrupt},
        )
    report_records(outcome.report, where)


def report_records(report: IngestReport, where: Mapping[str, Any]) -> None:
    """Counts of one file or API-call event, and a line per sampled rejection."""
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


def report_backfill(
    request: CatalogBackfillRequested, report: BackfillReport, published: int
) -> None:
    """One backfill step: pages, continuations, changes, and what was odd about it."""
    context = {"correlation_id": request.known_metadata.correlation_id}
    if request.data.page is not None:
        context |= {
            "platform": request.data.page.platform.value,
            "scope": scope_key(request.data.page, request.data.page.resource_type),
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
