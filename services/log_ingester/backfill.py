"""Backfill: what the target lists now becomes catalog changes, one page per invocation.

A request without ``page`` fans out: one continuation CatalogBackfillRequested per
(monitored scope, listing the target pages over), as the active targets say
(``first_pages``: Pinpoint projects, the Connect instance and domain). A request with
``page`` lists that one page, emits one change per listed resource (the target reads each
item: see its catalog adapter) and, if the target returned a NextToken, one continuation
for the next page, so every invocation does one bounded call. Events derive their ids from
the request's event id and the resource (or the page), so a redelivered request publishes
the same ids.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from contracts import (
    BackfillPage,
    CatalogBackfillRequested,
    Event,
    EventBridgeEnvelope,
    PinpointResourceChanged,
    Platform,
    derived_event_id,
)
from services.common.targets.catalog import BackfillCatalog, Reject, scope_key


@dataclass(frozen=True)
class ResourcePage:
    items: list[Any]
    next_token: str | None = None


class ResourceLister(Protocol):
    """One page of a scope's resources of one listing; None if the scope is gone."""

    def page(self, page: BackfillPage, page_size: int) -> ResourcePage | None: ...


@dataclass
class BackfillReport:
    pages_read: int = 0
    items: int = 0
    continuations: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    ignored_projects: list[str] = field(default_factory=list)  # asked for, not monitored
    missing_project: str | None = None  # listed, but the target says it does not exist
    repeated_token: bool = False  # the target handed back the token it was given


@dataclass(frozen=True)
class BackfillOutcome:
    events: list[Event]
    report: BackfillReport


def complete_request(
    request: CatalogBackfillRequested, envelope: EventBridgeEnvelope, now: datetime
) -> CatalogBackfillRequested:
    """The request with metadata: a requester may publish `data` only, and then every
    delivery of its event gets the same metadata from the envelope."""
    return request.completed(
        envelope_id=envelope.id,
        occurred_at=envelope.time or now,
        producer=request.requester(envelope.source, request.data.requested_by),
    )


def run_backfill(
    request: CatalogBackfillRequested,
    lister: ResourceLister,
    monitored: Sequence[str],
    page_size: int,
    *,
    catalog: BackfillCatalog,
) -> BackfillOutcome:
    """Fan a request out into pages, or read the one page it names (module docstring)."""
    report = BackfillReport()
    page = request.data.page
    if page is None:
        fan_out = catalog.first_pages(request.data, monitored)
        report.ignored_projects = fan_out.ignored
        events: list[Event] = [_continuation(request, first) for first in fan_out.pages]
        report.continuations = len(events)
        return BackfillOutcome(events, report)
    scope = scope_key(page, page.resource_type)
    if scope not in monitored:
        report.ignored_projects = [scope]
        return BackfillOutcome([], report)
    listed = lister.page(page, page_size)
    if listed is None:
        report.missing_project = scope
        return BackfillOutcome([], report)
    report.pages_read = 1
    report.items = len(listed.items)
    events = []
    for item in listed.items:
        outcome = catalog.backfill_change(page, item)
        if isinstance(outcome, Reject):
            report.rejected[outcome.value] += 1
            continue
        events.append(
            PinpointResourceChanged.new(
                outcome,
                correlation_id=request.known_metadata.correlation_id,
                causation_id=request.known_metadata.event_id,
                event_id=derived_event_id(
                    request.known_metadata.event_id,
                    outcome.resource_type.value,
                    *_scope_parts(outcome.platform, scope),
                    outcome.resource_id,
                ),
                occurred_at=outcome.event_time,
            )
        )
    if listed.next_token:
        if listed.next_token == page.token:
            report.repeated_token = True
        else:
            next_page = page.model_copy(update={"token": listed.next_token})
            events.append(_continuation(request, next_page))
            report.continuations = 1
    return BackfillOutcome(events, report)


def _continuation(
    request: CatalogBackfillRequested, page: BackfillPage
) -> CatalogBackfillRequested:
    event_id = derived_event_id(
        request.known_metadata.event_id,
        "backfill-page",
        *_scope_parts(page.platform, scope_key(page, page.resource_type)),
        page.resource_type.value,
        page.token or "",
    )
    return CatalogBackfillRequested.new(
        request.data.model_copy(update={"page": page}),
        correlation_id=request.known_metadata.correlation_id,
        causation_id=request.known_metadata.event_id,
        event_id=event_id,
        occurred_at=request.known_metadata.occurred_at,
        producer=PinpointResourceChanged.producer_name(),
    )


def _scope_parts(platform: Platform, scope: str) -> tuple[str, ...]:
    """What tells a scope apart in derived ids: a Pinpoint project id alone, as it always
    was (ids of Pinpoint backfills do not change), else the platform and the scope key."""
    return (scope,) if platform is Platform.PINPOINT else (platform.value, scope)
