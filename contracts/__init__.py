"""pinpoint-lake's event contracts: the one place event models live.

Services talk only through these models. A raw EventBridge event becomes a model through
`parse_event` (or `REGISTRY.parse_as`); a model becomes a PutEvents entry through
`put_events_entry`.

The model modules load on first use of one of their names (PEP 562 `__getattr__`):
`from contracts import SegmentQueryRequested` loads `contracts.segmentation` and nothing of
the catalog's models. Each Lambda function then defines only the models of its side of the
system: defining a pydantic model is most of what importing the contracts costs, and every
cold start pays it (bench/cold_start.py). `REGISTRY`, `PROJECT_EVENTS` and `AWS_EVENTS`
load every module; a service's batch loop parses with a registry of the models it takes.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from contracts._base import (
    CatalogId,
    ConnectInstanceId,
    DomainName,
    Event,
    EventMetadata,
    FrozenModel,
    PinpointId,
    Platform,
    Request,
    ResourceType,
    RunId,
    UtcDatetime,
    derived_event_id,
    host_clock,
    new_event_id,
    utc_now,
)
from contracts.entries import (
    MAX_ENTRY_BYTES,
    EventTooLargeError,
    PutEventsEntry,
    entry_size,
    put_events_entry,
)
from contracts.envelope import (
    EventBridgeEnvelope,
)
from contracts.registry import (
    ContractProblem,
    EventContractError,
    EventRegistry,
    InvalidEventError,
    ParsedEvent,
    UnknownEventError,
    describe_validation_error,
)

if TYPE_CHECKING:
    from contracts.aws import (
        AthenaQueryStateChange,
        AwsEvent,
        CloudTrailApiCall,
        CloudTrailRecord,
        S3ObjectCreated,
        ScheduledEvent,
    )
    from contracts.catalog import (
        BackfillPage,
        BackfillRequest,
        CatalogBackfillRequested,
        CatalogChange,
        CatalogEntry,
        CatalogEntryChange,
        CatalogEntryChanged,
        ChangeAction,
        ChangeOrigin,
        KnownAttributes,
        PinpointResourceChanged,
        PinpointResourceResolved,
        ResolvedResource,
        ResourceChange,
        SegmentType,
    )
    from contracts.registry import EventModel
    from contracts.segmentation import (
        MAX_QUERY_LENGTH,
        CompletedImport,
        EndpointImportCompleted,
        EndpointImportFailed,
        EndpointImportStarted,
        EngagementTarget,
        FailedImport,
        FailedQuery,
        ImportCheck,
        ImportCheckDue,
        ImportCounts,
        ImportOutcome,
        QueryFailureState,
        RejectedRun,
        Rejection,
        RowRejection,
        RunRequest,
        SegmentQueryFailed,
        SegmentQueryRejected,
        SegmentQueryRequested,
        SegmentQueryStarted,
        SegmentQuerySucceeded,
        SegmentQueryValidated,
        StartedImport,
        StartedQuery,
        SucceededQuery,
        ValidatedRun,
    )

# Where each lazily loaded name lives.
_LAZY_MODULES: dict[str, str] = {
    "AthenaQueryStateChange": "contracts.aws",
    "AwsEvent": "contracts.aws",
    "CloudTrailApiCall": "contracts.aws",
    "CloudTrailRecord": "contracts.aws",
    "S3ObjectCreated": "contracts.aws",
    "ScheduledEvent": "contracts.aws",
    "BackfillPage": "contracts.catalog",
    "BackfillRequest": "contracts.catalog",
    "CatalogBackfillRequested": "contracts.catalog",
    "CatalogChange": "contracts.catalog",
    "CatalogEntry": "contracts.catalog",
    "CatalogEntryChange": "contracts.catalog",
    "CatalogEntryChanged": "contracts.catalog",
    "ChangeAction": "contracts.catalog",
    "ChangeOrigin": "contracts.catalog",
    "KnownAttributes": "contracts.catalog",
    "PinpointResourceChanged": "contracts.catalog",
    "PinpointResourceResolved": "contracts.catalog",
    "ResolvedResource": "contracts.catalog",
    "ResourceChange": "contracts.catalog",
    "SegmentType": "contracts.catalog",
    "MAX_QUERY_LENGTH": "contracts.segmentation",
    "CompletedImport": "contracts.segmentation",
    "EndpointImportCompleted": "contracts.segmentation",
    "EndpointImportFailed": "contracts.segmentation",
    "EndpointImportStarted": "contracts.segmentation",
    "EngagementTarget": "contracts.segmentation",
    "FailedImport": "contracts.segmentation",
    "FailedQuery": "contracts.segmentation",
    "ImportCheck": "contracts.segmentation",
    "ImportCheckDue": "contracts.segmentation",
    "ImportCounts": "contracts.segmentation",
    "ImportOutcome": "contracts.segmentation",
    "QueryFailureState": "contracts.segmentation",
    "RejectedRun": "contracts.segmentation",
    "Rejection": "contracts.segmentation",
    "RowRejection": "contracts.segmentation",
    "RunRequest": "contracts.segmentation",
    "SegmentQueryFailed": "contracts.segmentation",
    "SegmentQueryRejected": "contracts.segmentation",
    "SegmentQueryRequested": "contracts.segmentation",
    "SegmentQueryStarted": "contracts.segmentation",
    "SegmentQuerySucceeded": "contracts.segmentation",
    "SegmentQueryValidated": "contracts.segmentation",
    "StartedImport": "contracts.segmentation",
    "StartedQuery": "contracts.segmentation",
    "SucceededQuery": "contracts.segmentation",
    "ValidatedRun": "contracts.segmentation",
}


def _project_events() -> tuple[type[Event], ...]:
    """Every event pinpoint-lake publishes, in pipeline order."""
    from contracts.catalog import (  # noqa: PLC0415 - loaded on first use
        CatalogBackfillRequested,
        CatalogEntryChanged,
        PinpointResourceChanged,
        PinpointResourceResolved,
    )
    from contracts.segmentation import (  # noqa: PLC0415
        EndpointImportCompleted,
        EndpointImportFailed,
        EndpointImportStarted,
        ImportCheckDue,
        SegmentQueryFailed,
        SegmentQueryRejected,
        SegmentQueryRequested,
        SegmentQueryStarted,
        SegmentQuerySucceeded,
        SegmentQueryValidated,
    )

    return (
        PinpointResourceChanged,
        PinpointResourceResolved,
        CatalogEntryChanged,
        CatalogBackfillRequested,
        SegmentQueryRequested,
        SegmentQueryValidated,
        SegmentQueryRejected,
        SegmentQueryStarted,
        SegmentQuerySucceeded,
        SegmentQueryFailed,
        EndpointImportStarted,
        EndpointImportCompleted,
        EndpointImportFailed,
        ImportCheckDue,
    )


def _aws_events() -> tuple[type[AwsEvent], ...]:
    """The AWS events pinpoint-lake consumes."""
    from contracts.aws import (  # noqa: PLC0415
        AthenaQueryStateChange,
        CloudTrailApiCall,
        S3ObjectCreated,
        ScheduledEvent,
    )

    return (
        S3ObjectCreated,
        CloudTrailApiCall,
        AthenaQueryStateChange,
        ScheduledEvent,
    )


@functools.cache
def _registry() -> EventRegistry:
    models: list[EventModel] = [*_project_events(), *_aws_events()]
    return EventRegistry(models)


def parse_event(raw: Mapping[str, Any]) -> ParsedEvent[BaseModel]:
    """`raw` as the model of its detail-type and version (`REGISTRY.parse`)."""
    return _registry().parse(raw)


# Built on first use; kept in the module's namespace after, so the next read is a plain one.
_COMPUTED: dict[str, Callable[[], Any]] = {
    "PROJECT_EVENTS": _project_events,
    "AWS_EVENTS": _aws_events,
    "REGISTRY": _registry,
}


def __getattr__(name: str) -> Any:
    module = _LAZY_MODULES.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    elif name in _COMPUTED:
        value = _COMPUTED[name]()
    else:
        raise AttributeError(f"module 'contracts' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    PROJECT_EVENTS: tuple[type[Event], ...]
    AWS_EVENTS: tuple[type[AwsEvent], ...]
    REGISTRY: EventRegistry


__all__ = [
    "AWS_EVENTS",
    "MAX_ENTRY_BYTES",
    "MAX_QUERY_LENGTH",
    "PROJECT_EVENTS",
    "REGISTRY",
    "AthenaQueryStateChange",
    "AwsEvent",
    "BackfillPage",
    "BackfillRequest",
    "CatalogBackfillRequested",
    "CatalogChange",
    "CatalogEntry",
    "CatalogEntryChange",
    "CatalogEntryChanged",
    "CatalogId",
    "ChangeAction",
    "ChangeOrigin",
    "CloudTrailApiCall",
    "CloudTrailRecord",
    "CompletedImport",
    "ConnectInstanceId",
    "ContractProblem",
    "DomainName",
    "EndpointImportCompleted",
    "EndpointImportFailed",
    "EndpointImportStarted",
    "EngagementTarget",
    "Event",
    "EventBridgeEnvelope",
    "EventContractError",
    "EventMetadata",
    "EventRegistry",
    "EventTooLargeError",
    "FailedImport",
    "FailedQuery",
    "FrozenModel",
    "ImportCheck",
    "ImportCheckDue",
    "ImportCounts",
    "ImportOutcome",
    "InvalidEventError",
    "KnownAttributes",
    "ParsedEvent",
    "PinpointId",
    "PinpointResourceChanged",
    "PinpointResourceResolved",
    "Platform",
    "PutEventsEntry",
    "QueryFailureState",
    "RejectedRun",
    "Rejection",
    "Request",
    "ResolvedResource",
    "ResourceChange",
    "ResourceType",
    "RowRejection",
    "RunId",
    "RunRequest",
    "S3ObjectCreated",
    "ScheduledEvent",
    "SegmentQueryFailed",
    "SegmentQueryRejected",
    "SegmentQueryRequested",
    "SegmentQueryStarted",
    "SegmentQuerySucceeded",
    "SegmentQueryValidated",
    "SegmentType",
    "StartedImport",
    "StartedQuery",
    "SucceededQuery",
    "UnknownEventError",
    "UtcDatetime",
    "ValidatedRun",
    "derived_event_id",
    "describe_validation_error",
    "entry_size",
    "host_clock",
    "new_event_id",
    "parse_event",
    "put_events_entry",
    "utc_now",
]
