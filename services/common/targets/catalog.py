"""The catalog port: what the log-ingester and the name-resolver ask of an engagement target.

A target answers three questions, and each has one answer per target, so no two services
can read the same thing two ways:

- **CloudTrail** (`CloudTrailCatalog`): which records are its catalog changes (its event
  source, the operations it handles) and what one such record is about: a `RecordSubject`
  (scope, resource type, action, resource id, what the record shows), or why it is skipped
  or bad.
- **Bodies** (`ResourceReader`): how a resource body reads as catalog fields. An API
  response, a record's responseElements or requestParameters and a listed backfill item all
  go through `read_body`: one reader, UTC everywhere.
- **Backfill** (`BackfillCatalog`): which listings to page over per scope, and the change a
  listed item stands for.

A *scope* is where a target keeps resources: a Pinpoint project (application id); for
Amazon Connect, a Connect instance (its outbound campaigns) and a Customer Profiles domain
(its segment definitions). Resource types are the catalog's own (campaign, journey,
segment): Connect's outbound campaigns of type MANAGED read as campaigns, JOURNEY as
journeys, segment definitions as segments. A *scope key* (`scope_key`) names one scope as a
string, distinct across platforms: a Pinpoint project id, ``instance/<id>``,
``domains/<name>`` (the resource parts of their ARNs); `monitored` is a set of them.

Several targets can be active in one stack: `TargetCatalogs` is the port over all of them,
routing each record by its eventSource and each backfill page by its platform.

Nothing here calls AWS or logs: the services keep their boto3 adapters and their reporting.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from contracts import (
    BackfillPage,
    BackfillRequest,
    ChangeAction,
    CloudTrailRecord,
    KnownAttributes,
    Platform,
    ResourceChange,
    ResourceType,
)


class Skip(StrEnum):
    """Why a well-formed record is not a catalog change (a metric dimension: values are wire)."""

    OTHER_SERVICE = "other_service"
    FAILED_CALL = "failed_call"
    UNHANDLED_OPERATION = "unhandled_operation"
    UNMONITORED_APPLICATION = "unmonitored_application"  # the scope is not monitored
    IMPORT_WITHOUT_SEGMENT = "import_without_segment"
    OTHER_API_VERSION = "other_api_version"  # outbound campaigns v1 (same eventSource as v2)


class Reject(StrEnum):
    """Why a record (or a backfill item) is bad (a metric dimension: values are wire)."""

    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    TOO_LARGE = "too_large"  # above the reader's max_record_bytes: skipped unread
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    MISSING_APPLICATION_ID = "missing_application_id"  # no scope
    INVALID_APPLICATION_ID = "invalid_application_id"  # a scope that is not the target's
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


class Scope(NamedTuple):
    """Where a resource lives, as the contracts' scope fields (`ResourceChange` and on)."""

    platform: Platform
    application_id: str | None = None
    domain_name: str | None = None
    connect_instance_id: str | None = None


class _Scoped(Protocol):
    @property
    def platform(self) -> Platform: ...
    @property
    def application_id(self) -> str | None: ...
    @property
    def domain_name(self) -> str | None: ...
    @property
    def connect_instance_id(self) -> str | None: ...


def scope_key(item: _Scoped, resource_type: ResourceType) -> str:
    """The key of the scope a resource of `resource_type` lives in (module docstring)."""
    if item.platform is Platform.PINPOINT:
        return str(item.application_id)
    if resource_type is ResourceType.SEGMENT:
        return domain_key(str(item.domain_name))
    return instance_key(str(item.connect_instance_id))


def domain_key(domain_name: str) -> str:
    return f"domains/{domain_name}"


def instance_key(instance_id: str) -> str:
    return f"instance/{instance_id}"


class RecordSubject(NamedTuple):
    """What one catalog record is about, and what it shows of the resource (never a name).

    A named tuple, not a frozen dataclass: one is built per target record of every log
    file, and a tuple is built several times faster. `scope_confirmed` is False when the
    record does not name the scope (the target assumed the stack's own)."""

    scope: Scope
    resource_type: ResourceType
    action: ChangeAction
    resource_id: str
    known: KnownAttributes
    scope_confirmed: bool = True


