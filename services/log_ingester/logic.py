"""log-ingester decisions: Pinpoint writes seen by CloudTrail become PinpointResourceChanged.

Three inputs, one output:

1. **A CloudTrail log file** (S3 "Object Created"). Only keys with ``/CloudTrail/`` that end
   in ``.json.gz`` are log files; digests and anything else are skipped and counted. The
   file is streamed (see ``cloudtrail_reader``): memory holds one chunk and the resource
   changes found, never the file.
2. **An "AWS API Call via CloudTrail" event**: one record, seconds after the call.
3. **CatalogBackfillRequested**: the resources Pinpoint lists now, one page per invocation.

**Which records count.** eventSource ``pinpoint.amazonaws.com`` (other services have
operations with the same names), no ``errorCode``, an application listed in
MONITORED_PROJECT_IDS, and one of the operations in ``OPERATIONS`` or a CreateImportJob that
defines a segment (``DefineSegment``: the new segment's id is in responseElements) or adds a
version to one (``SegmentId``). Everything else is *skipped*, counted by reason
(``Skip``). Ids come from the hyphenated path parameters (``campaign-id``...) or, for
creates, from ``responseElements.Id``; what CloudTrail shows of the resource (names are
masked there) goes into ``KnownAttributes``, read from responseElements, or from
requestParameters when the response was dropped (CloudTrail drops either above 100 KB).

**Bad records** (missing or mistyped fields, a create without responseElements, ids that are
not Pinpoint ids, text that is not JSON, a record too large to be CloudTrail's) are
*rejected* one by one and counted by reason
(``Reject``); the rest of the file goes through. A ``Rejection`` holds only the reason, the
record's position, eventName, eventID and field names: safe to log, never customer data.

**Coalescing.** The records of one resource in one file become one change: the latest
wins, whatever its action (a delete included), and ``records_coalesced`` says how many
records it stands for. Latest means by eventTime; CloudTrail keeps whole seconds only, so
writes in the same second are ordered by what must have come first (create, then update,
then delete), then by the version the response shows, and only then by eventID (a random
GUID: the order of two same-second updates without versions is unknowable). Its
attributes are the latest record's; only when that record shows nothing of the resource (a
delete whose responseElements were dropped) do they come from the newest older record that
showed some, so a deleted resource keeps what CloudTrail last showed of it. Attributes of
different records are never mixed.

**Ids.** A change's event id is ``derived_event_id("cloudtrail", <eventID>)`` of the record
it reports; for a coalesced change, of its *latest* record. The same write arriving as an
API-call event and in a log file therefore gets the same event id, and consumers drop the
repeat; so does a redelivered message. Backfill events derive their ids from the request's
event id and the resource.

**Corrupt files.** A file that is not gzip, not JSON, or has no ``Records`` list will never
read better, so retrying it would only loop until the DLQ: it is reported (status CORRUPT,
with the reason) and acknowledged, after publishing the records read before the damage.
A file that no longer exists (MISSING) is acknowledged the same way. Errors of the source
itself (S3 throttling, a dropped connection) are not caught here: they fail the message and
SQS delivers it again.

**Backfill.** A request without ``page`` fans out: one continuation CatalogBackfillRequested
per (project, resource type). A request with ``page`` lists that one page (GetCampaigns,
ListJourneys or GetSegments with PageSize and Token), emits one change per resource and, if
Pinpoint returned a NextToken, one continuation for the next page, so every invocation does
one bounded call. Each resource becomes action ``updated`` (the backfill cannot know whether
the catalog has it; the catalog-writer decides created vs updated from its own table),
origin ``backfill``, operation = the list call, event_time = its LastModifiedDate (else
CreationDate) to the second, as CloudTrail's eventTime is, so neither source claims to be
newer than the other within one second, and a source_event_id derived from the resource and
that time, so a
backfill of an unchanged resource repeats the same (event_time, source_event_id) and changes
nothing downstream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import TypeAdapter, ValidationError

from contracts import (
    BackfillPage,
    CatalogBackfillRequested,
    ChangeAction,
    ChangeOrigin,
    CloudTrailRecord,
    Event,
    KnownAttributes,
    PinpointId,
    PinpointResourceChanged,
    ResourceChange,
    ResourceType,
    SegmentType,
    derived_event_id,
)
from services.log_ingester.cloudtrail_reader import (
    PINPOINT_EVENT_SOURCE,
    CloudTrailLogReader,
    CorruptLogFileError,
    Readable,
)

MAX_SAMPLES = 10  # rejections kept per file for the log; the counts cover them all
_PINPOINT_ID: TypeAdapter[str] = TypeAdapter(PinpointId)
_NOTHING_KNOWN = KnownAttributes()


class Skip(StrEnum):
    """Why a well-formed record is not a catalog change."""

    OTHER_SERVICE = "other_service"
    FAILED_CALL = "failed_call"
    UNHANDLED_OPERATION = "unhandled_operation"
    UNMONITORED_APPLICATION = "unmonitored_application"
    IMPORT_WITHOUT_SEGMENT = "import_without_segment"


class Reject(StrEnum):
    """Why a record (or a backfill item) is bad."""

    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    TOO_LARGE = "too_large"  # above the reader's max_record_bytes: skipped unread
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    MISSING_APPLICATION_ID = "missing_application_id"
    INVALID_APPLICATION_ID = "invalid_application_id"
    MISSING_RESPONSE = "missing_response"
    MISSING_RESOURCE_ID = "missing_resource_id"
    INVALID_RESOURCE_ID = "invalid_resource_id"
    MISSING_TIMESTAMP = "missing_timestamp"


@dataclass(frozen=True)
class Rejection:
    """What may be logged of a bad record: never its content."""

    reason: Reject
    index: int | None = None  # position in the file's Records
    event_name: str | None = None
    event_id: str | None = None
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Operation:
    resource_type: ResourceType
    action: ChangeAction
    id_parameter: str | None  # the path parameter naming the resource; None: a create


OPERATIONS: Mapping[str, Operation] = {
    "CreateCampaign": Operation(ResourceType.CAMPAIGN, ChangeAction.CREATED, None),
    "UpdateCampaign": Operation(ResourceType.CAMPAIGN, ChangeAction.UPDATED, "campaign-id"),
    "DeleteCampaign": Operation(ResourceType.CAMPAIGN, ChangeAction.DELETED, "campaign-id"),
    "CreateJourney": Operation(ResourceType.JOURNEY, ChangeAction.CREATED, None),
    "UpdateJourney": Operation(ResourceType.JOURNEY, ChangeAction.UPDATED, "journey-id"),
    "UpdateJourneyState": Operation(ResourceType.JOURNEY, ChangeAction.UPDATED, "journey-id"),
    "DeleteJourney": Operation(ResourceType.JOURNEY, ChangeAction.DELETED, "journey-id"),
    "CreateSegment": Operation(ResourceType.SEGMENT, ChangeAction.CREATED, None),
    "UpdateSegment": Operation(ResourceType.SEGMENT, ChangeAction.UPDATED, "segment-id"),
    "DeleteSegment": Operation(ResourceType.SEGMENT, ChangeAction.DELETED, "segment-id"),
}
IMPORT_JOB = "CreateImportJob"
HANDLED_OPERATIONS = frozenset({*OPERATIONS, IMPORT_JOB})
LIST_OPERATIONS: Mapping[ResourceType, str] = {
    ResourceType.CAMPAIGN: "GetCampaigns",
    ResourceType.JOURNEY: "ListJourneys",
    ResourceType.SEGMENT: "GetSegments",
}


@dataclass
class IngestReport:
    """Counts of one file or event, for metrics and the log."""

    records: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    samples: list[Rejection] = field(default_factory=list)
    changes: int = 0
    coalesced: int = 0  # records folded into another record's change
    corrupt: str | None = None  # why the file could not be read to its end

    def skip(self, reason: Skip, count: int = 1) -> None:
        if count:
            self.skipped[reason.value] += count

    def reject(self, rejection: Rejection) -> None:
        self.rejected[rejection.reason.value] += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(rejection)


class FileStatus(StrEnum):
    READ = "read"
    NOT_A_LOG_FILE = "not_a_log_file"
    MISSING = "missing"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class Ingested:
    events: list[PinpointResourceChanged]
    report: IngestReport
    status: FileStatus = FileStatus.READ


# ---------------------------------------------------------------------- ports


class LogStream(Readable, Protocol):
    def close(self) -> None: ...


class LogFiles(Protocol):
    """Opens a CloudTrail log file for streaming; None when the object does not exist."""

    def open(self, bucket: str, key: str) -> LogStream | None: ...


@dataclass(frozen=True)
class ResourcePage:
    items: list[Any]
    next_token: str | None = None


class PinpointLister(Protocol):
    """One page of a project's campaigns, journeys or segments; None if the project is gone."""

    def page(
        self, resource_type: ResourceType, application_id: str, token: str | None, page_size: int
    ) -> ResourcePage | None: ...


