"""name-resolver decisions: read a changed resource's name and state from its target.

CloudTrail masks names, so every change is resolved with one read of the resource (for
Pinpoint: GetCampaign, GetJourney or GetSegment; for Connect: DescribeCampaign with
GetCampaignState, or GetSegmentDefinition), and its body is read by the target's one
reader (`services.common.targets.catalog.ResourceReader`), the same that reads CloudTrail's
bodies in the log-ingester. A change that says the resource was deleted needs no call; a
resource that is gone (404) by the time we ask resolves as deleted, keeping what CloudTrail
showed of it. Resources the target calls unpublished (Pinpoint's DRAFT journeys) are not
cataloged, nor is a resource whose body names another scope than the change's (a Connect
campaign of another instance). The body's own type wins over the change's (a Connect
campaign record does not say whether it is a MANAGED campaign or a JOURNEY).

A change whose scope no record confirmed (`scope_confirmed=False`) is confirmed by a body
that names ours; one that cannot be read (a 404, or a delete) stays unconfirmed, and the
catalog-writer applies it only to an entry it holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from contracts import (
    ChangeAction,
    PinpointResourceChanged,
    PinpointResourceResolved,
    Platform,
    ResolvedResource,
    ResourceChange,
    ResourceType,
    derived_event_id,
)
from services.common.targets.catalog import CatalogFields, ResourceReader, scope_key

Resource = Mapping[str, Any]


class Resources(Protocol):
    """Reads the resource a change is about; None when the target answers 404 (it is gone)."""

    def get(self, change: ResourceChange) -> Resource | None: ...


class BatchMemo:
    """At most one read per distinct resource within one batch (Pinpoint quotas are small).

    Campaigns and journeys share a key: a Connect campaign record may not know which it is."""

    def __init__(self, resources: Resources) -> None:
        self._resources = resources
        self._seen: dict[tuple[Platform, bool, str, str], Resource | None] = {}

    def get(self, change: ResourceChange) -> Resource | None:
        kind = change.resource_type
        key = (
            change.platform,
            kind is ResourceType.SEGMENT,
            scope_key(change, kind),
            change.resource_id,
        )
        if key not in self._seen:
            self._seen[key] = self._resources.get(change)
        return self._seen[key]


def resolve(
    event: PinpointResourceChanged, resources: Resources, reader: ResourceReader
) -> PinpointResourceResolved | None:
    """The resolved resource, or None when it is not to be cataloged (not yet published)."""
    change = event.data
    current = None
    if change.action is not ChangeAction.DELETED:
        current = resources.get(change)
    confirmed = change.scope_confirmed
    if current is None:  # deleted: what CloudTrail showed of it
        fields = CatalogFields(known=change.known, name=change.known.name, deleted=True)
    else:
        fields = reader.read_body(change.resource_type, current)
        if fields.home is not None:
            if fields.home != scope_key(change, change.resource_type):
                return None  # another scope's resource (e.g. another instance's campaign)
            confirmed = True
    known = fields.known
    resource_type = fields.resource_type or change.resource_type
    if reader.unpublished(resource_type, known.state):
        return None
    resolved = ResolvedResource(
        resource_type=resource_type,
        platform=change.platform,
        application_id=change.application_id,
        domain_name=change.domain_name or known.domain_name,
        connect_instance_id=change.connect_instance_id,
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
        scope_confirmed=confirmed,
    )
    return PinpointResourceResolved.new(
        resolved,
        correlation_id=event.metadata.correlation_id,
        causation_id=event.metadata.event_id,
        event_id=derived_event_id(event.metadata.event_id, PinpointResourceResolved.DETAIL_TYPE),
    )
