"""Events of the segmentation pipeline: a query request in, endpoint attributes out."""

from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self

from pydantic import AliasChoices, Field, StringConstraints, field_validator, model_validator

from contracts._base import (
    DomainName,
    Event,
    FrozenModel,
    PinpointId,
    Request,
    RunId,
    UtcDatetime,
)

# Queries travel inside every run event; this bound keeps each event below EventBridge's
# 256 KB entry limit even when every character is JSON-escaped to six bytes.
MAX_QUERY_LENGTH = 32_768

Query = Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUERY_LENGTH)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=256)]
SegmentName = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,63}$")]
S3Uri = Annotated[str, StringConstraints(pattern=r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$")]
Count = Annotated[int, Field(ge=0)]
SyncKey = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z._-]{1,64}$")]
# An EventBridge Scheduler schedule's ARN: ...:scheduler:<region>:<account>:schedule/<group>/<name>
ScheduleArn = Annotated[
    str,
    StringConstraints(
        pattern=r"^arn:aws[a-z-]*:scheduler:[a-z0-9-]+:\d{12}:schedule/[0-9A-Za-z._-]{1,64}/[0-9A-Za-z._-]{1,64}$"
    ),
]


class EngagementTarget(StrEnum):
    """The engagement tool a run imports into."""

    PINPOINT = "pinpoint"  # a Pinpoint project (application_id): an import job
    CONNECT = "connect"  # the stack's Customer Profiles domain (domain_name): an upload job


class _TargetedRun(FrozenModel):
    """A run's events name where it imports: a Pinpoint project or a Connect domain.

    `target` is absent from events written before Connect existed; they are Pinpoint runs.
    A Pinpoint run carries its `application_id`, a Connect run its `domain_name` and no
    application id.
    """

    @model_validator(mode="after")
    def _target_is_named(self) -> Self:
        target = getattr(self, "target", EngagementTarget.PINPOINT)
        application_id = getattr(self, "application_id", None)
        domain_name = getattr(self, "domain_name", None)
        if target is EngagementTarget.PINPOINT and application_id is None:
            raise ValueError("a pinpoint run names its application_id")
        if target is EngagementTarget.CONNECT:
            if domain_name is None:
                raise ValueError("a connect run names its domain_name")
            if application_id is not None:
                raise ValueError("a connect run has no application_id (it is a Pinpoint id)")
        return self

    def where(self) -> dict[str, Any]:
        """The target fields, to carry them into the run's next event."""
        return {
            "target": getattr(self, "target", EngagementTarget.PINPOINT),
            "application_id": getattr(self, "application_id", None),
            "domain_name": getattr(self, "domain_name", None),
        }


def _target_field() -> Any:
    return Field(
        default=EngagementTarget.PINPOINT,
        description="Where the run imports: pinpoint (application_id) or connect (domain_name).",
    )


def _domain_field() -> Any:
    return Field(default=None, description="The Customer Profiles domain of a connect run.")


def _application_field(description: str = "The target Pinpoint project.") -> Any:
    return Field(
        default=None, description=f"{description} Every pinpoint run has one; connect runs none."
    )


class RunRequest(FrozenModel):
    """What an analyst asked for; carried through the run so every step knows the whole ask."""

    query: Query = Field(
        validation_alias=AliasChoices("query", "Query"),
        description="One Athena (Trino) SELECT whose columns are Pinpoint import columns.",
    )
    run_id: RunId | None = Field(
        default=None,
        description="Chosen by the requester; if omitted, derived from the schedule and its "
        "scheduled time for a schedule's fire, else from the event id.",
    )
    application_id: PinpointId | None = Field(
        default=None, description="Target Pinpoint project; the deployment's default if omitted."
    )
    segment_name: SegmentName | None = Field(
        default=None, description="Define a new imported segment with this name."
    )
    segment_id: PinpointId | None = Field(
        default=None, description="Refresh this imported segment (a new version)."
    )
    dry_run: bool = Field(default=False, description="Validate, run and check; import nothing.")
    schedule_arn: ScheduleArn | None = Field(
        default=None,
        description="The schedule that fired this request (its Input says "
        "`<aws.scheduler.schedule-arn>`); with scheduled_time it names the run.",
    )
    scheduled_time: UtcDatetime | None = Field(
        default=None,
        description="When the schedule was due (`<aws.scheduler.scheduled-time>`): one run "
        "per schedule and scheduled time, however often the fire is delivered.",
    )
    requested_by: Label | None = None
    target: EngagementTarget | None = Field(
        default=None,
        description="Import into pinpoint or connect; the deployment's default if omitted.",
    )
    sync_key: SyncKey | None = Field(
        default=None,
        description="The saved segment this run syncs: rows are compared with its last successful sync.",  # noqa: E501
    )
    mirror: bool = Field(
        default=False,
        description="Clear the query's attributes for members who left the result since the last sync.",  # noqa: E501
    )

    @field_validator("query")
    @classmethod
    def _query_not_blank(cls, query: str) -> str:
        if not query.strip():
            raise ValueError("the query is blank")
        return query

    @model_validator(mode="after")
    def _a_fire_names_schedule_and_time(self) -> Self:
        if (self.schedule_arn is None) != (self.scheduled_time is None):
            raise ValueError("a scheduled request gives schedule_arn and scheduled_time together")
        return self

    @model_validator(mode="after")
    def _one_segment_target(self) -> Self:
        if self.segment_name is not None and self.segment_id is not None:
            raise ValueError(
                "give segment_name (define a segment) or segment_id (refresh), not both"
            )
        return self

    @model_validator(mode="after")
    def _mirror_needs_a_sync_key(self) -> Self:
        if self.mirror and self.sync_key is None:
            raise ValueError(
                "mirror needs a sync_key: leavers are the members of the key's last sync "
                "who are not in this result"
            )
        return self


class SegmentQueryRequested(Request):
    """Published by users; the only request among the past-tense facts."""

    SOURCE: ClassVar[str] = "pinpoint-lake.user"
    DETAIL_TYPE: ClassVar[str] = "SegmentQueryRequested"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = (
        "An analyst asks for a query to be run and its rows imported as endpoint attributes. "
        "Publishers may omit `metadata`; the validator fills it."
    )
    CONSUMERS: ClassVar[tuple[str, ...]] = ("query-validator",)

    data: RunRequest

    @classmethod
    def from_user(cls, query: str, **fields: Any) -> Self:
        """The request as a user publishes it: data only."""
        return cls(data=RunRequest(query=query, **fields))


class Rejection(FrozenModel):
    code: Code
    message: Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class ValidatedRun(_TargetedRun):
    run_id: RunId
    request: RunRequest
    application_id: PinpointId | None = _application_field("The resolved target project.")
    columns: list[Annotated[str, StringConstraints(min_length=1)]] = Field(min_length=1)
    tables: list[Annotated[str, StringConstraints(min_length=1)]] = Field(default_factory=list)
    target: EngagementTarget = _target_field()
    domain_name: DomainName | None = _domain_field()


class SegmentQueryValidated(Event):
    SOURCE: ClassVar[str] = "pinpoint-lake.query-validator"
    DETAIL_TYPE: ClassVar[str] = "SegmentQueryValidated"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = "The query is one read-only SELECT with importable columns."
    CONSUMERS: ClassVar[tuple[str, ...]] = ("query-runner",)

    data: ValidatedRun


class RejectedRun(FrozenModel):
    run_id: RunId
    request: RunRequest | None = Field(
        default=None, description="Absent when the request itself could not be read."
    )
    reasons: list[Rejection] = Field(min_length=1)


class SegmentQueryRejected(Event):
    SOURCE: ClassVar[str] = "pinpoint-lake.query-validator"
    DETAIL_TYPE: ClassVar[str] = "SegmentQueryRejected"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = "The request was refused; every reason is listed with a code."
    CONSUMERS: ClassVar[tuple[str, ...]] = ("notifier",)

    data: RejectedRun


class StartedQuery(_TargetedRun):
    run_id: RunId
    request: RunRequest
    application_id: PinpointId | None = _application_field()
    query_execution_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    workgroup: Label
    output_location: S3Uri
    target: EngagementTarget = _target_field()
    domain_name: DomainName | None = _domain_field()


class SegmentQueryStarted(Event):
    SOURCE: ClassVar[str] = "pinpoint-lake.query-runner"
    DETAIL_TYPE: ClassVar[str] = "SegmentQueryStarted"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = "Athena accepted the query."
    CONSUMERS: ClassVar[tuple[str, ...]] = ()

    data: StartedQuery


class SucceededQuery(_TargetedRun):
    run_id: RunId
    request: RunRequest
    application_id: PinpointId | None = _application_field()
    query_execution_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    result_location: S3Uri = Field(description="The result CSV itself, never its prefix.")
    data_scanned_bytes: Count = 0
    engine_execution_time_ms: Count = 0
    target: EngagementTarget = _target_field()
    domain_name: DomainName | None = _domain_field()


class SegmentQuerySucceeded(Event):
    SOURCE: ClassVar[str] = "pinpoint-lake.query-runner"
    DETAIL_TYPE: ClassVar[str] = "SegmentQuerySucceeded"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = "Athena finished; the result file is ready to import."
    CONSUMERS: ClassVar[tuple[str, ...]] = ("importer",)

    data: SucceededQuery


class QueryFailureState(StrEnum):
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"


class FailedQuery(_TargetedRun):
    run_id: RunId
    request: RunRequest
    application_id: PinpointId | None = _application_field()
    query_execution_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None
    state: QueryFailureState
    reason: Annotated[str, StringConstraints(min_length=1, max_length=4096)] = Field(
        description="Athena's reason; for an error in the data, only Athena's error name "
        "and the execution to read it in (Athena's message quotes the value)."
    )
    error_category: int | None = None
    error_type: int | None = None
    retryable: bool | None = None
    target: EngagementTarget = _target_field()
    domain_name: DomainName | None = _domain_field()


class SegmentQueryFailed(Event):
    SOURCE: ClassVar[str] = "pinpoint-lake.query-runner"
    DETAIL_TYPE: ClassVar[str] = "SegmentQueryFailed"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = "Athena failed, was cancelled, or the query ran past its limit."
    CONSUMERS: ClassVar[tuple[str, ...]] = ("notifier",)

    data: FailedQuery


class RowRejection(FrozenModel):
    """Why a result row was not imported. Never carries the row's values (customer data)."""

    row_number: int = Field(ge=1, description="1-based data row number in the result file.")
    code: Code
    column: Label | None = None
    message: Annotated[str, StringConstraints(min_length=1, max_length=512)]


class ImportOutcome(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    NOTHING_TO_IMPORT = "nothing_to_import"
    DRY_RUN = "dry_run"


class ImportCounts(FrozenModel):
    """How many rows a run read, refused and handed on. The `rows_*` of a sync (absent from
    events written before syncs existed) split the result: every row is sent, unchanged
    since the key's last sync or rejected; `rows_cleared` counts the leavers a mirror run
    cleared (they are not rows of the result)."""

    rows_read: Count = 0
    rows_rejected: Count = 0
    rows_to_import: Count = 0
    rows_in_result: Count | None = Field(default=None, description="Data rows in the result.")
    rows_sent: Count | None = Field(
        default=None, description="Rows handed to the import: new or changed members."
    )
    rows_unchanged: Count | None = Field(
        default=None, description="Rows equal to the sync key's last successful sync (not sent)."
    )
    rows_cleared: Count | None = Field(
        default=None, description="Members who left the result whose attributes a mirror cleared."
    )


class StartedImport(_TargetedRun):
    run_id: RunId
    request: RunRequest
    application_id: PinpointId | None = _application_field()
    import_job_id: PinpointId = Field(
        description="The Pinpoint import job, or the Connect upload job (also 32 hex digits)."
    )
    import_file: S3Uri
    counts: ImportCounts
    rejection_sample: list[RowRejection] = Field(default_factory=list, max_length=20)
    target: EngagementTarget = _target_field()
    domain_name: DomainName | None = _domain_field()


class EndpointImportStarted(Event):
    SOURCE: ClassVar[str] = "pinpoint-lake.importer"
    DETAIL_TYPE: ClassVar[str] = "EndpointImportStarted"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = "The checked rows were handed to a Pinpoint import job."
    CONSUMERS: ClassVar[tuple[str, ...]] = ()

    data: StartedImport


class _UploadCounts(FrozenModel):
    """What a Connect upload job reports of its rows (absent on Pinpoint runs)."""

    profiles_created: Count | None = Field(
        default=None, description="Connect: profiles the upload job created."
    )
    profiles_updated: Count | None = Field(
        default=None, description="Connect: profiles the upload job updated."
    )
    profiles_failed: Count | None = Field(
        default=None, description="Connect: rows the upload job could not apply."
    )


class CompletedImport(_TargetedRun, _UploadCounts):
    run_id: RunId
    request: RunRequest
    application_id: PinpointId | None = _application_field()
    outcome: ImportOutcome
    import_job_id: PinpointId | None = Field(
        default=None, description="Absent for dry runs and runs with nothing to import."
    )
    counts: ImportCounts
    rejection_sample: list[RowRejection] = Field(default_factory=list, max_length=20)
    endpoints_imported: Count = 0
    pinpoint_failures: Count = 0
    pinpoint_failure_sample: list[Annotated[str, StringConstraints(max_length=1024)]] = Field(
        default_factory=list, max_length=20
    )
    segment_id: PinpointId | None = Field(
        default=None, description="The imported segment defined or refreshed, if any."
    )
    target: EngagementTarget = _target_field()
    domain_name: DomainName | None = _domain_field()
    segment_definition_name: (
        Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9_-]{1,64}$")] | None
    ) = Field(
        default=None, description="Connect: the segment definition created over the run's rows."
    )


class EndpointImportCompleted(Event):
    SOURCE: ClassVar[str] = "pinpoint-lake.importer"
    DETAIL_TYPE: ClassVar[str] = "EndpointImportCompleted"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = (
        "The run ended with endpoints imported (complete or partial), nothing to import, "
        "or a dry-run report."
    )
    CONSUMERS: ClassVar[tuple[str, ...]] = ("notifier",)

    data: CompletedImport


class FailedImport(_TargetedRun, _UploadCounts):
    run_id: RunId
    request: RunRequest
    application_id: PinpointId | None = _application_field()
    import_job_id: PinpointId | None = None
    counts: ImportCounts = Field(default_factory=ImportCounts)
    reason: Annotated[str, StringConstraints(min_length=1, max_length=4096)]
    pinpoint_failure_sample: list[Annotated[str, StringConstraints(max_length=1024)]] = Field(
        default_factory=list, max_length=20
    )
    target: EngagementTarget = _target_field()
    domain_name: DomainName | None = _domain_field()


class EndpointImportFailed(Event):
    SOURCE: ClassVar[str] = "pinpoint-lake.importer"
    DETAIL_TYPE: ClassVar[str] = "EndpointImportFailed"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = "The result could not be imported; the reason says why."
    CONSUMERS: ClassVar[tuple[str, ...]] = ("notifier",)

    data: FailedImport


MAX_IMPORT_CHECKS = 64


class ImportCheck(FrozenModel):
    run_id: RunId
    check: int = Field(
        ge=1,
        le=MAX_IMPORT_CHECKS,
        description="Which reading of the run's job this is (1: the first after its start).",
    )


class ImportCheckDue(Event):
    """Sent by the importer to its own queue with a delay (SQS DelaySeconds), never to the
    bus: the importer reads the run's job when it arrives, sooner than its minute poll."""

    SOURCE: ClassVar[str] = "pinpoint-lake.importer"
    DETAIL_TYPE: ClassVar[str] = "ImportCheckDue"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = (
        "Time to read a running import job again; the importer's delayed note to itself, "
        "sent to its own queue, not to the bus."
    )
    CONSUMERS: ClassVar[tuple[str, ...]] = ("importer",)

    data: ImportCheck