# ---------------------------------------------------------------------- records


def cloudtrail_event_id(cloudtrail_id: str) -> str:
    """The event id of the change a CloudTrail record reports, on either path."""
    return derived_event_id("cloudtrail", cloudtrail_id)


def is_log_file(key: str) -> bool:
    """CloudTrail log files, not digests (`CloudTrail-Digest/`) nor anything else."""
    return "/CloudTrail/" in f"/{key}" and key.endswith(".json.gz")


def change_from_raw(
    raw: Mapping[str, Any],
    monitored: Collection[str],
    origin: ChangeOrigin,
    index: int | None = None,
) -> ResourceChange | Skip | Rejection:
    """The change one decoded record reports, why it is skipped, or why it is bad."""
    source = raw.get("eventSource")
    if isinstance(source, str) and source != PINPOINT_EVENT_SOURCE:
        return Skip.OTHER_SERVICE  # decided before validation: other services' shapes vary
    name = _text(raw.get("eventName"))
    event_id = _text(raw.get("eventID"))
    if raw.get("errorCode") is not None:
        return Skip.FAILED_CALL
    if name is not None and name not in HANDLED_OPERATIONS:
        return Skip.UNHANDLED_OPERATION
    try:
        record = CloudTrailRecord.model_validate(raw)
    except ValidationError as error:
        problems = error.errors(include_url=False)
        missing = any(problem["type"] == "missing" for problem in problems)
        return Rejection(
            Reject.MISSING_FIELD if missing else Reject.WRONG_TYPE,
            index,
            name,
            event_id,
            tuple(sorted({str(problem["loc"][0]) for problem in problems if problem["loc"]})),
        )
    return change_from_record(record, monitored, origin, index)


