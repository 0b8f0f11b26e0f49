"""log-ingester logic: which records count, how each operation maps, coalescing, ids, damage."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from contracts import (
    REGISTRY,
    ChangeAction,
    ChangeOrigin,
    CloudTrailApiCall,
    CloudTrailRecord,
    KnownAttributes,
    PinpointResourceChanged,
    ResourceType,
    S3ObjectCreated,
    SegmentType,
    derived_event_id,
)
from services.common.targets.catalog import Reject, Rejection, Skip
from services.common.targets.pinpoint.catalog import PINPOINT_CATALOG
from services.log_ingester.cloudtrail_reader import CloudTrailLogReader
from services.log_ingester.logic import (
    FileStatus,
    Ingested,
    ingest_api_call,
    ingest_log_file,
    is_log_file,
)
from services.log_ingester.records import change_from_raw
from tests.fixtures.cloudtrail import (
    APP_ID,
    CAMPAIGN_ID,
    JOURNEY_ID,
    OTHER_APP_ID,
    SEGMENT_ID,
    TRAIL_BUCKET,
    api_call_event,
    at,
    digest_key,
    event_id_for,
    log_file,
    log_file_key,
    noise_record,
    object_created_event,
    pinpoint_id,
    pinpoint_record,
)
from tests.unit.log_ingester.fakes import FakeLogFiles

MONITORED = (APP_ID, pinpoint_id("second-app"))
KEY = log_file_key(at(9, 5))


def ingest(records: list[dict[str, Any]], files: FakeLogFiles | None = None) -> Ingested:
    files = files or FakeLogFiles()
    files.put(TRAIL_BUCKET, KEY, log_file(records))
    return ingest_log_file(
        files, TRAIL_BUCKET, KEY, MONITORED, causation_id="s3-event-1", catalog=PINPOINT_CATALOG
    )


def one_change(record: dict[str, Any]) -> Any:
    return change_from_raw(
        record, MONITORED, ChangeOrigin.CLOUDTRAIL_FILE, 0, catalog=PINPOINT_CATALOG
    )


# ---------------------------------------------------------------------- keys


@pytest.mark.parametrize(
    ("key", "is_log"),
    [
        (log_file_key(), True),
        (log_file_key(prefix="trails/prod"), True),
        (digest_key(), False),
        ("AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2026/11/22/x.json.gz", False),
        ("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/22/x.json", False),
        ("exports/report.json.gz", False),
    ],
)
def test_only_cloudtrail_log_files_are_read(key: str, is_log: bool) -> None:
    assert is_log_file(key) is is_log


def test_url_encoded_keys_are_read_decoded() -> None:
    key = log_file_key(prefix="trail logs/prod+eu")
    event = REGISTRY.parse_as(object_created_event(TRAIL_BUCKET, key), S3ObjectCreated).detail
    assert event.object.key != key  # S3 sends it URL-encoded
    assert event.decoded_key == key
    files = FakeLogFiles({(TRAIL_BUCKET, key): log_file([pinpoint_record("CreateSegment")])})
    outcome = ingest_log_file(
        files, TRAIL_BUCKET, event.decoded_key, MONITORED, catalog=PINPOINT_CATALOG
    )
    assert outcome.status is FileStatus.READ
    assert len(outcome.events) == 1


def test_other_objects_are_skipped_without_being_opened() -> None:
    files = FakeLogFiles()
    outcome = ingest_log_file(
        files, TRAIL_BUCKET, digest_key(), MONITORED, catalog=PINPOINT_CATALOG
    )
    assert outcome.status is FileStatus.NOT_A_LOG_FILE
    assert outcome.events == []
    assert files.requests == []


# ---------------------------------------------------------------------- operations


@pytest.mark.parametrize(
    ("operation", "options", "resource_type", "action"),
    [
        ("CreateCampaign", {}, ResourceType.CAMPAIGN, ChangeAction.CREATED),
        ("UpdateCampaign", {"version": 2}, ResourceType.CAMPAIGN, ChangeAction.UPDATED),
        ("DeleteCampaign", {}, ResourceType.CAMPAIGN, ChangeAction.DELETED),
        ("CreateJourney", {}, ResourceType.JOURNEY, ChangeAction.CREATED),
        ("UpdateJourney", {}, ResourceType.JOURNEY, ChangeAction.UPDATED),
        ("UpdateJourneyState", {"state": "ACTIVE"}, ResourceType.JOURNEY, ChangeAction.UPDATED),
        ("DeleteJourney", {}, ResourceType.JOURNEY, ChangeAction.DELETED),
        ("CreateSegment", {}, ResourceType.SEGMENT, ChangeAction.CREATED),
        ("UpdateSegment", {"version": 3}, ResourceType.SEGMENT, ChangeAction.UPDATED),
        ("DeleteSegment", {}, ResourceType.SEGMENT, ChangeAction.DELETED),
        ("CreateImportJob", {}, ResourceType.SEGMENT, ChangeAction.CREATED),
        ("CreateImportJob", {"existing_segment": True}, ResourceType.SEGMENT, ChangeAction.UPDATED),
    ],
)
def test_each_operation_maps_to_its_resource_and_action(
    operation: str, options: dict[str, Any], resource_type: ResourceType, action: ChangeAction
) -> None:
    resource_id = pinpoint_id(f"{operation}-resource")
    record = pinpoint_record(operation, APP_ID, resource_id, at(9, 1, 7), **options)
    change = one_change(record)
    assert change.resource_type is resource_type
    assert change.action is action
    assert (change.application_id, change.resource_id) == (APP_ID, resource_id)
    assert change.operation == operation
    assert change.event_time == datetime(2026, 11, 22, 9, 1, 7, tzinfo=UTC)
    assert change.source_event_id == record["eventID"]
    assert change.origin is ChangeOrigin.CLOUDTRAIL_FILE


def test_ids_come_from_path_parameters_before_the_response() -> None:
    # Update and delete name the resource in the path; creates only in the response.
    update = pinpoint_record("UpdateSegment", APP_ID, SEGMENT_ID)
    update["responseElements"]["Id"] = "f" * 32
    assert one_change(update).resource_id == SEGMENT_ID
    dropped = pinpoint_record("DeleteCampaign", APP_ID, CAMPAIGN_ID, response_elements=None)
    assert one_change(dropped).resource_id == CAMPAIGN_ID
    no_path = pinpoint_record("UpdateJourney", APP_ID, JOURNEY_ID, request_parameters=None)
    change = one_change(no_path)  # CloudTrail dropped the request: the response names both
    assert (change.application_id, change.resource_id) == (APP_ID, JOURNEY_ID)


def test_campaign_attributes_come_from_the_response() -> None:
    record = pinpoint_record(
        "UpdateCampaign",
        APP_ID,
        CAMPAIGN_ID,
        at(9, 30),
        state="PAUSED",
        version=4,
        segment_version=2,
        event_type="purchase",
        created=at(8),
    )
    assert one_change(record).known == KnownAttributes(
        segment_id=SEGMENT_ID,
        segment_version=2,
        state="PAUSED",
        version=4,
        event_name="purchase",
        creation_date=at(8),
        last_modified_date=at(9, 30),
    )


def test_an_event_filter_without_an_event_type_names_no_event() -> None:
    record = pinpoint_record("CreateCampaign", APP_ID, CAMPAIGN_ID)
    record["responseElements"]["Schedule"] = {
        "Frequency": "EVENT",
        "EventFilter": {"FilterType": "ENDPOINT", "Dimensions": {"Attributes": {}}},
    }
    change = one_change(record)
    assert change.known.event_name is None
    assert change.known.segment_id == SEGMENT_ID


@pytest.mark.parametrize(
    ("options", "segment_id", "event_name"),
    [
        ({"segment_id": SEGMENT_ID}, SEGMENT_ID, None),
        ({"segment_id": SEGMENT_ID, "event_type": "signup"}, SEGMENT_ID, "signup"),
        ({"segment_id": None, "event_type": "signup"}, None, "signup"),
        ({"segment_id": None}, None, None),
    ],
)
def test_journey_start_conditions(
    options: dict[str, Any], segment_id: str | None, event_name: str | None
) -> None:
    record = pinpoint_record("CreateJourney", APP_ID, JOURNEY_ID, state="ACTIVE", **options)
    known = one_change(record).known
    assert (known.state, known.segment_id, known.event_name) == ("ACTIVE", segment_id, event_name)


def test_segment_and_imported_segment_attributes() -> None:
    segment = one_change(pinpoint_record("UpdateSegment", APP_ID, SEGMENT_ID, version=3))
    assert (segment.known.segment_type, segment.known.version) == (SegmentType.DIMENSIONAL, 3)
    imported = one_change(pinpoint_record("CreateImportJob", APP_ID, SEGMENT_ID))
    assert imported.known == KnownAttributes(segment_type=SegmentType.IMPORT)


def test_without_a_response_the_request_shows_what_it_can() -> None:
    record = pinpoint_record(
        "UpdateJourneyState", APP_ID, JOURNEY_ID, state="PAUSED", response_elements=None
    )
    assert one_change(record).known == KnownAttributes(state="PAUSED")
    campaign = pinpoint_record(
        "UpdateCampaign", APP_ID, CAMPAIGN_ID, event_type="login", response_elements=None
    )
    known = one_change(campaign).known
    assert (known.segment_id, known.event_name, known.creation_date) == (SEGMENT_ID, "login", None)


def test_unreadable_attributes_are_dropped_not_the_change() -> None:
    record = pinpoint_record("UpdateCampaign", APP_ID, CAMPAIGN_ID, version=2)
    record["responseElements"] |= {"Version": "two", "SegmentId": "not-an-id", "CreationDate": 7.5}
    record["responseElements"]["State"] = {"CampaignStatus": ""}
    known = one_change(record).known
    assert known.version is None
    assert known.segment_id is None
    assert known.state is None
    assert known.segment_version == 1


# ---------------------------------------------------------------------- which records count


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (noise_record("personalize.amazonaws.com", "CreateCampaign"), Skip.OTHER_SERVICE),
        (noise_record("evidently.amazonaws.com", "CreateSegment"), Skip.OTHER_SERVICE),
        (pinpoint_record("DeleteCampaign", error_code="NotFoundException"), Skip.FAILED_CALL),
        (pinpoint_record("CreateApp"), Skip.UNHANDLED_OPERATION),
        (pinpoint_record("DeleteEndpoint"), Skip.UNHANDLED_OPERATION),
        (pinpoint_record("CreateSegment", OTHER_APP_ID), Skip.UNMONITORED_APPLICATION),
        (
            pinpoint_record(
                "CreateImportJob",
                request_parameters={"application-id": APP_ID, "Format": "CSV"},
            ),
            Skip.IMPORT_WITHOUT_SEGMENT,
        ),
    ],
)
def test_records_that_are_not_catalog_changes_are_skipped(
    record: dict[str, Any], reason: Skip
) -> None:
    assert one_change(record) is reason


def _without(record: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in names}


@pytest.mark.parametrize(
    ("record", "reason", "fields"),
    [
        (_without(pinpoint_record("UpdateSegment"), "eventID"), Reject.MISSING_FIELD, ("eventID",)),
        (
            _without(pinpoint_record("UpdateSegment"), "eventTime", "eventSource"),
            Reject.MISSING_FIELD,
            ("eventSource", "eventTime"),
        ),
        (
            pinpoint_record("UpdateSegment") | {"eventTime": "yesterday"},
            Reject.WRONG_TYPE,
            ("eventTime",),
        ),
        (
            pinpoint_record("UpdateSegment") | {"requestParameters": ["a"]},
            Reject.WRONG_TYPE,
            ("requestParameters",),
        ),
        (pinpoint_record("CreateCampaign", response_elements=None), Reject.MISSING_RESPONSE, ()),
        (
            pinpoint_record("CreateImportJob", response_elements=None),
            Reject.MISSING_RESPONSE,
            (),
        ),
        (
            pinpoint_record("CreateSegment", response_elements={"ApplicationId": APP_ID}),
            Reject.MISSING_RESOURCE_ID,
            (),
        ),
        (
            pinpoint_record("DeleteSegment", request_parameters={"application-id": APP_ID})
            | {"responseElements": None},
            Reject.MISSING_RESOURCE_ID,
            (),
        ),
        (
            pinpoint_record("UpdateSegment", request_parameters={}, response_elements={}),
            Reject.MISSING_APPLICATION_ID,
            ("requestParameters",),
        ),
        (
            pinpoint_record("UpdateSegment", request_parameters={"application-id": 12}),
            Reject.INVALID_APPLICATION_ID,
            ("requestParameters",),
        ),
        (
            pinpoint_record(
                "UpdateSegment",
                request_parameters={"application-id": APP_ID, "segment-id": "Gold Customers"},
            ),
            Reject.INVALID_RESOURCE_ID,
            (),
        ),
        (
            pinpoint_record("UpdateSegment", event_id="e" * 300),
            Reject.WRONG_TYPE,
            ("source_event_id",),
        ),
    ],
)
def test_bad_records_are_rejected_with_a_reason_and_nothing_of_their_content(
    record: dict[str, Any], reason: Reject, fields: tuple[str, ...]
) -> None:
    rejection = one_change(record)
    assert isinstance(rejection, Rejection)
    assert (rejection.reason, rejection.fields) == (reason, fields)
    assert rejection.index == 0
    # What may be logged: the reason, position, operation, CloudTrail id and field names.
    logged = repr(rejection)
    assert "Gold Customers" not in logged
    assert "Dimensions" not in logged


def test_bad_records_amid_good_ones_do_not_stop_the_file() -> None:
    good = [
        pinpoint_record("CreateSegment", APP_ID, pinpoint_id(f"segment-{n}"), at(9, n))
        for n in range(3)
    ]
    records = [
        good[0],
        _without(pinpoint_record("UpdateSegment"), "eventID"),
        noise_record(),
        good[1],
        pinpoint_record("CreateCampaign", response_elements=None),
        pinpoint_record("CreateSegment", OTHER_APP_ID),
        pinpoint_record("UpdateCampaign", error_code="AccessDeniedException"),
        good[2],
    ]
    outcome = ingest(records)
    assert outcome.status is FileStatus.READ
    assert [event.data.resource_id for event in outcome.events] == [
        record["requestParameters"].get("segment-id") or record["responseElements"]["Id"]
        for record in good
    ]
    report = outcome.report
    assert report.records == 8
    assert report.rejected == {"missing_field": 1, "missing_response": 1}
    assert report.skipped == {"other_service": 1, "unmonitored_application": 1, "failed_call": 1}
    assert [(s.reason, s.index, s.event_name) for s in report.samples] == [
        (Reject.MISSING_FIELD, 1, "UpdateSegment"),
        (Reject.MISSING_RESPONSE, 4, "CreateCampaign"),
    ]


def test_elements_that_are_not_json_objects_are_rejected() -> None:
    good = pinpoint_record("CreateSegment", APP_ID, SEGMENT_ID)
    bad = '{"eventSource":"pinpoint.amazonaws.com",x}'
    text = '{"Records":[' + ",".join([json.dumps(good), bad, json.dumps(good)]) + "]}"
    files = FakeLogFiles({(TRAIL_BUCKET, KEY): gzip.compress(text.encode())})
    outcome = ingest_log_file(files, TRAIL_BUCKET, KEY, MONITORED, catalog=PINPOINT_CATALOG)
    assert outcome.report.rejected == {"invalid_json": 1}
    assert outcome.report.samples == [Rejection(Reject.INVALID_JSON, 1)]
    assert len(outcome.events) == 1
    assert outcome.events[0].data.records_coalesced == 2


# ---------------------------------------------------------------------- coalescing


def test_records_of_one_resource_become_one_change_the_latest_winning() -> None:
    created = pinpoint_record("CreateCampaign", APP_ID, CAMPAIGN_ID, at(9, 1), event_type="buy")
    paused = pinpoint_record("UpdateCampaign", APP_ID, CAMPAIGN_ID, at(9, 3), state="PAUSED")
    updated = pinpoint_record("UpdateCampaign", APP_ID, CAMPAIGN_ID, at(9, 2), version=2)
    other = pinpoint_record("UpdateSegment", APP_ID, SEGMENT_ID, at(9, 2))
    outcome = ingest([paused, other, created, updated])  # files have no order
    by_id = {event.data.resource_id: event.data for event in outcome.events}
    campaign = by_id[CAMPAIGN_ID]
    assert campaign.operation == "UpdateCampaign"
    assert campaign.action is ChangeAction.UPDATED
    assert campaign.source_event_id == paused["eventID"]
    assert campaign.records_coalesced == 3
    assert campaign.known.state == "PAUSED"
    assert campaign.known.event_name is None  # the latest schedule has no event: not merged
    assert by_id[SEGMENT_ID].records_coalesced == 1
    assert outcome.report.coalesced == 2
    assert [event.data.event_time for event in outcome.events] == [at(9, 2), at(9, 3)]


def test_a_delete_wins_when_it_is_the_latest_and_keeps_what_was_shown() -> None:
    created = pinpoint_record("CreateJourney", APP_ID, JOURNEY_ID, at(9, 1), state="ACTIVE")
    deleted = pinpoint_record("DeleteJourney", APP_ID, JOURNEY_ID, at(9, 4), response_elements=None)
    [event] = ingest([deleted, created]).events
    assert event.data.action is ChangeAction.DELETED
    assert event.data.records_coalesced == 2
    assert event.data.known.state == "ACTIVE"  # what CloudTrail last showed of it
    assert event.data.known.segment_id == SEGMENT_ID


def test_a_delete_that_is_not_the_latest_does_not_win() -> None:
    deleted = pinpoint_record("DeleteSegment", APP_ID, SEGMENT_ID, at(9, 1))
    recreated = pinpoint_record("UpdateSegment", APP_ID, SEGMENT_ID, at(9, 2), version=5)
    [event] = ingest([recreated, deleted]).events
    assert event.data.action is ChangeAction.UPDATED
    assert event.data.known.version == 5


def test_records_of_the_same_second_are_ordered_by_what_must_come_first() -> None:
    # CloudTrail keeps whole seconds: eventIDs are random, so they decide last.
    moment = at(9, 1)
    created = pinpoint_record("CreateCampaign", APP_ID, CAMPAIGN_ID, moment, event_id="ffff")
    updated = pinpoint_record("UpdateCampaign", APP_ID, CAMPAIGN_ID, moment, event_id="eeee")
    newer = pinpoint_record(
        "UpdateCampaign", APP_ID, CAMPAIGN_ID, moment, event_id="0000", version=2
    )
    deleted = pinpoint_record("DeleteCampaign", APP_ID, CAMPAIGN_ID, moment, event_id="1111")
    for records, winner in (
        ([created, updated], "eeee"),
        ([updated, newer], "0000"),
        ([deleted, created, newer], "1111"),
    ):
        for order in (records, records[::-1]):
            [event] = ingest(order).events
            assert event.data.source_event_id == winner


def test_same_second_updates_without_versions_are_ordered_by_event_id() -> None:
    first = pinpoint_record("UpdateJourney", APP_ID, JOURNEY_ID, at(9, 1), event_id="aaaa-1")
    second = pinpoint_record("UpdateJourney", APP_ID, JOURNEY_ID, at(9, 1), event_id="bbbb-2")
    for order in ([first, second], [second, first]):
        [event] = ingest(order).events
        assert event.data.source_event_id == "bbbb-2"


# ---------------------------------------------------------------------- ids


def test_the_same_write_on_both_paths_gets_the_same_event_id() -> None:
    earlier = pinpoint_record("UpdateCampaign", APP_ID, CAMPAIGN_ID, at(9, 1), version=2)
    latest = pinpoint_record("UpdateCampaign", APP_ID, CAMPAIGN_ID, at(9, 2), version=3)
    live = [
        ingest_api_call(
            REGISTRY.parse_as(api_call_event(record), CloudTrailApiCall).detail,
            MONITORED,
            causation_id="api-event",
            catalog=PINPOINT_CATALOG,
        ).events[0]
        for record in (earlier, latest)
    ]
    [from_file] = ingest([latest, earlier]).events
    assert from_file.event_id == live[1].event_id != live[0].event_id
    assert from_file.event_id == derived_event_id("cloudtrail", latest["eventID"])
    assert from_file.data.origin is ChangeOrigin.CLOUDTRAIL_FILE
    assert live[1].data.origin is ChangeOrigin.CLOUDTRAIL_EVENT
    assert (from_file.data.records_coalesced, live[1].data.records_coalesced) == (2, 1)


def test_a_redelivered_file_publishes_the_same_events() -> None:
    records = [
        pinpoint_record("CreateSegment", APP_ID, SEGMENT_ID, at(9, 1)),
        pinpoint_record("UpdateJourney", APP_ID, JOURNEY_ID, at(9, 2)),
    ]
    first, again = ingest(records).events, ingest(records).events
    assert [e.model_dump() for e in first] == [e.model_dump() for e in again]


def test_change_events_carry_their_moment_and_cause() -> None:
    record = pinpoint_record("UpdateSegment", APP_ID, SEGMENT_ID, at(9, 7))
    [event] = ingest([record]).events
    assert isinstance(event, PinpointResourceChanged)
    assert event.metadata.occurred_at == at(9, 7)
    assert event.metadata.causation_id == "s3-event-1"
    assert event.metadata.correlation_id == event.event_id
    assert event.metadata.producer == "log-ingester"


# ---------------------------------------------------------------------- API-call events


def test_an_api_call_event_is_one_change_or_a_counted_skip() -> None:
    call = REGISTRY.parse_as(
        api_call_event(pinpoint_record("DeleteSegment", APP_ID, SEGMENT_ID)), CloudTrailApiCall
    ).detail
    outcome = ingest_api_call(call, MONITORED, catalog=PINPOINT_CATALOG)
    [event] = outcome.events
    assert event.data.action is ChangeAction.DELETED
    assert event.data.origin is ChangeOrigin.CLOUDTRAIL_EVENT
    assert (outcome.report.records, outcome.report.changes) == (1, 1)

    unmonitored = CloudTrailRecord.model_validate(pinpoint_record("CreateSegment", OTHER_APP_ID))
    skipped = ingest_api_call(unmonitored, MONITORED, catalog=PINPOINT_CATALOG)
    assert skipped.events == []
    assert skipped.report.skipped == {"unmonitored_application": 1}

    no_response = CloudTrailRecord.model_validate(
        pinpoint_record("CreateJourney", response_elements=None)
    )
    rejected = ingest_api_call(no_response, MONITORED, catalog=PINPOINT_CATALOG)
    assert rejected.events == []
    assert rejected.report.rejected == {"missing_response": 1}
    assert rejected.report.samples[0].event_id == no_response.event_id


# ---------------------------------------------------------------------- damaged and missing files


def test_a_corrupt_file_is_reported_and_what_was_read_is_kept() -> None:
    records = [
        pinpoint_record("CreateSegment", APP_ID, pinpoint_id(f"s{n}"), at(9, 0, n))
        for n in range(60)
    ]
    whole = log_file(records)
    files = FakeLogFiles({(TRAIL_BUCKET, KEY): whole[: len(whole) * 2 // 3]})
    outcome = ingest_log_file(
        files,
        TRAIL_BUCKET,
        KEY,
        MONITORED,
        reader=partial(CloudTrailLogReader, chunk_bytes=1024),
        catalog=PINPOINT_CATALOG,
    )
    assert outcome.status is FileStatus.CORRUPT
    assert outcome.report.corrupt is not None
    assert "truncated" in outcome.report.corrupt
    assert 0 < len(outcome.events) < 60
    assert all(stream.closed for stream in files.opened)


@pytest.mark.parametrize(
    "body", [b"", b"plain text", gzip.compress(b"[]"), gzip.compress(b'{"Records": 5}')]
)
def test_files_that_are_not_cloudtrail_logs_are_corrupt_not_errors(body: bytes) -> None:
    files = FakeLogFiles({(TRAIL_BUCKET, KEY): body})
    outcome = ingest_log_file(files, TRAIL_BUCKET, KEY, MONITORED, catalog=PINPOINT_CATALOG)
    assert outcome.status is FileStatus.CORRUPT
    assert outcome.events == []


def test_a_missing_file_is_reported_as_missing() -> None:
    outcome = ingest_log_file(
        FakeLogFiles(), TRAIL_BUCKET, KEY, MONITORED, catalog=PINPOINT_CATALOG
    )
    assert outcome.status is FileStatus.MISSING
    assert outcome.events == []


def test_source_errors_propagate_so_the_message_is_retried() -> None:
    files = FakeLogFiles({(TRAIL_BUCKET, KEY): log_file([pinpoint_record("CreateSegment")])})
    files.error = TimeoutError("read timed out")
    with pytest.raises(TimeoutError):
        ingest_log_file(files, TRAIL_BUCKET, KEY, MONITORED, catalog=PINPOINT_CATALOG)


def test_the_body_is_closed_after_reading() -> None:
    files = FakeLogFiles({(TRAIL_BUCKET, KEY): log_file([noise_record()])})
    ingest_log_file(files, TRAIL_BUCKET, KEY, MONITORED, catalog=PINPOINT_CATALOG)
    assert files.requests == [(TRAIL_BUCKET, KEY)]
    assert files.opened[0].closed


def test_the_fixture_event_ids_are_stable() -> None:
    assert event_id_for("x") == event_id_for("x") != event_id_for("y")
