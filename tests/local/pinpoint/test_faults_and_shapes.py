"""Fault injection, call counting, and a shape check of every operation's response."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config

from infra.local.clock import VirtualClock
from infra.local.pinpoint import CloudTrailRecorder, PinpointEmulator
from tests.fixtures.emulator_tests import ACCOUNT, REGION

from .conftest import DATA_BUCKET
from .shape_check import shape_errors


def test_throttle_then_succeed_with_botocore_retries(
    emulator: PinpointEmulator, pinpoint: Any, app_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _: None)
    emulator.faults.throttle(operation="GetApp", times=2)
    retrying = boto3.client(
        "pinpoint",
        region_name=REGION,
        config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
    )
    before = emulator.calls["GetApp"]
    response = retrying.get_app(ApplicationId=app_id)
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert emulator.calls["GetApp"] - before == 3
    assert emulator.faults.pending() == 0


def test_faults_surface_as_modeled_exceptions_without_retries(
    emulator: PinpointEmulator, pinpoint: Any, app_id: str
) -> None:
    emulator.faults.throttle(times=1)  # any operation
    with pytest.raises(pinpoint.exceptions.TooManyRequestsException) as throttled:
        pinpoint.get_segments(ApplicationId=app_id)
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429

    emulator.faults.server_error(operation="GetCampaigns", times=1)
    pinpoint.get_segments(ApplicationId=app_id)  # not the faulted operation
    with pytest.raises(pinpoint.exceptions.InternalServerErrorException) as failed:
        pinpoint.get_campaigns(ApplicationId=app_id)
    assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    pinpoint.get_campaigns(ApplicationId=app_id)  # the fault was used up
    assert emulator.calls["GetCampaigns"] == 2
    assert emulator.calls["GetSegments"] == 2


def test_server_errors_are_retried_too(
    emulator: PinpointEmulator, app_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _: None)
    emulator.faults.server_error(operation="GetApps", times=1)
    client = boto3.client("pinpoint", region_name=REGION)  # default retry settings
    client.get_apps()
    assert emulator.calls["GetApps"] == 2


def test_faulted_writes_are_recorded_as_failed_calls(
    aws: None, clock: VirtualClock, recorder: CloudTrailRecorder
) -> None:
    with PinpointEmulator(clock, REGION, ACCOUNT, recorder=recorder) as emulator:
        client = boto3.client(
            "pinpoint", region_name=REGION, config=Config(retries={"total_max_attempts": 1})
        )
        emulator.faults.throttle(operation="CreateApp")
        with pytest.raises(client.exceptions.TooManyRequestsException):
            client.create_app(CreateApplicationRequest={"Name": "x"})
    [record] = recorder.records
    assert record["errorCode"] == "TooManyRequestsException"
    assert record["responseElements"] is None


def test_other_regions_are_not_answered(emulator: PinpointEmulator) -> None:
    other = boto3.client("pinpoint", region_name="eu-west-1")
    response = other.create_app(CreateApplicationRequest={"Name": "moto's"})
    created: object = response["ApplicationResponse"]["CreationDate"]
    assert isinstance(created, float)  # moto answered (Pinpoint's model says a string)
    assert emulator.calls["CreateApp"] == 0


def test_every_operation_response_matches_its_output_shape(
    emulator: PinpointEmulator, clock: VirtualClock
) -> None:
    client = boto3.client("pinpoint", region_name=REGION)
    checked: set[str] = set()
    problems: list[str] = []

    def check(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if http_response.status_code < 300:
            checked.add(model.name)
            problems.extend(shape_errors(model, parsed))

    client.meta.events.register("after-call.pinpoint", check)
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=DATA_BUCKET,
        Key="in.csv",
        Body="Id,Address,ChannelType,User.UserId\ne,a@x.io,EMAIL,u\n",
    )

    app = client.create_app(CreateApplicationRequest={"Name": "all", "tags": {"k": "v"}})
    app_id = app["ApplicationResponse"]["Id"]
    client.get_app(ApplicationId=app_id)
    client.get_apps()
    seg = client.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={
            "Name": "s",
            "SegmentGroups": {
                "Include": "ALL",
                "Groups": [
                    {
                        "Type": "ANY",
                        "Dimensions": [{"Demographic": {"Platform": {"Values": ["ios"]}}}],
                    }
                ],
            },
            "tags": {"k": "v"},
        },
    )["SegmentResponse"]["Id"]
    client.get_segment(ApplicationId=app_id, SegmentId=seg)
    client.get_segments(ApplicationId=app_id)
    client.update_segment(ApplicationId=app_id, SegmentId=seg, WriteSegmentRequest={"Name": "s2"})
    client.get_segment_version(ApplicationId=app_id, SegmentId=seg, Version="1")
    client.get_segment_versions(ApplicationId=app_id, SegmentId=seg)
    camp = client.create_campaign(
        ApplicationId=app_id,
        WriteCampaignRequest={
            "Name": "c",
            "SegmentId": seg,
            "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
            "MessageConfiguration": {"EmailMessage": {"Title": "t", "Body": "b"}},
            "Limits": {"Daily": 1},
            "HoldoutPercent": 5,
            "AdditionalTreatments": [{"SizePercent": 10, "TreatmentName": "B"}],
            "tags": {"k": "v"},
        },
    )["CampaignResponse"]["Id"]
    client.get_campaign(ApplicationId=app_id, CampaignId=camp)
    client.get_campaigns(ApplicationId=app_id)
    client.update_campaign(
        ApplicationId=app_id, CampaignId=camp, WriteCampaignRequest={"Name": "c2"}
    )
    client.get_campaign_version(ApplicationId=app_id, CampaignId=camp, Version="1")
    client.get_campaign_versions(ApplicationId=app_id, CampaignId=camp)
    journey = client.create_journey(
        ApplicationId=app_id,
        WriteJourneyRequest={
            "Name": "j",
            "Schedule": {"StartTime": clock.now(), "Timezone": "UTC"},
            "Activities": {
                "split": {
                    "ConditionalSplit": {
                        "Condition": {
                            "Conditions": [
                                {"SegmentDimensions": {"Attributes": {"a": {"Values": ["1"]}}}}
                            ],
                            "Operator": "ALL",
                        },
                        "TrueActivity": "end",
                    }
                },
                "end": {"Wait": {"WaitTime": {"WaitFor": "PT1H"}}},
            },
            "StartActivity": "split",
            "RefreshFrequency": "PT1H",
        },
    )["JourneyResponse"]
    assert journey["Schedule"]["StartTime"] == clock.now()
    condition = journey["Activities"]["split"]["ConditionalSplit"]["Condition"]["Conditions"][0]
    assert condition["SegmentDimensions"] == {"Attributes": {"a": {"Values": ["1"]}}}
    jid = journey["Id"]
    client.get_journey(ApplicationId=app_id, JourneyId=jid)
    client.list_journeys(ApplicationId=app_id)
    client.update_journey(
        ApplicationId=app_id, JourneyId=jid, WriteJourneyRequest={"Name": "j", "State": "ACTIVE"}
    )
    client.update_journey_state(
        ApplicationId=app_id, JourneyId=jid, JourneyStateRequest={"State": "CANCELLED"}
    )
    client.update_endpoint(
        ApplicationId=app_id,
        EndpointId="x",
        EndpointRequest={"ChannelType": "SMS", "Address": "+1", "User": {"UserId": "u"}},
    )
    client.update_endpoints_batch(
        ApplicationId=app_id, EndpointBatchRequest={"Item": [{"Id": "y", "Address": "+2"}]}
    )
    client.get_endpoint(ApplicationId=app_id, EndpointId="x")
    client.get_user_endpoints(ApplicationId=app_id, UserId="u")
    client.delete_endpoint(ApplicationId=app_id, EndpointId="y")
    job = client.create_import_job(
        ApplicationId=app_id,
        ImportJobRequest={
            "Format": "CSV",
            "S3Url": f"s3://{DATA_BUCKET}/in.csv",
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "DefineSegment": True,
            "SegmentName": "imp",
            "ExternalId": "ext",
        },
    )["ImportJobResponse"]
    while emulator.busy():
        clock.advance(5)
        emulator.tick()
    client.get_import_job(ApplicationId=app_id, JobId=job["Id"])
    client.get_import_jobs(ApplicationId=app_id)
    client.get_segment_import_jobs(ApplicationId=app_id, SegmentId=job["Definition"]["SegmentId"])
    client.get_segment(ApplicationId=app_id, SegmentId=job["Definition"]["SegmentId"])
    client.delete_user_endpoints(ApplicationId=app_id, UserId="u")
    client.delete_journey(ApplicationId=app_id, JourneyId=jid)
    client.delete_campaign(ApplicationId=app_id, CampaignId=camp)
    client.delete_segment(ApplicationId=app_id, SegmentId=seg)
    client.delete_app(ApplicationId=app_id)

    assert problems == []
    assert checked == emulator.operation_names