def change_from_record(
    record: CloudTrailRecord,
    monitored: Collection[str],
    origin: ChangeOrigin,
    index: int | None = None,
) -> ResourceChange | Skip | Rejection:
    """The change a validated record reports, why it is skipped, or why it is bad."""
    target = _subject(record, monitored)
    if isinstance(target, Skip):
        return target
    if isinstance(target, Rejection):
        # Validated strings may still hold lone surrogates (pydantic's plain str keeps them).
        return replace(
            target,
            index=index,
            event_name=_text(record.event_name),
            event_id=_text(record.event_id),
        )
    application_id, resource_type, action, resource_id = target
    response = record.response_elements
    if record.event_name == IMPORT_JOB:
        known = KnownAttributes(segment_type=SegmentType.IMPORT)
    elif response is not None:
        known = known_attributes(resource_type, response)
    else:
        known = known_attributes(resource_type, record.request_parameters or {}, dates=False)
    try:
        return ResourceChange(
            resource_type=resource_type,
            application_id=application_id,
            resource_id=resource_id,
            action=action,
            event_time=record.event_time,
            source_event_id=record.event_id,
            operation=record.event_name,
            origin=origin,
            known=known,
        )
    except ValidationError as error:  # e.g. an eventID longer than a label may be
        fields = sorted({str(problem["loc"][0]) for problem in error.errors() if problem["loc"]})
        return Rejection(
            Reject.WRONG_TYPE,
            index,
            _text(record.event_name),
            _text(record.event_id),
            tuple(fields),
        )


