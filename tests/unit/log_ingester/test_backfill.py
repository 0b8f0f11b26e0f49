"""Backfill: fan-out into pages, one bounded page per invocation, continuations until done."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from contracts import (
    BackfillPage,
    BackfillRequest,
    CatalogBackfillRequested,
    ChangeAction,
    ChangeOrigin,
    Event,
    PinpointResourceChanged,
    ResourceType,
    SegmentType,
)
from services.common.targets.pinpoint.catalog import PINPOINT_CATALOG
from services.log_ingester.backfill import run_backfill
from tests.fixtures.cloudtrail import (
    APP_ID,
    OTHER_APP_ID,
    SEGMENT_ID,
    at,
    campaign_resource,
    journey_resource,
    pinpoint_date,
    pinpoint_id,
    segment_resource,
)
from tests.unit.log_ingester.fakes import FakeLister

SECOND_APP = pinpoint_id("second-app")
MONITORED = (APP_ID, SECOND_APP)


def request(**data: Any) -> CatalogBackfillRequested:
    return CatalogBackfillRequested.new(
        BackfillRequest(**data), correlation_id="backfill-1", event_id="backfill-event-1"
    )


def campaigns(app_id: str, count: int) -> list[dict[str, Any]]:
    return [
        campaign_resource(app_id, pinpoint_id(f"{app_id}-campaign-{n}"), created=at(8, n))
        for n in range(count)
    ]


def test_a_request_fans_out_one_page_per_project_and_type() -> None:
    lister = FakeLister({})
    outcome = run_backfill(
        request(requested_by="deploy"), lister, MONITORED, 50, catalog=PINPOINT_CATALOG
    )
    assert lister.calls == []  # fanning out lists nothing
    pages = [event.data.page for event in outcome.events]
    assert pages == [
        BackfillPage(application_id=app, resource_type=kind)
        for app in MONITORED
        for kind in (ResourceType.CAMPAIGN, ResourceType.JOURNEY, ResourceType.SEGMENT)
    ]
    first = outcome.events[0]
    assert isinstance(first, CatalogBackfillRequested)
    assert first.data.requested_by == "deploy"
    assert first.known_metadata.correlation_id == "backfill-1"
    assert first.known_metadata.causation_id == "backfill-event-1"
    assert first.known_metadata.producer == "log-ingester"
    assert outcome.report.continuations == 6
    again = run_backfill(
        request(requested_by="deploy"), lister, MONITORED, 50, catalog=PINPOINT_CATALOG
    )
    assert [e.event_id for e in again.events] == [e.event_id for e in outcome.events]
    assert len({e.event_id for e in outcome.events}) == 6


def test_only_monitored_projects_and_asked_types_are_backfilled() -> None:
    asked = request(
        application_ids=[SECOND_APP, OTHER_APP_ID, SECOND_APP],
        resource_types=[ResourceType.SEGMENT, ResourceType.SEGMENT],
    )
    outcome = run_backfill(asked, FakeLister({}), MONITORED, 50, catalog=PINPOINT_CATALOG)
    assert [e.data.page for e in outcome.events] == [
        BackfillPage(application_id=SECOND_APP, resource_type=ResourceType.SEGMENT)
    ]
    assert outcome.report.ignored_projects == [OTHER_APP_ID]


def test_a_page_becomes_one_change_per_resource_and_a_continuation() -> None:
    lister = FakeLister({(ResourceType.CAMPAIGN, APP_ID): campaigns(APP_ID, 5)})
    page = BackfillPage(application_id=APP_ID, resource_type=ResourceType.CAMPAIGN)
    outcome = run_backfill(request(page=page), lister, MONITORED, 2, catalog=PINPOINT_CATALOG)
    assert lister.calls == [(ResourceType.CAMPAIGN, APP_ID, None, 2)]
    *changes, continuation = outcome.events
    assert [c.data.resource_id for c in changes] == [
        pinpoint_id(f"{APP_ID}-campaign-{n}") for n in range(2)
    ]
    assert isinstance(continuation, CatalogBackfillRequested)
    assert continuation.data.page is not None
    assert continuation.data.page.token is not None
    assert (outcome.report.pages_read, outcome.report.items) == (1, 2)

    change = changes[0]
    assert isinstance(change, PinpointResourceChanged)
    data = change.data
    assert data.action is ChangeAction.UPDATED
    assert data.origin is ChangeOrigin.BACKFILL
    assert data.operation == "GetCampaigns"
    assert data.event_time == at(8, 0)
    assert data.known.state == "SCHEDULED"
    assert data.known.segment_id == SEGMENT_ID
    assert change.metadata.correlation_id == "backfill-1"
    assert change.metadata.causation_id == "backfill-event-1"


def test_paging_walks_every_resource_once_one_list_call_per_invocation() -> None:
    lister = FakeLister(
        {
            (ResourceType.CAMPAIGN, APP_ID): campaigns(APP_ID, 7),
            (ResourceType.SEGMENT, SECOND_APP): [
                segment_resource(SECOND_APP, pinpoint_id(f"seg-{n}")) for n in range(3)
            ],
            (ResourceType.JOURNEY, SECOND_APP): [
                journey_resource(SECOND_APP, pinpoint_id("journey"), state="ACTIVE")
            ],
        }
    )
    bus: list[Event] = [request()]
    changes: list[PinpointResourceChanged] = []
    invocations = 0
    while bus:
        event = bus.pop(0)
        assert isinstance(event, CatalogBackfillRequested)
        calls_before = len(lister.calls)
        outcome = run_backfill(event, lister, MONITORED, 3, catalog=PINPOINT_CATALOG)
        invocations += 1
        assert len(lister.calls) - calls_before <= 1
        for published in outcome.events:
            if isinstance(published, PinpointResourceChanged):
                changes.append(published)
            else:
                bus.append(published)
    kinds = Counter(change.data.resource_type for change in changes)
    assert kinds == {ResourceType.CAMPAIGN: 7, ResourceType.SEGMENT: 3, ResourceType.JOURNEY: 1}
    assert len({change.data.resource_id for change in changes}) == 11
    assert len({change.event_id for change in changes}) == 11
    # 1 fan-out + 6 first pages + 2 more campaign pages (7 items by 3)
    assert invocations == 9


def test_list_items_show_what_the_resources_are() -> None:
    segment = segment_resource(APP_ID, SEGMENT_ID, version=4, segment_type="IMPORT")
    journey = journey_resource(APP_ID, pinpoint_id("j"), state="DRAFT", event_type="signup")
    lister = FakeLister(
        {(ResourceType.SEGMENT, APP_ID): [segment], (ResourceType.JOURNEY, APP_ID): [journey]}
    )
    seg_page = BackfillPage(application_id=APP_ID, resource_type=ResourceType.SEGMENT)
    [seg_event] = run_backfill(
        request(page=seg_page), lister, MONITORED, 10, catalog=PINPOINT_CATALOG
    ).events
    assert isinstance(seg_event, PinpointResourceChanged)
    assert seg_event.data.operation == "GetSegments"
    assert (seg_event.data.known.segment_type, seg_event.data.known.version) == (
        SegmentType.IMPORT,
        4,
    )
    journey_page = BackfillPage(application_id=APP_ID, resource_type=ResourceType.JOURNEY)
    [journey_event] = run_backfill(
        request(page=journey_page), lister, MONITORED, 10, catalog=PINPOINT_CATALOG
    ).events
    assert isinstance(journey_event, PinpointResourceChanged)
    assert journey_event.data.operation == "ListJourneys"
    assert (journey_event.data.known.state, journey_event.data.known.event_name) == (
        "DRAFT",
        "signup",
    )


def test_an_unchanged_resource_backfills_the_same_way_every_time() -> None:
    modified = datetime(2026, 11, 22, 9, 30, 15, 123000, tzinfo=UTC)
    item = campaign_resource(APP_ID, pinpoint_id("c"), created=at(8), modified=modified)
    lister = FakeLister({(ResourceType.CAMPAIGN, APP_ID): [item]})
    page = BackfillPage(application_id=APP_ID, resource_type=ResourceType.CAMPAIGN)
    [first] = run_backfill(
        request(page=page), lister, MONITORED, 10, catalog=PINPOINT_CATALOG
    ).events
    later = CatalogBackfillRequested.new(
        BackfillRequest(page=page), correlation_id="backfill-2", event_id="backfill-event-2"
    )
    [second] = run_backfill(later, lister, MONITORED, 10, catalog=PINPOINT_CATALOG).events
    assert isinstance(first, PinpointResourceChanged)
    assert isinstance(second, PinpointResourceChanged)
    assert first.event_id != second.event_id  # two requests, two events...
    # ...that the catalog orders the same: CloudTrail's precision, a stable source id.
    assert first.data.event_time == second.data.event_time == modified.replace(microsecond=0)
    assert first.data.source_event_id == second.data.source_event_id


def test_bad_items_are_counted_and_the_rest_kept() -> None:
    good = campaign_resource(APP_ID, pinpoint_id("good"))
    undated = {**campaign_resource(APP_ID, pinpoint_id("undated"))}
    del undated["CreationDate"]
    undated["LastModifiedDate"] = "not a date"
    items = [good, {"Name": "no id"}, {"Id": "Not An Id"}, undated, "junk"]
    lister = FakeLister({(ResourceType.CAMPAIGN, APP_ID): items})
    page = BackfillPage(application_id=APP_ID, resource_type=ResourceType.CAMPAIGN)
    outcome = run_backfill(request(page=page), lister, MONITORED, 10, catalog=PINPOINT_CATALOG)
    assert len(outcome.events) == 1
    assert outcome.report.rejected == {
        "missing_resource_id": 1,
        "invalid_resource_id": 1,
        "missing_timestamp": 1,
        "wrong_type": 1,
    }


def test_pages_of_missing_or_unmonitored_projects_end_quietly() -> None:
    lister = FakeLister({})
    lister.missing.add(APP_ID)
    gone = BackfillPage(application_id=APP_ID, resource_type=ResourceType.SEGMENT)
    outcome = run_backfill(request(page=gone), lister, MONITORED, 10, catalog=PINPOINT_CATALOG)
    assert outcome.events == []
    assert outcome.report.missing_project == APP_ID

    stranger = BackfillPage(application_id=OTHER_APP_ID, resource_type=ResourceType.SEGMENT)
    outcome = run_backfill(request(page=stranger), lister, MONITORED, 10, catalog=PINPOINT_CATALOG)
    assert outcome.events == []
    assert outcome.report.ignored_projects == [OTHER_APP_ID]
    assert len(lister.calls) == 1  # an unmonitored project is never listed


def test_a_token_that_comes_back_unchanged_stops_the_paging() -> None:
    lister = FakeLister({})
    lister.stuck_token = "same"
    page = BackfillPage(application_id=APP_ID, resource_type=ResourceType.JOURNEY, token="same")
    outcome = run_backfill(request(page=page), lister, MONITORED, 10, catalog=PINPOINT_CATALOG)
    assert outcome.events == []
    assert outcome.report.repeated_token


def test_dates_without_a_zone_are_read_as_utc() -> None:
    item = segment_resource(APP_ID, SEGMENT_ID)
    item["LastModifiedDate"] = "2026-11-22T09:45:00"
    lister = FakeLister({(ResourceType.SEGMENT, APP_ID): [item]})
    page = BackfillPage(application_id=APP_ID, resource_type=ResourceType.SEGMENT)
    [event] = run_backfill(
        request(page=page), lister, MONITORED, 10, catalog=PINPOINT_CATALOG
    ).events
    assert isinstance(event, PinpointResourceChanged)
    assert event.data.event_time == at(9, 45)
    assert pinpoint_date(event.data.event_time) == "2026-11-22T09:45:00.000Z"
