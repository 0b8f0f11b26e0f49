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
Amazon Connect, a Customer Profiles domain with a Connect instance. Resource types are the
catalog's own (campaign, journey, segment): Connect's outbound campaigns of type MANAGED
read as campaigns, JOURNEY as journeys, segment definitions as segments.

Nothing here calls AWS or logs: the services keep their boto3 adapters and their reporting.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from contracts import (
    BackfillPage,
    ChangeAction,
    CloudTrailRecord,
    KnownAttributes,
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


class RecordSubject(NamedTuple):
    """What one catalog record is about, and what it shows of the resource (never a name).

    A named tuple, not a frozen dataclass: one is built per target record of every log
    file, and a tuple is built several times faster."""

    scope: str
    resource_type: ResourceType
    action: ChangeAction
    resource_id: str
    known: KnownAttributes


@dataclass(frozen=True, slots=True)
class CatalogFields:
    """A resource body read as catalog fields: `known` holds every attribute a body may show
    (unreadable values dropped, times in UTC); the name only where the body carries it (an
    API response: CloudTrail masks names)."""

    known: KnownAttributes
    name: str | None = None
    deleted: bool = False  # the body says the resource is gone (a DELETED campaign status)


class CloudTrailCatalog(Protocol):
    """Which CloudTrail records are the target's catalog changes, and how one reads."""

    @property
    def event_source(self) -> str:
        """The records' eventSource; also the bytes a log file reader pre-filters on."""
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


class BackfillCatalog(Protocol):
    """What a backfill lists, and how a listed item becomes a change."""

    def listings(self, resource_types: Sequence[ResourceType]) -> tuple[ResourceType, ...]:
        """The listings to page over in each scope to cover `resource_types`, in order."""
        ...

    def backfill_change(self, page: BackfillPage, item: Any) -> ResourceChange | Reject:
        """The change one listed item stands for, or why the item is unusable."""
        ...


class TargetCatalog(CloudTrailCatalog, ResourceReader, BackfillCatalog, Protocol):
    """Everything the catalog side asks of one target."""