def _subject(  # noqa: PLR0911 - a decision table reads best as early returns
    record: CloudTrailRecord, monitored: Collection[str]
) -> tuple[str, ResourceType, ChangeAction, str] | Skip | Rejection:
    """(application, resource type, action, resource id) the record is about, or why not."""
    if record.event_source != PINPOINT_EVENT_SOURCE:
        return Skip.OTHER_SERVICE
    if record.error_code is not None:
        return Skip.FAILED_CALL
    if record.event_name not in HANDLED_OPERATIONS:
        return Skip.UNHANDLED_OPERATION
    request = record.request_parameters or {}
    response = record.response_elements
    application_id = request.get("application-id")
    if application_id is None and response is not None:
        application_id = response.get("ApplicationId")
    if application_id is None:
        return Rejection(Reject.MISSING_APPLICATION_ID, fields=("requestParameters",))
    if not _is_pinpoint_id(application_id):
        return Rejection(Reject.INVALID_APPLICATION_ID, fields=("requestParameters",))
    if application_id not in monitored:
        return Skip.UNMONITORED_APPLICATION
    target = _target(record.event_name, request, response)
    if isinstance(target, Skip):
        return target
    if isinstance(target, Reject):
        return Rejection(target)
    resource_type, action, resource_id = target
    if not _is_pinpoint_id(resource_id):
        return Rejection(Reject.INVALID_RESOURCE_ID)
    return application_id, resource_type, action, resource_id


def _target(  # noqa: PLR0911 - a decision table reads best as early returns
    operation: str, request: Mapping[str, Any], response: Mapping[str, Any] | None
) -> tuple[ResourceType, ChangeAction, Any] | Skip | Reject:
    """(resource type, action, resource id) of a handled operation."""
    if operation == IMPORT_JOB:
        existing = request.get("SegmentId")
        if existing is not None:  # a new version of an imported segment
            return ResourceType.SEGMENT, ChangeAction.UPDATED, existing
        if not _flag(request.get("DefineSegment")):
            return Skip.IMPORT_WITHOUT_SEGMENT
        if response is None:
            return Reject.MISSING_RESPONSE
        created = _dig(response, "Definition", "SegmentId")
        if created is None:
            return Reject.MISSING_RESOURCE_ID
        return ResourceType.SEGMENT, ChangeAction.CREATED, created
    spec = OPERATIONS[operation]
    resource_id = request.get(spec.id_parameter) if spec.id_parameter else None
    if resource_id is None:
        if response is None:
            return (
                Reject.MISSING_RESPONSE if spec.id_parameter is None else Reject.MISSING_RESOURCE_ID
            )
        resource_id = response.get("Id")
    if resource_id is None:
        return Reject.MISSING_RESOURCE_ID
    return spec.resource_type, spec.action, resource_id


