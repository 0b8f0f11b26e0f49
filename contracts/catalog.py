"""Events of the catalog pipeline: CloudTrail activity in, named catalog entries out."""

import re
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self

from pydantic import Field, StringConstraints, model_validator

from contracts._base import (
    PINPOINT_ID_PATTERN,
    CatalogId,
    ConnectInstanceId,
    DomainName,
    Event,
    FrozenModel,
    PinpointId,
    Platform,
    Request,
    ResourceType,
    UtcDatetime,
)

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
    DIMENSIONAL = "DIMENSIONAL"  # Pinpoint
    IMPORT = "IMPORT"  # Pinpoint
    CLASSIC = "CLASSIC"  # Connect: a segment definition of SegmentGroups
    ENHANCED = "ENHANCED"  # Connect: a segment definition of SQL


_PINPOINT_ID = re.compile(PINPOINT_ID_PATTERN)


def _platform_field() -> Any:
    return Field(
        default=Platform.PINPOINT,
        description="pinpoint or connect; absent from events written before Connect existed.",
    )


def _application_field() -> Any:
    return Field(default=None, description="The Pinpoint project; every pinpoint entry has one.")


def _domain_field() -> Any:
    return Field(
        default=None,
        description="Connect: the Customer Profiles domain of a segment definition, or of "
        "the segment a campaign targets.",
    )


def _instance_field() -> Any:
    return Field(default=None, description="Connect: the instance of a campaign or journey.")


class _Scoped(FrozenModel):
    """A catalog resource names its platform and scope: a Pinpoint project, or for Connect
    the instance of a campaign (journeys too) and the domain of a segment definition.

    Ids of the two platforms share the catalog's fields (`CatalogId`); a pinpoint resource
    keeps Pinpoint's id format, so nothing a Pinpoint consumer read before changes.
    """

    _ID_FIELDS: ClassVar[tuple[str, ...]] = ("resource_id", "segment_id")

    @model_validator(mode="after")
    def _scope_fits_the_platform(self) -> Self:
        platform = getattr(self, "platform", Platform.PINPOINT)
        resource_type = getattr(self, "resource_type", None) or getattr(self, "type", None)
        if platform is Platform.PINPOINT:
            if getattr(self, "application_id", None) is None:
                raise ValueError("a pinpoint resource names its application_id")
            if getattr(self, "domain_name", None) or getattr(self, "connect_instance_id", None):
                raise ValueError("a pinpoint resource has no domain_name nor connect_instance_id")
            for name in self._ID_FIELDS:
                value = getattr(self, name, None)
                if value is not None and not _PINPOINT_ID.match(value):
                    raise ValueError(f"{name} of a pinpoint resource is a Pinpoint id")
            return self
        if getattr(self, "application_id", None) is not None:
            raise ValueError("a connect resource has no application_id (it is a Pinpoint id)")
        if resource_type is ResourceType.SEGMENT and getattr(self, "domain_name", None) is None:
            raise ValueError("a connect segment definition names its domain_name")
        if (
            resource_type in (ResourceType.CAMPAIGN, ResourceType.JOURNEY)
            and getattr(self, "connect_instance_id", None) is None
        ):
            raise ValueError("a connect campaign or journey names its connect_instance_id")
        return self


class KnownAttributes(FrozenModel):
    """What CloudTrail showed of a resource. Pinpoint's records mask names, so a Pinpoint
    change never carries one; Connect's show them, and a Connect change carries the name
    its record showed (the last known name of a resource gone before it was resolved)."""

    name: ResourceName | None = Field(
        default=None, description="The name the record showed (Connect only)."
    )
    segment_id: CatalogId | None = Field(
        default=None, description="A Pinpoint segment id, or a segment definition name."
    )
    segment_version: int | None = Field(default=None, ge=1)
    state: Label | None = Field(default=None, description="Campaign status or journey state.")
    version: int | None = Field(default=None, ge=1)
    segment_type: SegmentType | None = None
    event_name: Label | None = Field(default=None, description="Trigger event, if event-based.")
    creation_date: UtcDatetime | None = None
    last_modified_date: UtcDatetime | None = None
    # Connect: the domain of the segment a campaign targets (from its source's ARN).
    domain_name: DomainName | None = None


def _scope_confirmed_field() -> Any:
    return Field(
        default=True,
        description="False when no record named the resource's scope (a Connect campaign's "
        "update, state call or delete names only its id): a deletion then applies only to "
        "an entry the catalog already holds.",
    )