@dataclass(frozen=True, slots=True)
class CatalogFields:
    """A resource body read as catalog fields: `known` holds every attribute a body may show
    (unreadable values dropped, times in UTC); the name only where the body carries it (an
    API response: CloudTrail masks names)."""

    known: KnownAttributes
    name: str | None = None
    deleted: bool = False  # the body says the resource is gone (a DELETED campaign status)
    home: str | None = None  # the scope key the body names, where it names one
    resource_type: ResourceType | None = None  # the type the body names (Connect's MANAGED/JOURNEY)


class CloudTrailCatalog(Protocol):
    """Which CloudTrail records are the target's catalog changes, and how one reads."""

    @property
    def event_sources(self) -> frozenset[str]:
        """The records' eventSources; also the bytes a log file reader pre-filters on."""
        ...

    @property
    def handled_operations(self) -> frozenset[str]:
        """eventNames that may be catalog changes; any other is skipped unread."""
        ...

    def read_record(
        self, record: CloudTrailRecord, monitored: Collection[str]
    ) -> RecordSubject | Skip | Rejection:
        """A successful call of a handled operation: its subject, or why it is none.

        A rejection carries its reason and field names; the caller adds the record's place.
        """
        ...


class ResourceReader(Protocol):
    """The one reader of resource bodies."""

    def read_body(
        self, resource_type: ResourceType, body: Mapping[str, Any], *, dates: bool = True
    ) -> CatalogFields:
        """What `body` shows; `dates=False` for a request, whose dates are the caller's."""
        ...

    def unpublished(self, resource_type: ResourceType, state: str | None) -> bool:
        """A resource in this state is not cataloged yet (a Pinpoint journey in DRAFT)."""
        ...


@dataclass(frozen=True)
class FanOut:
    """The first pages a backfill request calls for, and the scopes it asked for in vain."""

    pages: list[BackfillPage] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # asked for, not monitored


class BackfillCatalog(Protocol):
    """What a backfill lists, and how a listed item becomes a change."""

    def first_pages(self, request: BackfillRequest, monitored: Sequence[str]) -> FanOut:
        """The listings to page over to answer `request` in the `monitored` scopes."""
        ...

    def backfill_change(self, page: BackfillPage, item: Any) -> ResourceChange | Reject:
        """The change one listed item stands for, or why the item is unusable."""
        ...


class IngestCatalog(CloudTrailCatalog, BackfillCatalog, Protocol):
    """What the log-ingester asks of the stack's targets."""


class TargetCatalog(IngestCatalog, ResourceReader, Protocol):
    """Everything the catalog side asks of one target."""

    @property
    def platform(self) -> Platform: ...


class TargetCatalogs:
    """The stack's active targets as one `IngestCatalog`: records go to the target of their
    eventSource, backfill pages to the target of their platform."""

    def __init__(self, *targets: TargetCatalog) -> None:
        if not targets:
            raise ValueError("at least one engagement target must be active")
        self.targets = targets
        self._by_source = {source: target for target in targets for source in target.event_sources}
        self._by_platform = {target.platform: target for target in targets}
        self.event_sources = frozenset(self._by_source)
        self.handled_operations = frozenset(
            operation for target in targets for operation in target.handled_operations
        )

    def target(self, platform: Platform) -> TargetCatalog | None:
        return self._by_platform.get(platform)

    def read_record(
        self, record: CloudTrailRecord, monitored: Collection[str]
    ) -> RecordSubject | Skip | Rejection:
        target = self._by_source.get(record.event_source)
        if target is None:
            return Skip.OTHER_SERVICE
        if record.event_name not in target.handled_operations:
            return Skip.UNHANDLED_OPERATION
        return target.read_record(record, monitored)

    def first_pages(self, request: BackfillRequest, monitored: Sequence[str]) -> FanOut:
        fan_out = FanOut()
        for target in self.targets:
            if request.platforms is None or target.platform in request.platforms:
                part = target.first_pages(request, monitored)
                fan_out.pages.extend(part.pages)
                fan_out.ignored.extend(part.ignored)
        return fan_out

    def backfill_change(self, page: BackfillPage, item: Any) -> ResourceChange | Reject:
        target = self._by_platform.get(page.platform)
        if target is None:
            return Reject.INVALID_APPLICATION_ID  # a page of a target this stack does not run
        return target.backfill_change(page, item)