def known_attributes(
    resource_type: ResourceType, resource: Mapping[str, Any], *, dates: bool = True
) -> KnownAttributes:
    """What a resource body (response, request or list item) shows; unreadable values dropped."""
    if resource_type is ResourceType.CAMPAIGN:
        fields: dict[str, Any] = {
            "state": _dig(resource, "State", "CampaignStatus"),
            "version": resource.get("Version"),
            "segment_id": resource.get("SegmentId"),
            "segment_version": resource.get("SegmentVersion"),
            "event_name": _first_event_type(_dig(resource, "Schedule", "EventFilter")),
        }
    elif resource_type is ResourceType.JOURNEY:
        start = resource.get("StartCondition")
        fields = {
            "state": resource.get("State"),
            "segment_id": _dig(start, "SegmentStartCondition", "SegmentId")
            or _dig(start, "EventStartCondition", "SegmentId"),
            "event_name": _first_event_type(_dig(start, "EventStartCondition", "EventFilter")),
        }
    else:
        fields = {"segment_type": resource.get("SegmentType"), "version": resource.get("Version")}
    if dates:
        fields["creation_date"] = resource.get("CreationDate")
        fields["last_modified_date"] = resource.get("LastModifiedDate")
    present = {name: value for name, value in fields.items() if value is not None}
    try:
        return KnownAttributes.model_validate(present)  # one validation when all read well
    except ValidationError:
        pass
    kept: dict[str, Any] = {}
    for name, value in present.items():
        try:
            KnownAttributes.model_validate({name: value})
        except ValidationError:
            continue  # an unreadable attribute is not worth losing the change for
        kept[name] = value
    return KnownAttributes.model_validate(kept)


def _first_event_type(event_filter: Any) -> str | None:
    """The trigger event; an EventFilter may filter on attributes or metrics alone."""
    values = _dig(event_filter, "Dimensions", "EventType", "Values")
    if isinstance(values, list) and values and isinstance(values[0], str):
        return values[0]
    return None


def coalesce(changes: Iterable[ResourceChange]) -> list[ResourceChange]:
    """One change per resource, the latest winning (module docstring); in time order."""
    coalescer = Coalescer()
    for change in changes:
        coalescer.append(change)
    return coalescer.merged()


@dataclass
class _Resource:
    latest: ResourceChange
    records: int = 1
    shown: ResourceChange | None = None  # the latest that shows something of the resource


class Coalescer:
    """Coalesces as changes arrive, so memory holds one change per resource, not per record.

    Of changes equally recent, the one appended last wins, as a stable sort would have it.
    """

    def __init__(self) -> None:
        self._resources: dict[tuple[ResourceType, str, str], _Resource] = {}
        self.appended = 0

    def append(self, change: ResourceChange) -> None:
        self.appended += 1
        key = (change.resource_type, change.application_id, change.resource_id)
        shows = change.known != _NOTHING_KNOWN
        resource = self._resources.get(key)
        if resource is None:
            self._resources[key] = _Resource(change, shown=change if shows else None)
            return
        resource.records += 1
        if _recency(change) >= _recency(resource.latest):
            resource.latest = change
        if shows and (resource.shown is None or _recency(change) >= _recency(resource.shown)):
            resource.shown = change

    def merged(self) -> list[ResourceChange]:
        merged = []
        for resource in self._resources.values():
            latest, known = resource.latest, resource.latest.known
            if known == _NOTHING_KNOWN and resource.shown is not None:
                known = resource.shown.known  # e.g. a delete whose responseElements were dropped
            merged.append(
                latest.model_copy(update={"records_coalesced": resource.records, "known": known})
            )
        merged.sort(key=_recency)
        return merged


_ACTION_ORDER = {ChangeAction.CREATED: 0, ChangeAction.UPDATED: 1, ChangeAction.DELETED: 2}


def _recency(change: ResourceChange) -> tuple[datetime, int, int, str]:
    version = change.known.version or 0
    return (change.event_time, _ACTION_ORDER[change.action], version, change.source_event_id)


def change_event(change: ResourceChange, causation_id: str | None) -> PinpointResourceChanged:
    """The event for a CloudTrail change; its id is derived from the record's eventID."""
    event_id = cloudtrail_event_id(change.source_event_id)
    return PinpointResourceChanged.new(
        change,
        correlation_id=event_id,
        causation_id=causation_id,
        event_id=event_id,
        occurred_at=change.event_time,
    )


# ---------------------------------------------------------------------- inputs


