"""CloudTrail records of emulated calls: shape, masking, log files and EventBridge events."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from infra.local.clock import VirtualClock
from infra.local.pinpoint import CloudTrailRecorder, PinpointEmulator
from infra.local.pinpoint.cloudtrail import log_file_key
from tests.fixtures.emulator_tests import ACCOUNT, REGION, TRAIL_BUCKET

from .conftest import checked_client

KEY_PATTERN = re.compile(
    rf"^AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/\d{{4}}/\d{{2}}/\d{{2}}/"
    rf"{ACCOUNT}_CloudTrail_{REGION}_\d{{8}}T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz$"
)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def client(recording_emulator: PinpointEmulator) -> Any:
    return checked_client()


def make_campaign(client: Any) -> tuple[str, str, str]:
    app_id = client.create_app(CreateApplicationRequest={"Name": "shop"})["ApplicationResponse"][
        "Id"
    ]
    segment_id = client.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={
            "Name": "vip",
            "Dimensions": {"Attributes": {"Name": {"AttributeType": "INCLUSIVE", "Values": ["x"]}}},
        },
    )["SegmentResponse"]["Id"]
    campaign_id = client.create_campaign(
        ApplicationId=app_id,
        WriteCampaignRequest={
            "Name": "Black Friday",
            "Description": "secret plans",
            "SegmentId": segment_id,
            "Schedule": {"StartTime": "IMMEDIATE"},
            "MessageConfiguration": {"DefaultMessage": {"Body": "50% off"}},
        },
    )["CampaignResponse"]["Id"]
    return app_id, segment_id, campaign_id


def test_write_call_record_shape_and_masking(client: Any, recorder: CloudTrailRecorder) -> None:
    app_id, segment_id, campaign_id = make_campaign(client)
    client.get_campaign(ApplicationId=app_id, CampaignId=campaign_id)  # reads are not logged
    assert [r["eventName"] for r in recorder.records] == [
        "CreateApp",
        "CreateSegment",
        "CreateCampaign",
    ]
    record = recorder.records[2]
    assert record["eventVersion"] == "1.08"
    assert record["eventTime"] == "2026-11-02T10:00:00Z"
    assert record["eventSource"] == "pinpoint.amazonaws.com"
    assert record["awsRegion"] == REGION
    assert record["recipientAccountId"] == ACCOUNT
    assert record["readOnly"] is False
    assert record["eventType"] == "AwsApiCall"
    assert record["managementEvent"] is True
    assert record["eventCategory"] == "Management"
    assert record["userIdentity"]["type"] == "IAMUser"
    assert record["userIdentity"]["accountId"] == ACCOUNT
    assert record["userAgent"].startswith("Boto3/")
    assert record["sourceIPAddress"]
    assert UUID.match(record["eventID"])
    assert UUID.match(record["requestID"])
    assert "errorCode" not in record

    request = record["requestParameters"]
    assert request["application-id"] == app_id
    assert request["Name"] == "***"
    assert request["Description"] == "***"
    assert request["MessageConfiguration"] == "***"
    assert request["SegmentId"] == segment_id
    assert request["Schedule"] == {"StartTime": "IMMEDIATE"}

    response = record["responseElements"]
    assert response["Id"] == campaign_id
    assert response["ApplicationId"] == app_id
    assert response["Name"] == "***"
    assert response["MessageConfiguration"] == "***"
    assert response["State"] == {"CampaignStatus": "SCHEDULED"}
    assert (response["Version"], response["SegmentVersion"]) == (1, 1)
    assert response["CreationDate"] == "2026-11-02T10:00:00.000Z"

    # A custom attribute *called* "Name" in segment dimensions is data, not free text.
    segment_record = recorder.records[1]
    dimensions = segment_record["requestParameters"]["Dimensions"]["Attributes"]
    assert dimensions == {"Name": {"AttributeType": "INCLUSIVE", "Values": ["x"]}}
    assert segment_record["requestParameters"]["Name"] == "***"


def test_path_parameters_are_hyphenated(client: Any, recorder: CloudTrailRecorder) -> None:
    app_id, segment_id, campaign_id = make_campaign(client)
    client.update_segment(
        ApplicationId=app_id, SegmentId=segment_id, WriteSegmentRequest={"Name": "vip2"}
    )
    journey_id = client.create_journey(
        ApplicationId=app_id, WriteJourneyRequest={"Name": "j", "State": "ACTIVE"}
    )["JourneyResponse"]["Id"]
    client.update_journey_state(
        ApplicationId=app_id, JourneyId=journey_id, JourneyStateRequest={"State": "CANCELLED"}
    )
    client.delete_journey(ApplicationId=app_id, JourneyId=journey_id)
    client.delete_campaign(ApplicationId=app_id, CampaignId=campaign_id)
    by_name = {r["eventName"]: r["requestParameters"] for r in recorder.records}
    assert by_name["UpdateSegment"]["segment-id"] == segment_id
    assert by_name["UpdateJourneyState"] == {
        "application-id": app_id,
        "journey-id": journey_id,
        "State": "CANCELLED",
    }
    assert by_name["DeleteJourney"] == {"application-id": app_id, "journey-id": journey_id}
    assert by_name["DeleteCampaign"] == {"application-id": app_id, "campaign-id": campaign_id}
    deleted = next(r for r in recorder.records if r["eventName"] == "DeleteCampaign")
    assert deleted["responseElements"]["Id"] == campaign_id


def test_failed_calls_are_recorded_with_error(client: Any, recorder: CloudTrailRecorder) -> None:
    app_id = client.create_app(CreateApplicationRequest={"Name": "a"})["ApplicationResponse"]["Id"]
    with pytest.raises(client.exceptions.NotFoundException):
        client.delete_campaign(ApplicationId=app_id, CampaignId="gone")
    record = recorder.records[-1]
    assert record["eventName"] == "DeleteCampaign"
    assert record["errorCode"] == "NotFoundException"
    assert record["errorMessage"] == "Resource not found"
    assert record["responseElements"] is None
    assert record["requestParameters"]["campaign-id"] == "gone"


def test_endpoint_calls_and_reads_are_not_logged(client: Any, recorder: CloudTrailRecorder) -> None:
    app_id = client.create_app(CreateApplicationRequest={"Name": "a"})["ApplicationResponse"]["Id"]
    client.update_endpoint(ApplicationId=app_id, EndpointId="e", EndpointRequest={"Address": "x"})
    client.update_endpoints_batch(
        ApplicationId=app_id, EndpointBatchRequest={"Item": [{"Id": "f", "Address": "y"}]}
    )
    client.get_endpoint(ApplicationId=app_id, EndpointId="e")
    client.get_apps()
    client.delete_endpoint(ApplicationId=app_id, EndpointId="e")  # a logged write
    assert [r["eventName"] for r in recorder.records] == ["CreateApp", "DeleteEndpoint"]


def test_reads_can_be_recorded_as_read_only(client: Any, recorder: CloudTrailRecorder) -> None:
    recorder.record_reads = True
    client.get_apps(PageSize="5")
    record = recorder.records[-1]
    assert record["eventName"] == "GetApps"
    assert record["readOnly"] is True
    assert record["requestParameters"] == {"page-size": "5"}


def test_disabled_recorder_emits_nothing(client: Any, recorder: CloudTrailRecorder) -> None:
    recorder.enabled = False
    make_campaign(client)
    assert recorder.records == []
    assert not recorder.busy()
    assert recorder.flush_all() == []


def test_oversized_elements_are_dropped(client: Any, recorder: CloudTrailRecorder) -> None:
    app_id = client.create_app(CreateApplicationRequest={"Name": "a"})["ApplicationResponse"]["Id"]
    values = [f"{n:04d}" + "x" * 996 for n in range(110)]  # ~110 KB of dimension values
    client.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={
            "Name": "big",
            "Dimensions": {"Attributes": {"a": {"AttributeType": "INCLUSIVE", "Values": values}}},
        },
    )
    record = recorder.records[-1]
    assert record["requestParameters"] is None
    assert record["responseElements"] is None


def read_log(key: str) -> list[dict[str, Any]]:
    body = boto3.client("s3", region_name=REGION).get_object(Bucket=TRAIL_BUCKET, Key=key)["Body"]
    records: list[dict[str, Any]] = json.loads(gzip.decompress(body.read()))["Records"]
    return records


def test_log_files_follow_the_cadence(
    client: Any,
    recording_emulator: PinpointEmulator,
    recorder: CloudTrailRecorder,
    clock: VirtualClock,
) -> None:
    make_campaign(client)  # 3 records at 10:00:00
    clock.advance(299)
    recording_emulator.tick()
    assert recorder.delivered_keys == []
    assert recording_emulator.busy()
    client.create_app(CreateApplicationRequest={"Name": "later"})  # 10:04:59, same window

    clock.advance(1)  # 10:05:00: the first window closes
    recording_emulator.tick()
    assert len(recorder.delivered_keys) == 1
    key = recorder.delivered_keys[0]
    assert KEY_PATTERN.match(key), key
    assert "/2026/11/02/" in key
    assert "_20261102T1005Z_" in key
    records = read_log(key)
    assert sorted(r["eventName"] for r in records) == [
        "CreateApp",
        "CreateApp",
        "CreateCampaign",
        "CreateSegment",
    ]
    assert not recording_emulator.busy()

    client.create_app(CreateApplicationRequest={"Name": "flushed"})
    assert recording_emulator.busy()
    [flushed] = recorder.flush_all()
    assert [r["eventName"] for r in read_log(flushed)] == ["CreateApp"]
    assert not recording_emulator.busy()


def test_log_file_key_with_prefix() -> None:
    moment = datetime(2026, 1, 5, 23, 59, 30, tzinfo=UTC)
    key = log_file_key("/trails/", ACCOUNT, REGION, moment, "A" * 16)
    assert key == (
        f"trails/AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/01/05/"
        f"{ACCOUNT}_CloudTrail_{REGION}_20260105T2359Z_{'A' * 16}.json.gz"
    )


def test_records_in_a_file_are_shuffled(client: Any, recorder: CloudTrailRecorder) -> None:
    for n in range(12):
        client.create_app(CreateApplicationRequest={"Name": f"a{n}"})
    [key] = recorder.flush_all()
    ids_in_file = [r["eventID"] for r in read_log(key)]
    ids_in_order = [r["eventID"] for r in recorder.records]
    assert sorted(ids_in_file) == sorted(ids_in_order)
    assert ids_in_file != ids_in_order


def test_api_call_events_reach_sqs_through_a_default_bus_rule(
    client: Any, recorder: CloudTrailRecorder
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="catalog-ingest")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name="pinpoint-api-calls",
        EventPattern=json.dumps(
            {
                "detail-type": ["AWS API Call via CloudTrail"],
                "detail": {"eventSource": ["pinpoint.amazonaws.com"]},
            }
        ),
    )
    events.put_targets(Rule="pinpoint-api-calls", Targets=[{"Id": "q", "Arn": queue_arn}])

    app_id, _, campaign_id = make_campaign(client)
    client.get_campaign(ApplicationId=app_id, CampaignId=campaign_id)
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    bodies = [json.loads(m["Body"]) for m in messages]
    assert [b["detail"]["eventName"] for b in bodies] == [
        "CreateApp",
        "CreateSegment",
        "CreateCampaign",
    ]
    event = bodies[2]
    assert event["source"] == "aws.pinpoint"
    assert event["detail-type"] == "AWS API Call via CloudTrail"
    assert event["detail"] == recorder.records[2]
    assert event["time"] == "2026-11-02T10:00:00Z"
