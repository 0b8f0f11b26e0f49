"""log-ingester: CloudTrail log files, API-call events and backfills -> PinpointResourceChanged."""

from __future__ import annotations

from services.common.init_phase import init_phase

with init_phase():  # the handler's imports are its cold start
    from collections.abc import Mapping
    from typing import Any

    from contracts import (
        CatalogBackfillRequested,
        CloudTrailApiCall,
        EventContractError,
        ParsedEvent,
        S3ObjectCreated,
        utc_now,
    )
    from services.common.function import LambdaFunction, Routes, route
    from services.log_ingester.backfill import complete_request, run_backfill
    from services.log_ingester.bootstrap import LogIngester, bootstrap
    from services.log_ingester.logic import (
        FileStatus,
        ingest_api_call,
        ingest_log_file,
        report_unreadable_api_call,
    )
    from services.log_ingester.records import safe_text
    from services.log_ingester.reporting import report_backfill, report_file, report_records


def on_log_file(ingester: LogIngester, parsed: ParsedEvent[S3ObjectCreated]) -> None:
    detail = parsed.detail
    outcome = ingest_log_file(
        ingester.log_files,
        detail.bucket.name,
        detail.decoded_key,
        ingester.monitored,
        catalog=ingester.catalog,
        causation_id=parsed.envelope.id,
    )
    if outcome.status in (FileStatus.READ, FileStatus.CORRUPT):
        ingester.publish(outcome.events)
    report_file(outcome, {"bucket": detail.bucket.name, "key": detail.decoded_key})


def on_api_call(ingester: LogIngester, parsed: ParsedEvent[CloudTrailApiCall]) -> None:
    detail = parsed.detail
    outcome = ingest_api_call(
        detail, ingester.monitored, catalog=ingester.catalog, causation_id=parsed.envelope.id
    )
    ingester.publish(outcome.events)
    report_records(outcome.report, {"cloudtrail_event_id": safe_text(detail.event_id)})


def on_backfill(ingester: LogIngester, parsed: ParsedEvent[CatalogBackfillRequested]) -> None:
    request = complete_request(parsed.detail, parsed.envelope, utc_now())
    backfill = run_backfill(
        request,
        ingester.lister,
        ingester.monitored,
        ingester.backfill_page_size,
        catalog=ingester.catalog,
    )
    ingester.publish(backfill.events)
    report_backfill(request, backfill.report, len(backfill.events))


def on_unreadable(ingester: LogIngester, error: EventContractError) -> None:
    """An API-call event whose CloudTrail record is bad is counted and acked, as a bad record
    of a file is: no retry can mend AWS's data. Anything else that breaks its contract (an
    envelope, an S3 notification, a backfill request) fails, and ends in the DLQ."""
    detail = _api_call_detail(error)
    report = (
        None
        if detail is None
        else report_unreadable_api_call(detail, ingester.monitored, catalog=ingester.catalog)
    )
    if report is None:
        raise error
    event_id = report.samples[0].event_id if report.samples else None
    report_records(report, {"cloudtrail_event_id": event_id})


def _api_call_detail(error: EventContractError) -> Mapping[str, Any] | None:
    """The detail of an "AWS API Call via CloudTrail" event whose envelope read, else None."""
    if error.detail_type != CloudTrailApiCall.DETAIL_TYPE:
        return None
    if any(problem.part == "envelope" for problem in error.problems):
        return None
    return error.detail


ROUTES = Routes(
    route(S3ObjectCreated, on_log_file),
    route(CloudTrailApiCall, on_api_call),
    route(CatalogBackfillRequested, on_backfill),
    on_invalid=on_unreadable,
)
lambda_handler = LambdaFunction(bootstrap, ROUTES)
