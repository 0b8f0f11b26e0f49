"""name-resolver decisions: read a changed resource's name and state from its target.

CloudTrail masks names, so every change is resolved with one read of the resource (for
Pinpoint: GetCampaign, GetJourney or GetSegment), and its body is read by the target's one
reader (`services.common.targets.catalog.ResourceReader`), the same that reads CloudTrail's
bodies in the log-ingester. A change that says the resource was deleted needs no call; a
resource that is gone (404) by the time we ask resolves as deleted, keeping what CloudTrail
showed of it. Resources the target calls unpublished (Pinpoint's DRAFT journeys) are not
cataloged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from contracts import (
    ChangeAction,
    PinpointResourceChanged,
    PinpointResourceResolved,
    ResolvedResource,
    ResourceType,
    derived_event_id,
)
from services.common.targets.catalog import CatalogFields, ResourceReader

Resource = Mapping[str, Any]


class Resources(Protocol):
    """Reads one resource; None when the target answers 404 (the resource is gone)."""

    def get(
        self, resource_type: ResourceType, application_id: str, resource_id: str
    ) -> Resource | None: ...


class BatchMemo:
    """At most one read per distinct resource within one batch (Pinpoint quotas are small)."""

    def __init__(self, resources: Resources) -> None:
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
    event: PinpointResourceChanged, resources: Resources, reader: ResourceReader
) -> PinpointResourceResolved | None:
    """The resolved resource, or None when it is not to be cataloged (not yet published)."""
    change = event.data
    current = None
    if change.action is not ChangeAction.DELETED:
        current = resources.get(change.resource_type, change.application_id, change.resource_id)
    if current is None:  # deleted: what CloudTrail showed of it
        fields = CatalogFields(known=change.known, deleted=True)
    else:
        fields = reader.read_body(change.resource_type, current)
    known = fields.known
    if reader.unpublished(change.resource_type, known.state):
        return None
    resolved = ResolvedResource(
        resource_type=change.resource_type,
        application_id=change.application_id,
        resource_id=change.resource_id,
        event_time=change.event_time,
        source_event_id=change.source_event_id,
        origin=change.origin,
        deleted=fields.deleted,
        name=fields.name,
        segment_id=known.segment_id,
        event_name=known.event_name,
        state=known.state,
        segment_type=known.segment_type,
        version=known.version,
        creation_date=known.creation_date,
        last_modified_date=known.last_modified_date,
    )
    return PinpointResourceResolved.new(
        resolved,
        correlation_id=event.metadata.correlation_id,
        causation_id=event.metadata.event_id,
        event_id=derived_event_id(event.metadata.event_id, PinpointResourceResolved.DETAIL_TYPE),
    )
