"""One realistic example of every event: documentation, committed fixtures and tests use them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from contracts._base import Event, EventMetadata, ResourceType, derived_event_id
from contracts.aws import (
    AthenaQueryStateChange,
    AwsEvent,
    CloudTrailApiCall,
    S3ObjectCreated,
    ScheduledEvent,
)
from contracts.catalog import (
    BackfillRequest,
    CatalogBackfillRequested,
    CatalogChange,
    CatalogEntry,
    CatalogEntryChange,
    CatalogEntryChanged,
    ChangeAction,
    ChangeOrigin,
    KnownAttributes,
    PinpointResourceChanged,
    PinpointResourceResolved,
    ResolvedResource,
    ResourceChange,
)
from contracts.segmentation import (
    CompletedImport,
    EndpointImportCompleted,
    EndpointImportFailed,
    EndpointImportStarted,
    FailedImport,
    FailedQuery,
    ImportCheck,
    ImportCheckDue,
    ImportCounts,
    ImportOutcome,
    QueryFailureState,
    RejectedRun,
    Rejection,
    RowRejection,
    RunRequest,
    SegmentQueryFailed,
    SegmentQueryRejected,
    SegmentQueryRequested,
    SegmentQueryStarted,
    SegmentQuerySucceeded,
    SegmentQueryValidated,
    StartedImport,
    StartedQuery,
    SucceededQuery,
    ValidatedRun,
)

APP_ID = "8b2f6a1c9d3e4f5a6b7c8d9e0f1a2b3c"
CAMPAIGN_ID = "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
SEGMENT_ID = "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
IMPORT_JOB_ID = "7a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d"
RUN_ID = "clicked-last-30-days-2026-11-22"
QUERY_EXECUTION_ID = "b6a0e2d4-5c1f-4e57-9a3b-2f8c7d6e5a41"
ACCOUNT = "123456789012"
CHANGED_AT = datetime(2026, 11, 22, 9, 14, 7, tzinfo=UTC)
QUERY = (
    "SELECT DISTINCT endpoint_id AS Id, 'Yes' AS \"User.UserAttributes.HasClicked\"\n"
    "FROM email_click\nWHERE event_timestamp > date_add('day', -30, now())"
)
REQUEST = RunRequest(query=QUERY, run_id=RUN_ID, segment_name="Clicked in the last 30 days")
RESULT_PREFIX = "s3://pinpoint-lake-results/athena/" + RUN_ID


def _metadata(event: type[Event], step: int, correlation_id: str = RUN_ID) -> EventMetadata:
    return EventMetadata(
        event_id=derived_event_id("example", event.DETAIL_TYPE),
        version=event.VERSION,
        occurred_at=CHANGED_AT,
        producer=event.producer_name(),
        correlation_id=correlation_id,
        causation_id=f"00000000-0000-4000-8000-{step - 1:012d}" if step > 1 else None,
    )


def _catalog_entry(name: str, event_time: datetime) -> CatalogEntry:
    return CatalogEntry(
        id=CAMPAIGN_ID,
        type=ResourceType.CAMPAIGN,
        application_id=APP_ID,
        name=name,
        deleted=False,
        segment_id=SEGMENT_ID,
        event_name="_email.click",
        state="SCHEDULED",
        version=2,
        creation_date=datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
        last_modified_date=event_time,
        event_time=event_time,
    )


def project_examples() -> list[Event]:
    catalog_change = "cloudtrail:3f1e2d4c-8b7a-4c6d-9e5f-0a1b2c3d4e5f"
    counts = ImportCounts(
        rows_read=10_250,
        rows_rejected=2,
        rows_to_import=10_248,
        rows_in_result=10_250,
        rows_sent=10_248,
        rows_unchanged=0,
        rows_cleared=0,
    )
    rejection = RowRejection(
        row_number=318, code="VALUE_TOO_LONG", column="Attributes.Plan", message="over 100 chars"
    )
    return [
        PinpointResourceChanged(
            metadata=_metadata(PinpointResourceChanged, 1, catalog_change),
            data=ResourceChange(
                resource_type=ResourceType.CAMPAIGN,
                application_id=APP_ID,
                resource_id=CAMPAIGN_ID,
                action=ChangeAction.UPDATED,
                event_time=CHANGED_AT,
                source_event_id="3f1e2d4c-8b7a-4c6d-9e5f-0a1b2c3d4e5f",
                operation="UpdateCampaign",
                origin=ChangeOrigin.CLOUDTRAIL_FILE,
                records_coalesced=2,
                known=KnownAttributes(segment_id=SEGMENT_ID, state="SCHEDULED", version=2),
            ),
        ),
        PinpointResourceResolved(
            metadata=_metadata(PinpointResourceResolved, 2, catalog_change),
            data=ResolvedResource(
                resource_type=ResourceType.CAMPAIGN,
                application_id=APP_ID,
                resource_id=CAMPAIGN_ID,
                event_time=CHANGED_AT,
                source_event_id="3f1e2d4c-8b7a-4c6d-9e5f-0a1b2c3d4e5f",
                origin=ChangeOrigin.CLOUDTRAIL_FILE,
                deleted=False,
                name="Winback - November",
                segment_id=SEGMENT_ID,
                event_name="_email.click",
                state="SCHEDULED",
                version=2,
            ),
        ),
        CatalogEntryChanged(
            metadata=_metadata(CatalogEntryChanged, 3, catalog_change),
            data=CatalogEntryChange(
                change=CatalogChange.RENAMED,
                before=_catalog_entry("Winback", datetime(2026, 11, 20, 16, 2, tzinfo=UTC)),
                after=_catalog_entry("Winback - November", CHANGED_AT),
            ),
        ),
        CatalogBackfillRequested(
            metadata=_metadata(CatalogBackfillRequested, 1, "backfill-2026-11-22"),
            data=BackfillRequest(application_ids=[APP_ID], requested_by="deploy"),
        ),
        SegmentQueryRequested.from_user(QUERY, run_id=RUN_ID, segment_name=REQUEST.segment_name),
        SegmentQueryValidated(
            metadata=_metadata(SegmentQueryValidated, 2),
            data=ValidatedRun(
                run_id=RUN_ID,
                request=REQUEST,
                application_id=APP_ID,
                columns=["Id", "User.UserAttributes.HasClicked"],
                tables=["email_click"],
            ),
        ),
        SegmentQueryRejected(
            metadata=_metadata(SegmentQueryRejected, 2),
            data=RejectedRun(
                run_id=RUN_ID,
                request=REQUEST,
                reasons=[
                    Rejection(code="MISSING_ID_COLUMN", message="the output has no 'Id' column"),
                    Rejection(code="SELECT_STAR", message="SELECT * cannot map to columns"),
                ],
            ),
        ),
        SegmentQueryStarted(
            metadata=_metadata(SegmentQueryStarted, 3),
            data=StartedQuery(
                run_id=RUN_ID,
                request=REQUEST,
                application_id=APP_ID,
                query_execution_id=QUERY_EXECUTION_ID,
                workgroup="pinpoint-lake",
                output_location=RESULT_PREFIX + "/",
            ),
        ),
        SegmentQuerySucceeded(
            metadata=_metadata(SegmentQuerySucceeded, 4),
            data=SucceededQuery(
                run_id=RUN_ID,
                request=REQUEST,
                application_id=APP_ID,
                query_execution_id=QUERY_EXECUTION_ID,
                result_location=f"{RESULT_PREFIX}/{QUERY_EXECUTION_ID}.csv",
                data_scanned_bytes=48_213_504,
                engine_execution_time_ms=2_318,
            ),
        ),
        SegmentQueryFailed(
            metadata=_metadata(SegmentQueryFailed, 4),
            data=FailedQuery(
                run_id=RUN_ID,
                request=REQUEST,
                application_id=APP_ID,
                query_execution_id=QUERY_EXECUTION_ID,
                state=QueryFailureState.FAILED,
                reason="COLUMN_NOT_FOUND: line 1:8: Column 'endpoint' cannot be resolved",
                error_category=2,
                error_type=1006,
                retryable=False,
            ),
        ),
        EndpointImportStarted(
            metadata=_metadata(EndpointImportStarted, 5),
            data=StartedImport(
                run_id=RUN_ID,
                request=REQUEST,
                application_id=APP_ID,
                import_job_id=IMPORT_JOB_ID,
                import_file=f"{RESULT_PREFIX}/import/endpoints.csv",
                counts=counts,
                rejection_sample=[rejection],
            ),
        ),
        EndpointImportCompleted(
            metadata=_metadata(EndpointImportCompleted, 6),
            data=CompletedImport(
                run_id=RUN_ID,
                request=REQUEST,
                application_id=APP_ID,
                outcome=ImportOutcome.PARTIAL,
                import_job_id=IMPORT_JOB_ID,
                counts=counts,
                rejection_sample=[rejection],
                endpoints_imported=10_247,
                pinpoint_failures=1,
                pinpoint_failure_sample=["Endpoint 4f2a...: ChannelType is required"],
                segment_id=SEGMENT_ID,
            ),
        ),
        EndpointImportFailed(
            metadata=_metadata(EndpointImportFailed, 6),
            data=FailedImport(
                run_id=RUN_ID,
                request=REQUEST,
                application_id=APP_ID,
                import_job_id=IMPORT_JOB_ID,
                counts=counts,
                reason="the import job did not finish within 3600 seconds",
            ),
        ),
        ImportCheckDue(
            metadata=_metadata(ImportCheckDue, 6),
            data=ImportCheck(run_id=RUN_ID, check=3),
        ),
    ]


def aws_examples() -> list[tuple[type[AwsEvent], dict[str, Any]]]:
    """Details as AWS sends them (raw dicts: these views are read-only parsers)."""
    return [
        (
            S3ObjectCreated,
            {
                "version": "0",
                "bucket": {"name": "pinpoint-lake-trail-123456789012"},
                "object": {
                    "key": "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/22/"
                    "123456789012_CloudTrail_us-east-1_20261122T0915Z_a1B2c3D4e5F6g7H8.json.gz",
                    "size": 2048,
                    "etag": "d41d8cd98f00b204e9800998ecf8427e",
                    "sequencer": "0062E99A88DC407460",
                },
                "request-id": "N4N7GDK58NMKJ12R",
                "requester": "cloudtrail.amazonaws.com",
                "reason": "PutObject",
            },
        ),
        (
            CloudTrailApiCall,
            {
                "eventVersion": "1.08",
                "eventTime": "2026-11-22T09:14:07Z",
                "eventSource": "pinpoint.amazonaws.com",
                "eventName": "UpdateCampaign",
                "awsRegion": "us-east-1",
                "eventID": "3f1e2d4c-8b7a-4c6d-9e5f-0a1b2c3d4e5f",
                "eventType": "AwsApiCall",
                "readOnly": False,
                "recipientAccountId": ACCOUNT,
                "requestParameters": {
                    "application-id": APP_ID,
                    "campaign-id": CAMPAIGN_ID,
                    "Name": "***",
                },
                "responseElements": {
                    "ApplicationId": APP_ID,
                    "Id": CAMPAIGN_ID,
                    "Name": "***",
                    "SegmentId": SEGMENT_ID,
                    "State": {"CampaignStatus": "SCHEDULED"},
                    "Version": 2,
                },
            },
        ),
        (
            AthenaQueryStateChange,
            {
                "versionId": "0",
                "currentState": "SUCCEEDED",
                "previousState": "RUNNING",
                "statementType": "DML",
                "queryExecutionId": QUERY_EXECUTION_ID,
                "workgroupName": "pinpoint-lake",
                "sequenceNumber": "3",
            },
        ),
        (ScheduledEvent, {}),
    ]


def eventbridge_event(detail_type: str, source: str, detail: dict[str, Any]) -> dict[str, Any]:
    """A whole EventBridge event as a rule target receives it."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": "2026-11-22T09:14:09Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def example_event(model: type[BaseModel]) -> dict[str, Any]:
    """The example of `model` as a whole EventBridge event."""
    for event in project_examples():
        if type(event) is model:
            detail = json.loads(event.detail_json())
            return eventbridge_event(event.DETAIL_TYPE, event.SOURCE, detail)
    for aws_model, detail in aws_examples():
        if aws_model is model:
            return eventbridge_event(aws_model.DETAIL_TYPE, aws_model.SOURCE, detail)
    raise KeyError(f"no example for {model.__name__}")