class ResourceChange(_Scoped):
    _ID_FIELDS: ClassVar[tuple[str, ...]] = ("resource_id",)

    resource_type: ResourceType
    platform: Platform = _platform_field()
    application_id: PinpointId | None = _application_field()
    domain_name: DomainName | None = _domain_field()
    connect_instance_id: ConnectInstanceId | None = _instance_field()
    resource_id: CatalogId
    action: ChangeAction
    event_time: UtcDatetime = Field(description="CloudTrail eventTime of the latest record.")
    source_event_id: Label = Field(
        description="CloudTrail eventID of the latest record (or the backfill item id)."
    )
    operation: Label = Field(description="The operation, e.g. UpdateCampaign.")
    origin: ChangeOrigin
    records_coalesced: int = Field(default=1, ge=1)
    known: KnownAttributes = Field(default_factory=KnownAttributes)
    scope_confirmed: bool = _scope_confirmed_field()


class PinpointResourceChanged(Event):
    SOURCE: ClassVar[str] = "pinpoint-lake.log-ingester"
    DETAIL_TYPE: ClassVar[str] = "PinpointResourceChanged"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = (
        "A campaign, journey or segment of a monitored project (or of the Connect instance "
        "or domain) was created, changed or deleted."
    )
    CONSUMERS: ClassVar[tuple[str, ...]] = ("name-resolver",)

    data: ResourceChange


class ResolvedResource(_Scoped):
    resource_type: ResourceType
    platform: Platform = _platform_field()
    application_id: PinpointId | None = _application_field()
    domain_name: DomainName | None = _domain_field()
    connect_instance_id: ConnectInstanceId | None = _instance_field()
    resource_id: CatalogId
    event_time: UtcDatetime
    source_event_id: Label
    origin: ChangeOrigin
    deleted: bool
    name: ResourceName | None = Field(
        default=None, description="Null only for a resource deleted before it could be named."
    )
    segment_id: CatalogId | None = None
    event_name: Label | None = None
    state: Label | None = None
    segment_type: SegmentType | None = None
    version: int | None = Field(default=None, ge=1)
    creation_date: UtcDatetime | None = None
    last_modified_date: UtcDatetime | None = None
    scope_confirmed: bool = _scope_confirmed_field()

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


class CatalogEntry(_Scoped):
    """One row of a catalog table, as subscribers see it: `id` is the resource's own id on
    its `platform` (the tables key Connect rows apart: see the catalog-writer)."""

    _ID_FIELDS: ClassVar[tuple[str, ...]] = ("id", "segment_id")

    id: CatalogId
    type: ResourceType
    platform: Platform = _platform_field()
    application_id: PinpointId | None = _application_field()
    domain_name: DomainName | None = _domain_field()
    connect_instance_id: ConnectInstanceId | None = _instance_field()
    name: ResourceName | None
    deleted: bool
    segment_id: CatalogId | None = None
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


class BackfillPage(_Scoped):
    """Where a fanned-out backfill continues: one scope, one resource type, one page.

    For Connect, a `campaign` page lists the instance's campaigns of both types (MANAGED
    and JOURNEY: ListCampaigns lists them together), a `segment` page the domain's
    segment definitions."""

    platform: Platform = _platform_field()
    application_id: PinpointId | None = _application_field()
    domain_name: DomainName | None = _domain_field()
    connect_instance_id: ConnectInstanceId | None = _instance_field()
    resource_type: ResourceType
    token: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None


class BackfillRequest(FrozenModel):
    application_ids: list[PinpointId] | None = Field(
        default=None, description="Projects to backfill; all monitored projects when omitted."
    )
    platforms: list[Platform] | None = Field(
        default=None,
        min_length=1,
        description="Targets to backfill (pinpoint, connect); every active one when omitted. "
        "Connect's scope is the stack's domain and instance.",
    )
    resource_types: list[ResourceType] = Field(
        default_factory=lambda: list(ResourceType), min_length=1
    )
    requested_by: Label | None = None
    page: BackfillPage | None = Field(
        default=None, description="Set on the continuation events the backfill publishes itself."
    )


class CatalogBackfillRequested(Request):
    SOURCE: ClassVar[str] = "pinpoint-lake.backfill"
    DETAIL_TYPE: ClassVar[str] = "CatalogBackfillRequested"
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = (
        "Read every campaign, journey and segment of the monitored projects (and of the "
        "Connect domain and instance) into the catalog. Publishers may omit `metadata`; the "
        "log-ingester fills it."
    )
    CONSUMERS: ClassVar[tuple[str, ...]] = ("log-ingester",)

    data: BackfillRequest
