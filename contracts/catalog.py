"""Events of the catalog pipeline: CloudTrail activity in, named catalog entries out."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, ClassVar, Self

from pydantic import Field, StringConstraints, model_validator

from contracts._base import Event, FrozenModel, PinpointId, ResourceType, UtcDatetime

ResourceName = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class ChangeAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


class ChangeOrigin(StrEnum):
    """How the system learned of a change; ordering uses event_time whatever the origin."""

    CLOUDTRAIL_FILE = "cloudtrail_file"
    CLOUDTRAIL_EVENT = "cloudtrail_event"
    BACKFILL = "backfill"


class CatalogChange(StrEnum):
    CREATED = "created"
    RENAMED = "renamed"
    UPDATED = "updated"
    DELETED = "deleted"


class SegmentType(StrEnum):
    DIMENSIONAL = "DIMENSIONAL"
    IMPORT = "IMPORT"


class KnownAttributes(FrozenModel):
    """What CloudTrail showed of a resource (names are masked there, so never a name)."""

    segment_id: PinpointId | None = None
    segment_version: int | None = Field(default=None, ge=1)
    state: Label | None = Field(default=None, description="Campaign status or journey state.")
    version: int | None = Field(default=None, ge=1)
    segment_type: SegmentType | None = None
    event_name: Label | None = Field(default=None, description="Trigger event, if event-based.")
    creation_date: UtcDatetime | None = None
    last_modified_date: UtcDatetime | None = None


class ResourceChange(FrozenModel):
    resource_type: ResourceType
    application_id: PinpointId
    resource_id: PinpointId
    action: ChangeAction
    event_time: UtcDatetime = Field(description="CloudTrail eventTime of the latest record.")
    source_event_id: Label = Field(
        description="CloudTrail eventID of the latest record (or the backfill item id)."
    )
    operation: Label = Field(description="The Pinpoint operation, e.g. UpdateCampaign.")
    origin: ChangeOrigin
    records_coalesced: int = Field(default=1, ge=1)
    known: KnownAttributes = Field(default_factory=KnownAttributes)


class PinpointResourceChanged(Event):
    SOURCE: ClassVar[str] = "pinpoint-lake.log-ingester"
    DETAIL_TYPE: ClassVar[str] = "PinpointResourceChanged"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = (
        "A campaign, journey or segment of a monitored project was created, changed or deleted."
    )
    CONSUMERS: ClassVar[tuple[str, ...]] = ("name-resolver",)

    data: ResourceChange


class ResolvedResource(FrozenModel):
    resource_type: ResourceType
    application_id: PinpointId
    resource_id: PinpointId
    event_time: UtcDatetime
    source_event_id: Label
    origin: ChangeOrigin
    deleted: bool
    name: ResourceName | None = Field(
        default=None, description="Null only for a resource deleted before it could be named."
    )
    segment_id: PinpointId | None = None
    event_name: Label | None = None
    state: Label | None = None
    segment_type: SegmentType | None = None
    version: int | None = Field(default=None, ge=1)
    creation_date: UtcDatetime | None = None
    last_modified_date: UtcDatetime | None = None

    @model_validator(mode="after")
    def _live_resources_have_names(self) -> Self:
        if not self.deleted and self.name is None:
            raise ValueError("a resource that still exists must carry its name")
        return self


class PinpointResourceResolved(Event):
    SOURCE: ClassVar[str] = "pinpoint-lake.name-resolver"
    DETAIL_TYPE: ClassVar[str] = "PinpointResourceResolved"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = "A changed resource with its current name and attributes."
    CONSUMERS: ClassVar[tuple[str, ...]] = ("catalog-writer",)

    data: ResolvedResource


class CatalogEntry(FrozenModel):
    """One row of a catalog table, as subscribers see it."""

    id: PinpointId
    type: ResourceType
    application_id: PinpointId
    name: ResourceName | None
    deleted: bool
    segment_id: PinpointId | None = None
    event_name: Label | None = None
    state: Label | None = None
    segment_type: SegmentType | None = None
    version: int | None = Field(default=None, ge=1)
    creation_date: UtcDatetime | None = None
    last_modified_date: UtcDatetime | None = None
    event_time: UtcDatetime = Field(description="CloudTrail event time this entry reflects.")


class CatalogEntryChange(FrozenModel):
    change: CatalogChange
    before: CatalogEntry | None = Field(
        description="Absent for 'created', and for 'deleted' when never cataloged before."
    )
    after: CatalogEntry

    @model_validator(mode="after")
    def _before_fits_the_change(self) -> Self:
        # A resource created and deleted before it could be cataloged is first seen deleted.
        if self.change is CatalogChange.CREATED and self.before is not None:
            raise ValueError("a 'created' change has no 'before' entry")
        if self.change in (CatalogChange.RENAMED, CatalogChange.UPDATED) and self.before is None:
            raise ValueError(f"a '{self.change.value}' change needs the 'before' entry")
        return self


class CatalogEntryChanged(Event):
    SOURCE: ClassVar[str] = "pinpoint-lake.catalog-writer"
    DETAIL_TYPE: ClassVar[str] = "CatalogEntryChanged"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = (
        "A catalog entry was created, renamed, updated or deleted; emitted only on real change."
    )
    CONSUMERS: ClassVar[tuple[str, ...]] = ("subscribers",)

    data: CatalogEntryChange


class BackfillPage(FrozenModel):
    """Where a fanned-out backfill continues: one project, one resource type, one page."""

    application_id: PinpointId
    resource_type: ResourceType
    token: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None


class BackfillRequest(FrozenModel):
    application_ids: list[PinpointId] | None = Field(
        default=None, description="Projects to backfill; all monitored projects when omitted."
    )
    resource_types: list[ResourceType] = Field(
        default_factory=lambda: list(ResourceType), min_length=1
    )
    requested_by: Label | None = None
    page: BackfillPage | None = Field(
        default=None, description="Set on the continuation events the backfill publishes itself."
    )


class CatalogBackfillRequested(Event):
    SOURCE: ClassVar[str] = "pinpoint-lake.backfill"
    DETAIL_TYPE: ClassVar[str] = "CatalogBackfillRequested"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = (
        "Read every campaign, journey and segment of the monitored projects into the catalog."
    )
    CONSUMERS: ClassVar[tuple[str, ...]] = ("log-ingester",)
    REQUEST: ClassVar[bool] = True

    data: BackfillRequest
