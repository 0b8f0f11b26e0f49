"""One reader of Pinpoint bodies: the log-ingester and the name-resolver read a body alike.

The same body is read three ways: as a CloudTrail record's responseElements (log files and
API-call events), as a backfill list item (both the log-ingester), and as a Get* answer (the
name-resolver). Every field both carry must agree, with times in UTC whatever zone (or none)
the body wrote them in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts import (
    BackfillPage,
    BackfillRequest,
    CatalogBackfillRequested,
    ChangeOrigin,
    KnownAttributes,
    PinpointResourceChanged,
    ResolvedResource,
    ResourceChange,
    ResourceType,
)
from services.common.targets.catalog import TargetCatalog
from services.common.targets.pinpoint.catalog import PINPOINT_CATALOG
from services.log_ingester.backfill import run_backfill
from services.log_ingester.records import change_event, change_from_raw
from services.name_resolver.logic import resolve
from tests.fixtures.cloudtrail import (
    APP_ID,
    CAMPAIGN_ID,
    JOURNEY_ID,
    SEGMENT_ID,
    campaign_resource,
    journey_resource,
    pinpoint_record,
    segment_resource,
)
from tests.unit.log_ingester.fakes import FakeLister

CREATED = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
MODIFIED = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
# The same two moments, spelled the ways a body may spell them.
SPELLINGS = {
    "Z": ("2026-11-01T08:00:00.000Z", "2026-11-22T09:00:00.000Z"),
    "naive": ("2026-11-01T08:00:00.000", "2026-11-22T09:00:00"),
    "+02:00": ("2026-11-01T10:00:00.000+02:00", "2026-11-22T11:00:00+02:00"),
}
# Every field both the change (what CloudTrail showed) and the resolved resource carry;
# not the name: Pinpoint's records mask it, only the Get* answer has it.
SHARED = tuple(
    name
    for name in KnownAttributes.model_fields
    if name in ResolvedResource.model_fields and name != "name"
)
BODIES: dict[ResourceType, tuple[str, str, Callable[[], dict[str, Any]]]] = {
    ResourceType.CAMPAIGN: (
        "UpdateCampaign",
        CAMPAIGN_ID,
        lambda: campaign_resource(
            APP_ID, CAMPAIGN_ID, status="PAUSED", version=3, event_type="buy"
        ),
    ),
    ResourceType.JOURNEY: (
        "UpdateJourney",
        JOURNEY_ID,
        lambda: journey_resource(APP_ID, JOURNEY_ID, state="ACTIVE", event_type="signup"),
    ),
    ResourceType.SEGMENT: (
        "UpdateSegment",
        SEGMENT_ID,
        lambda: segment_resource(APP_ID, SEGMENT_ID, version=2, segment_type="IMPORT"),
    ),
}


def from_record(kind: ResourceType, body: dict[str, Any]) -> KnownAttributes:
    operation, resource_id, _ = BODIES[kind]
    record = pinpoint_record(operation, APP_ID, resource_id, response_elements=body)
    change = change_from_raw(
        record, {APP_ID}, ChangeOrigin.CLOUDTRAIL_FILE, catalog=PINPOINT_CATALOG
    )
    assert isinstance(change, ResourceChange)
    return change.known


def from_backfill(kind: ResourceType, body: dict[str, Any]) -> KnownAttributes:
    request = CatalogBackfillRequested.new(
        BackfillRequest(page=BackfillPage(application_id=APP_ID, resource_type=kind)),
        correlation_id="backfill-1",
    )
    lister = FakeLister({(kind, APP_ID): [body]})
    [event] = run_backfill(request, lister, [APP_ID], 10, catalog=PINPOINT_CATALOG).events
    assert isinstance(event, PinpointResourceChanged)
    return event.data.known


def from_api(kind: ResourceType, body: dict[str, Any], catalog: TargetCatalog) -> ResolvedResource:
    operation, resource_id, _ = BODIES[kind]
    record = pinpoint_record(operation, APP_ID, resource_id)
    change = change_from_raw(record, {APP_ID}, ChangeOrigin.CLOUDTRAIL_EVENT, catalog=catalog)
    assert isinstance(change, ResourceChange)

    class Answers:
        def get(self, *_: Any) -> dict[str, Any]:
            return body | {"Name": "Winback"}  # a Get* answer carries the name

    resolved = resolve(change_event(change, None), Answers(), catalog)
    assert resolved is not None
    return resolved.data


def readings(kind: ResourceType, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The shared fields as each path reads them: record, backfill item, API answer."""
    known = [from_record(kind, body), from_backfill(kind, body)]
    resolved = from_api(kind, body, PINPOINT_CATALOG)
    return [{name: getattr(each, name) for name in SHARED} for each in (*known, resolved)]


@pytest.mark.parametrize("spelling", list(SPELLINGS))
@pytest.mark.parametrize("kind", list(ResourceType))
def test_every_path_reads_a_body_alike_with_times_in_utc(kind: ResourceType, spelling: str) -> None:
    created, modified = SPELLINGS[spelling]
    body = BODIES[kind][2]() | {"CreationDate": created, "LastModifiedDate": modified}

    record, backfill, api = readings(kind, body)

    assert record == backfill == api
    assert (api["creation_date"], api["last_modified_date"]) == (CREATED, MODIFIED)
    for moment in (api["creation_date"], api["last_modified_date"]):
        assert moment.tzinfo is not None
        assert moment.utcoffset().total_seconds() == 0
    by_kind: dict[ResourceType, dict[str, object]] = {
        ResourceType.CAMPAIGN: {"state": "PAUSED", "version": 3, "event_name": "buy"},
        ResourceType.JOURNEY: {"state": "ACTIVE", "event_name": "signup"},
        ResourceType.SEGMENT: {"segment_type": "IMPORT", "version": 2},
    }
    expected = by_kind[kind]
    assert {name: api[name] for name in expected} == expected


@pytest.mark.parametrize("kind", list(ResourceType))
def test_unreadable_values_are_dropped_alike_by_every_path(kind: ResourceType) -> None:
    body = BODIES[kind][2]() | {
        "CreationDate": "yesterday",
        "Version": 0,
        "State": {"CampaignStatus": 7} if kind is ResourceType.CAMPAIGN else "ACTIVE",
    }
    if kind is ResourceType.CAMPAIGN:
        body["Schedule"]["EventFilter"]["Dimensions"]["EventType"]["Values"] = [5]
    if kind is ResourceType.SEGMENT:
        body["SegmentType"] = "SOMETHING_NEW"

    record, backfill, api = readings(kind, body)

    assert record == backfill == api
    assert api["creation_date"] is None
    assert api["version"] is None
    assert api["last_modified_date"] == MODIFIED
    dropped = {
        ResourceType.CAMPAIGN: ("state", "event_name"),
        ResourceType.JOURNEY: (),
        ResourceType.SEGMENT: ("segment_type",),
    }[kind]
    assert all(api[name] is None for name in dropped)


def test_a_deleted_campaign_status_reads_as_deleted_and_drafts_as_unpublished() -> None:
    campaign = campaign_resource(APP_ID, CAMPAIGN_ID, status="DELETED")
    assert PINPOINT_CATALOG.read_body(ResourceType.CAMPAIGN, campaign).deleted is True
    named = PINPOINT_CATALOG.read_body(ResourceType.SEGMENT, {"Name": "Clicked"})
    assert (named.name, named.deleted) == ("Clicked", False)
    assert PINPOINT_CATALOG.unpublished(ResourceType.JOURNEY, "DRAFT")
    assert not PINPOINT_CATALOG.unpublished(ResourceType.CAMPAIGN, "DRAFT")