def ingest_log_file(
    files: LogFiles,
    bucket: str,
    key: str,
    monitored: Sequence[str],
    *,
    causation_id: str | None = None,
    reader: Callable[[Readable], CloudTrailLogReader] = CloudTrailLogReader,
) -> Ingested:
    """The changes in one CloudTrail log file (`key` already URL-decoded).

    Memory holds the reader's chunk and one change per Pinpoint resource written in the
    file's five minutes (coalesced as they are found), never the file.
    """
    report = IngestReport()
    if not is_log_file(key):
        return Ingested([], report, FileStatus.NOT_A_LOG_FILE)
    stream = files.open(bucket, key)
    if stream is None:
        return Ingested([], report, FileStatus.MISSING)
    watched = frozenset(monitored)
    changes = Coalescer()
    records = reader(stream)
    try:
        for item in records:
            if item.data is None:
                report.reject(Rejection(Reject(item.problem or Reject.INVALID_JSON), item.index))
                continue
            outcome = change_from_raw(item.data, watched, ChangeOrigin.CLOUDTRAIL_FILE, item.index)
            _tally(outcome, report, changes)
    except CorruptLogFileError as error:
        report.corrupt = str(error)
    finally:
        stream.close()
    report.records = records.records_seen
    report.skip(Skip.OTHER_SERVICE, records.records_filtered)
    merged = changes.merged()
    report.changes = len(merged)
    report.coalesced = changes.appended - len(merged)
    status = FileStatus.CORRUPT if report.corrupt else FileStatus.READ
    return Ingested([change_event(c, causation_id) for c in merged], report, status)


def ingest_api_call(
    record: CloudTrailRecord, monitored: Sequence[str], *, causation_id: str | None = None
) -> Ingested:
    """The change one "AWS API Call via CloudTrail" event reports, if any."""
    report = IngestReport(records=1)
    changes: list[ResourceChange] = []
    _tally(
        change_from_record(record, frozenset(monitored), ChangeOrigin.CLOUDTRAIL_EVENT),
        report,
        changes,
    )
    report.changes = len(changes)
    return Ingested([change_event(c, causation_id) for c in changes], report)


def report_unreadable_api_call(
    detail: Mapping[str, Any], monitored: Sequence[str]
) -> IngestReport | None:
    """Why an API-call event whose record broke the contract is no change: skip or rejection.

    Such a record is bad data that no retry can mend, so it is counted like a bad record of
    a file instead of being dead-lettered. None if the record reads as a change after all
    (the contract error lies elsewhere): the event is then left to fail.
    """
    outcome = change_from_raw(detail, frozenset(monitored), ChangeOrigin.CLOUDTRAIL_EVENT)
    if isinstance(outcome, ResourceChange):
        return None
    report = IngestReport(records=1)
    _tally(outcome, report, [])
    return report


class _Changes(Protocol):
    def append(self, change: ResourceChange, /) -> None: ...


def _tally(
    outcome: ResourceChange | Skip | Rejection, report: IngestReport, changes: _Changes
) -> None:
    if isinstance(outcome, Skip):
        report.skip(outcome)
    elif isinstance(outcome, Rejection):
        report.reject(outcome)
    else:
        changes.append(outcome)


# ---------------------------------------------------------------------- backfill


@dataclass
class BackfillReport:
    pages_read: int = 0
    items: int = 0
    continuations: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    ignored_projects: list[str] = field(default_factory=list)  # asked for, not monitored
    missing_project: str | None = None  # listed, but Pinpoint says it does not exist
    repeated_token: bool = False  # Pinpoint handed back the token it was given


@dataclass(frozen=True)
class BackfillOutcome:
    events: list[Event]
    report: BackfillReport


