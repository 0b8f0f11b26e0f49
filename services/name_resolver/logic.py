"""name-resolver decisions: read a changed resource's name and state from Pinpoint.

CloudTrail masks names, so every change is resolved with GetCampaign, GetJourney or
GetSegment. A change that says the resource was deleted needs no call; a resource that is
gone (404) by the time we ask resolves as deleted, keeping what CloudTrail showed of it.
Journeys in DRAFT are not cataloged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from contracts import (
    ChangeAction,
    PinpointResourceChanged,
    PinpointResourceResolved,
    ResolvedResource,
    ResourceType,
    SegmentType,
    derived_event_id,
)

Resource = Mapping[str, Any]
DRAFT = "DRAFT"
# A campaign Pinpoint reports in this status is as good as deleted.
DELETED_CAMPAIGN_STATUS = "DELETED"


class PinpointResources(Protocol):
    """Reads one resource; None when Pinpoint answers 404 (the resource is gone)."""

    def get(
        self, resource_type: ResourceType, application_id: str, resource_id: str
    ) -> Resource | None: ...


class BatchMemo:
    """At most one read per distinct resource within one batch (Pinpoint quotas are small)."""

    def __init__(self, resources: PinpointResources) -> None:
        self._resources = resources
        self._seen: dict[tuple[ResourceType, str, str], Resource | None] = {}

    def get(
        self, resource_type: ResourceType, application_id: str, resource_id: str
    ) -> Resource | None:
        key = (resource_type, application_id, resource_id)
        if key not in self._seen:
            self._seen[key] = self._resources.get(resource_type, application_id, resource_id)
        return self._seen[key]


def resolve(
    event: PinpointResourceChanged, resources: PinpointResources
) -> PinpointResourceResolved | None:
    """The resolved resource, or None when it is not to be cataloged (a DRAFT journey)."""
    change = event.data
    current = None
    if change.action is not ChangeAction.DELETED:
        current = resources.get(change.resource_type, change.application_id, change.resource_id)
    if current is None:
        fields = _from_known(event)
    elif change.resource_type is ResourceType.CAMPAIGN:
        fields = _campaign_fields(current)
    elif change.resource_type is ResourceType.JOURNEY:
        fields = _journey_fields(current)
    else:
        fields = _segment_fields(current)
    if change.resource_type is ResourceType.JOURNEY and fields.get("state") == DRAFT:
        return None
    resolved = ResolvedResource(
        resource_type=change.resource_type,
        application_id=change.application_id,
        resource_id=change.resource_id,
        event_time=change.event_time,
        source_event_id=change.source_event_id,
        origin=change.origin,
        **fields,
    )
    return PinpointResourceResolved.new(
        resolved,
        correlation_id=event.metadata.correlation_id,
        causation_id=event.metadata.event_id,
        event_id=derived_event_id(event.metadata.event_id, PinpointResourceResolved.DETAIL_TYPE),
    )


def _from_known(event: PinpointResourceChanged) -> dict[str, Any]:
    known = event.data.known
    return {
        "deleted": True,
        "name": None,
        "segment_id": known.segment_id,
        "event_name": known.event_name,
        "state": known.state,
        "segment_type": known.segment_type,
        "version": known.version,
        "creation_date": known.creation_date,
        "last_modified_date": known.last_modified_date,
    }


def _campaign_fields(campaign: Resource) -> dict[str, Any]:
    status = _dig(campaign, "State", "CampaignStatus")
    return {
        "deleted": status == DELETED_CAMPAIGN_STATUS,
        "name": campaign.get("Name") or None,
        "segment_id": campaign.get("SegmentId"),
        "event_name": _first_event_type(_dig(campaign, "Schedule", "EventFilter")),
        "state": status,
        "version": campaign.get("Version"),
        **_dates(campaign),
    }


def _journey_fields(journey: Resource) -> dict[str, Any]:
    start = journey.get("StartCondition") or {}
    event_start = start.get("EventStartCondition") or {}
    segment_id = _dig(start, "SegmentStartCondition", "SegmentId") or event_start.get("SegmentId")
    return {
        "deleted": False,
        "name": journey.get("Name") or None,
        "segment_id": segment_id,
        "event_name": _first_event_type(event_start.get("EventFilter")),
        "state": journey.get("State"),
        **_dates(journey),
    }


def _segment_fields(segment: Resource) -> dict[str, Any]:
    segment_type = str(segment.get("SegmentType"))
    known_types = {member.value for member in SegmentType}
    return {
        "deleted": False,
        "name": segment.get("Name") or None,
        "segment_type": SegmentType(segment_type) if segment_type in known_types else None,
        "version": segment.get("Version"),
        **_dates(segment),
    }


def _first_event_type(event_filter: Any) -> str | None:
    """The trigger event; an EventFilter may filter on attributes or metrics alone."""
    values = _dig(event_filter, "Dimensions", "EventType", "Values")
    if isinstance(values, list) and values:
        return str(values[0])
    return None


def _dates(resource: Resource) -> dict[str, datetime | None]:
    return {
        "creation_date": _timestamp(resource.get("CreationDate")),
        "last_modified_date": _timestamp(resource.get("LastModifiedDate")),
    }


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None  # an unreadable date is not worth losing the entry for
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _dig(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
