"""Pinpoint's side of the catalog port: its CloudTrail records, its resource bodies, its lists.

**Which records count.** eventSource ``pinpoint.amazonaws.com`` (other services have
operations with the same names), and one of the operations in ``OPERATIONS``, or a
CreateImportJob that defines a segment (``DefineSegment``: the new segment's id is in
responseElements) or adds a version to one (``SegmentId``). The scope is the project: the
``application-id`` path parameter, else responseElements' ``ApplicationId``. Ids come from
the hyphenated path parameters (``campaign-id``...) or, for creates, from
``responseElements.Id``, and must be Pinpoint ids. What CloudTrail shows of the resource
(names are masked there) is read from responseElements, or from requestParameters when the
response was dropped (CloudTrail drops either above 100 KB).

**Bodies.** ``read_body`` is the one reader of a campaign, journey or segment, whether it
comes from GetCampaign (the name-resolver), a CloudTrail record or a GetCampaigns item
(the log-ingester). A value that does not read as its contract type is dropped, never the
resource. Times are ISO 8601 strings (or datetimes) and are returned in UTC: a naive time
is UTC, an aware one is converted.

**Backfill.** GetCampaigns, ListJourneys or GetSegments, one listing per resource type and
monitored project (the request's ``application_ids``, else every monitored project). Each
item becomes action ``updated`` (the backfill cannot know whether the catalog has it; the
catalog-writer decides created vs updated from its own table), operation = the list call,
event_time = its LastModifiedDate (else CreationDate) to the second, as CloudTrail's
eventTime is, so neither source claims to be newer than the other within one second, and a
source_event_id derived from the resource and that time, so a backfill of an unchanged
resource repeats the same (event_time, source_event_id) and changes nothing downstream.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from contracts import (
    BackfillPage,
    BackfillRequest,
    ChangeAction,
    ChangeOrigin,
    CloudTrailRecord,
    KnownAttributes,
    PinpointId,
    Platform,
    ResourceChange,
    ResourceType,
    SegmentType,
    derived_event_id,
)
from services.common.targets.bodies import dig, known_attributes, timestamp
from services.common.targets.catalog import (
    CatalogFields,
    FanOut,
    RecordSubject,
    Reject,
    Rejection,
    Scope,
    Skip,
)

PINPOINT_EVENT_SOURCE = "pinpoint.amazonaws.com"
DRAFT = "DRAFT"  # a journey not yet published: not cataloged
# A campaign Pinpoint reports in this status is as good as deleted.
DELETED_CAMPAIGN_STATUS = "DELETED"


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
_IMPORTED = KnownAttributes(segment_type=SegmentType.IMPORT)


class PinpointCatalog:
    """The Pinpoint adapter of `services.common.targets.catalog.TargetCatalog`."""

    platform = Platform.PINPOINT
    event_sources = frozenset({PINPOINT_EVENT_SOURCE})
    handled_operations = HANDLED_OPERATIONS

    def read_record(  # noqa: PLR0911 - a decision table reads best as early returns
        self, record: CloudTrailRecord, monitored: Collection[str]
    ) -> RecordSubject | Skip | Rejection:
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
        if record.event_name == IMPORT_JOB:
            known = _IMPORTED
        elif response is not None:
            known = _known(resource_type, response, dates=True)
        else:
            known = _known(resource_type, request, dates=False)
        return RecordSubject(
            Scope(Platform.PINPOINT, application_id), resource_type, action, resource_id, known
        )

    def read_body(
        self, resource_type: ResourceType, body: Mapping[str, Any], *, dates: bool = True
    ) -> CatalogFields:
        known = _known(resource_type, body, dates=dates)
        name = body.get("Name")
        return CatalogFields(
            known=known,
            name=name if isinstance(name, str) and name else None,
            deleted=resource_type is ResourceType.CAMPAIGN
            and known.state == DELETED_CAMPAIGN_STATUS,
        )

    def unpublished(self, resource_type: ResourceType, state: str | None) -> bool:
        return resource_type is ResourceType.JOURNEY and state == DRAFT

    def first_pages(self, request: BackfillRequest, monitored: Sequence[str]) -> FanOut:
        asked = list(
            dict.fromkeys(request.application_ids or [m for m in monitored if _is_pinpoint_id(m)])
        )
        listings = tuple(dict.fromkeys(request.resource_types))  # one list call per type
        return FanOut(
            pages=[
                BackfillPage(application_id=app, resource_type=kind)
                for app in asked
                if app in monitored
                for kind in listings
            ],
            ignored=[app for app in asked if app not in monitored],
        )

    def backfill_change(self, page: BackfillPage, item: Any) -> ResourceChange | Reject:
        if not isinstance(item, Mapping):
            return Reject.WRONG_TYPE
        resource_id = item.get("Id")
        if resource_id is None:
            return Reject.MISSING_RESOURCE_ID
        if not _is_pinpoint_id(resource_id):
            return Reject.INVALID_RESOURCE_ID
        modified, created = item.get("LastModifiedDate"), item.get("CreationDate")
        event_time = timestamp(modified) or timestamp(created)
        if event_time is None:
            return Reject.MISSING_TIMESTAMP
        event_time = event_time.replace(microsecond=0)  # CloudTrail's precision: see above
        kind = page.resource_type
        return ResourceChange(
            resource_type=kind,
            application_id=page.application_id,
            resource_id=resource_id,
            action=ChangeAction.UPDATED,
            event_time=event_time,
            source_event_id=derived_event_id(
                "backfill",
                kind.value,
                str(page.application_id),
                resource_id,
                event_time.isoformat(),
            ),
            operation=LIST_OPERATIONS[kind],
            origin=ChangeOrigin.BACKFILL,
            known=self.read_body(kind, item).known,
        )


PINPOINT_CATALOG = PinpointCatalog()


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
        created = dig(response, "Definition", "SegmentId")
        if created is None:
            return Reject.MISSING_RESOURCE_ID
        return ResourceType.SEGMENT, ChangeAction.CREATED, created
    spec = OPERATIONS.get(operation)
    if spec is None:
        return Skip.UNHANDLED_OPERATION
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


def _known(resource_type: ResourceType, body: Mapping[str, Any], *, dates: bool) -> KnownAttributes:
    """What a body shows, validated in one pass; one by one only when that fails, so an
    unreadable value is dropped instead of losing the resource."""
    if resource_type is ResourceType.CAMPAIGN:
        fields: dict[str, Any] = {
            "state": dig(body, "State", "CampaignStatus"),
            "version": body.get("Version"),
            "segment_id": _pinpoint_id_or_none(body.get("SegmentId")),
            "segment_version": body.get("SegmentVersion"),
            "event_name": _first_event_type(dig(body, "Schedule", "EventFilter")),
        }
    elif resource_type is ResourceType.JOURNEY:
        start = body.get("StartCondition")
        fields = {
            "state": body.get("State"),
            "segment_id": _pinpoint_id_or_none(
                dig(start, "SegmentStartCondition", "SegmentId")
                or dig(start, "EventStartCondition", "SegmentId")
            ),
            "event_name": _first_event_type(dig(start, "EventStartCondition", "EventFilter")),
        }
    else:
        fields = {"segment_type": body.get("SegmentType"), "version": body.get("Version")}
    if dates:
        fields["creation_date"] = timestamp(body.get("CreationDate"))
        fields["last_modified_date"] = timestamp(body.get("LastModifiedDate"))
    return known_attributes(fields)


def _first_event_type(event_filter: Any) -> str | None:
    """The trigger event; an EventFilter may filter on attributes or metrics alone."""
    values = dig(event_filter, "Dimensions", "EventType", "Values")
    if isinstance(values, list) and values and isinstance(values[0], str):
        return values[0]
    return None


@cache
def _pinpoint_id() -> TypeAdapter[str]:
    """Built on first use, not at import: the name-resolver imports this module, never it."""
    return TypeAdapter(PinpointId)


def _is_pinpoint_id(value: Any) -> bool:
    try:
        _pinpoint_id().validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


def _pinpoint_id_or_none(value: Any) -> str | None:
    """A Pinpoint segment id, else None (the catalog's segment_id also takes Connect's)."""
    return value if _is_pinpoint_id(value) else None


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")