def run_backfill(
    request: CatalogBackfillRequested,
    lister: PinpointLister,
    monitored: Sequence[str],
    page_size: int,
) -> BackfillOutcome:
    """Fan a request out into pages, or read the one page it names (module docstring)."""
    report = BackfillReport()
    page = request.data.page
    if page is None:
        asked = request.data.application_ids or list(monitored)
        projects = [app for app in dict.fromkeys(asked) if app in monitored]
        report.ignored_projects = [app for app in dict.fromkeys(asked) if app not in monitored]
        types = list(dict.fromkeys(request.data.resource_types))
        events: list[Event] = [
            _continuation(request, BackfillPage(application_id=app, resource_type=kind))
            for app in projects
            for kind in types
        ]
        report.continuations = len(events)
        return BackfillOutcome(events, report)
    if page.application_id not in monitored:
        report.ignored_projects = [page.application_id]
        return BackfillOutcome([], report)
    listed = lister.page(page.resource_type, page.application_id, page.token, page_size)
    if listed is None:
        report.missing_project = page.application_id
        return BackfillOutcome([], report)
    report.pages_read = 1
    report.items = len(listed.items)
    events = []
    for item in listed.items:
        outcome = backfill_change(page, item)
        if isinstance(outcome, Reject):
            report.rejected[outcome.value] += 1
            continue
        events.append(
            PinpointResourceChanged.new(
                outcome,
                correlation_id=request.metadata.correlation_id,
                causation_id=request.metadata.event_id,
                event_id=derived_event_id(
                    request.metadata.event_id,
                    outcome.resource_type.value,
                    outcome.application_id,
                    outcome.resource_id,
                ),
                occurred_at=outcome.event_time,
            )
        )
    if listed.next_token:
        if listed.next_token == page.token:
            report.repeated_token = True
        else:
            next_page = BackfillPage(
                application_id=page.application_id,
                resource_type=page.resource_type,
                token=listed.next_token,
            )
            events.append(_continuation(request, next_page))
            report.continuations = 1
    return BackfillOutcome(events, report)


def backfill_change(page: BackfillPage, item: Any) -> ResourceChange | Reject:
    """The change one listed resource stands for, or why the item is unusable."""
    if not isinstance(item, Mapping):
        return Reject.WRONG_TYPE
    resource_id = item.get("Id")
    if resource_id is None:
        return Reject.MISSING_RESOURCE_ID
    if not _is_pinpoint_id(resource_id):
        return Reject.INVALID_RESOURCE_ID
    event_time = _timestamp(item.get("LastModifiedDate")) or _timestamp(item.get("CreationDate"))
    if event_time is None:
        return Reject.MISSING_TIMESTAMP
    event_time = event_time.replace(microsecond=0)  # CloudTrail's precision: see the docstring
    kind = page.resource_type
    return ResourceChange(
        resource_type=kind,
        application_id=page.application_id,
        resource_id=resource_id,
        action=ChangeAction.UPDATED,
        event_time=event_time,
        source_event_id=derived_event_id(
            "backfill", kind.value, page.application_id, resource_id, event_time.isoformat()
        ),
        operation=LIST_OPERATIONS[kind],
        origin=ChangeOrigin.BACKFILL,
        known=known_attributes(kind, item),
    )


def _continuation(
    request: CatalogBackfillRequested, page: BackfillPage
) -> CatalogBackfillRequested:
    event_id = derived_event_id(
        request.metadata.event_id,
        "backfill-page",
        page.application_id,
        page.resource_type.value,
        page.token or "",
    )
    return CatalogBackfillRequested.new(
        request.data.model_copy(update={"page": page}),
        correlation_id=request.metadata.correlation_id,
        causation_id=request.metadata.event_id,
        event_id=event_id,
        occurred_at=request.metadata.occurred_at,
        producer=PinpointResourceChanged.producer_name(),
    )


# ---------------------------------------------------------------------- helpers


def _is_pinpoint_id(value: Any) -> bool:
    try:
        _PINPOINT_ID.validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _text(value: Any) -> str | None:
    """A string of a raw record, safe to log: a lone surrogate (a JSON escape such as \\ud800,
    which UTF-8 cannot encode) becomes its escape text instead of breaking the log line."""
    if not isinstance(value, str):
        return None
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
