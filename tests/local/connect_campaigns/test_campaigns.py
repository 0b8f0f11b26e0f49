"""The outbound campaigns v2 emulator through plain boto3: campaigns, states, CloudTrail, shapes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from infra.local.clock import VirtualClock
from infra.local.cloudtrail import CloudTrailRecorder
from infra.local.connect_campaigns import ConnectCampaignsEmulator
from tests.local.pinpoint.shape_check import shape_errors

REGION = "us-east-1"
ACCOUNT = "123456789012"
INSTANCE = "8f2e3a1c-0d4b-4b7e-9c55-3f1a2b6c7d8e"
START = datetime(2026, 11, 2, 10, 0, 0, tzinfo=UTC)
SEGMENT_ARN = f"arn:aws:profile:{REGION}:{ACCOUNT}:domains/shop/segment-definitions/gold"
DOMAIN_ARN = f"arn:aws:profile:{REGION}:{ACCOUNT}:domains/shop"
FLOW_ARN = f"arn:aws:connect:{REGION}:{ACCOUNT}:instance/{INSTANCE}/contact-flow/journey-1"
EMAIL = {
    "email": {
        "outboundMode": {"agentless": {}},
        "defaultOutboundConfig": {
            "connectSourceEmailAddress": "news@shop.example",
            "wisdomTemplateArn": f"arn:aws:wisdom:{REGION}:{ACCOUNT}:message-template/t/1",
        },
    }
}


@pytest.fixture(scope="module")
def moto_mock() -> Iterator[Any]:
    with mock_aws() as mock:
        yield mock


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
def recorder(moto_mock: Any, clock: VirtualClock) -> CloudTrailRecorder:
    moto_mock.reset()
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="trail")
    return CloudTrailRecorder(clock=clock, bucket="trail", region=REGION, account_id=ACCOUNT)


@pytest.fixture
def emulator(
    clock: VirtualClock, recorder: CloudTrailRecorder
) -> Iterator[ConnectCampaignsEmulator]:
    with ConnectCampaignsEmulator(
        clock=clock, region=REGION, account_id=ACCOUNT, recorder=recorder, instance_ids=(INSTANCE,)
    ) as emu:
        yield emu


@pytest.fixture
def checked() -> set[str]:
    return set()


@pytest.fixture
def campaigns(emulator: ConnectCampaignsEmulator, checked: set[str]) -> Any:
    client = boto3.client(
        "connectcampaignsv2",
        region_name=REGION,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )

    def check(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if http_response.status_code < 300:
            errors = shape_errors(model, parsed)
            assert not errors, f"{model.name} response does not match its shape: {errors}"
            checked.add(model.name)

    client.meta.events.register("after-call.connectcampaignsv2", check)
    return client


def managed(client: Any, name: str = "Black Friday", **extra: Any) -> str:
    response = client.create_campaign(
        name=name,
        connectInstanceId=INSTANCE,
        channelSubtypeConfig=EMAIL,
        source={"customerProfilesSegmentArn": SEGMENT_ARN},
        **extra,
    )
    return str(response["id"])


def test_lifecycle_rename_pause_resume_stop_delete(campaigns: Any) -> None:
    campaign_id = managed(campaigns)
    described = campaigns.describe_campaign(id=campaign_id)["campaign"]
    assert described["type"] == "MANAGED"
    assert described["source"] == {"customerProfilesSegmentArn": SEGMENT_ARN}
    assert described["arn"].endswith(f":campaign/{campaign_id}")
    assert campaigns.get_campaign_state(id=campaign_id)["state"] == "Initialized"

    campaigns.update_campaign_name(id=campaign_id, name="Cyber Monday")
    assert campaigns.describe_campaign(id=campaign_id)["campaign"]["name"] == "Cyber Monday"

    with pytest.raises(campaigns.exceptions.InvalidCampaignStateException) as early:
        campaigns.pause_campaign(id=campaign_id)
    assert early.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert early.value.response["state"] == "Initialized"
    campaigns.start_campaign(id=campaign_id)
    campaigns.pause_campaign(id=campaign_id)
    assert campaigns.get_campaign_state(id=campaign_id)["state"] == "Paused"
    with pytest.raises(campaigns.exceptions.InvalidCampaignStateException):
        campaigns.start_campaign(id=campaign_id)
    campaigns.resume_campaign(id=campaign_id)
    campaigns.stop_campaign(id=campaign_id)
    with pytest.raises(campaigns.exceptions.InvalidCampaignStateException):
        campaigns.resume_campaign(id=campaign_id)
    campaigns.delete_campaign(id=campaign_id)
    with pytest.raises(campaigns.exceptions.ResourceNotFoundException):
        campaigns.describe_campaign(id=campaign_id)


def test_journeys_event_triggers_and_validation(campaigns: Any) -> None:
    journey = campaigns.create_campaign(
        name="Welcome journey",
        connectInstanceId=INSTANCE,
        type="JOURNEY",
        connectCampaignFlowArn=FLOW_ARN,
        source={"eventTrigger": {"customerProfilesDomainArn": DOMAIN_ARN}},
    )["id"]
    assert campaigns.describe_campaign(id=journey)["campaign"]["type"] == "JOURNEY"
    with pytest.raises(campaigns.exceptions.ValidationException):
        campaigns.create_campaign(name="x", connectInstanceId=INSTANCE, type="JOURNEY")
    with pytest.raises(campaigns.exceptions.ValidationException):
        campaigns.create_campaign(name="x", connectInstanceId=INSTANCE)  # MANAGED, no channel
    with pytest.raises(campaigns.exceptions.ValidationException) as long_name:
        managed(campaigns, name="n" * 128)
    assert "length less than or equal to 127" in str(long_name.value)
    with pytest.raises(campaigns.exceptions.ValidationException):
        campaigns.create_campaign(
            name="x",
            connectInstanceId=INSTANCE,
            channelSubtypeConfig=EMAIL,
            source={"customerProfilesSegmentArn": "not-an-arn-but-long-enough"},
        )
    with pytest.raises(campaigns.exceptions.ResourceNotFoundException):
        campaigns.create_campaign(
            name="x", connectInstanceId="unknown-instance", channelSubtypeConfig=EMAIL
        )


def test_list_paging_instance_filter_and_state_batch(
    emulator: ConnectCampaignsEmulator, campaigns: Any
) -> None:
    emulator.add_instance("other-instance")
    ids = [managed(campaigns, name=f"c{n}") for n in range(3)]
    campaigns.create_campaign(
        name="elsewhere", connectInstanceId="other-instance", channelSubtypeConfig=EMAIL
    )
    page = campaigns.list_campaigns(
        maxResults=2, filters={"instanceIdFilter": {"value": INSTANCE, "operator": "Eq"}}
    )
    rest = campaigns.list_campaigns(
        nextToken=page["nextToken"],
        filters={"instanceIdFilter": {"value": INSTANCE, "operator": "Eq"}},
    )
    listed = page["campaignSummaryList"] + rest["campaignSummaryList"]
    assert [c["id"] for c in listed] == ids
    assert listed[0]["channelSubtypes"] == ["EMAIL"]
    assert len(campaigns.list_campaigns()["campaignSummaryList"]) == 4
    campaigns.start_campaign(id=ids[0])
    batch = campaigns.get_campaign_state_batch(campaignIds=[ids[0], ids[1], "missing"])
    assert batch["successfulRequests"] == [
        {"campaignId": ids[0], "state": "Running"},
        {"campaignId": ids[1], "state": "Initialized"},
    ]
    assert batch["failedRequests"] == [{"campaignId": "missing", "failureCode": "ResourceNotFound"}]
    with pytest.raises(campaigns.exceptions.ValidationException):
        campaigns.get_campaign_state_batch(campaignIds=[f"id{n}" for n in range(26)])


def test_a_schedule_that_ends_completes_the_campaign(
    emulator: ConnectCampaignsEmulator, campaigns: Any, clock: VirtualClock
) -> None:
    campaign_id = managed(
        campaigns,
        schedule={"startTime": clock.now(), "endTime": clock.now() + timedelta(hours=1)},
    )
    campaigns.start_campaign(id=campaign_id)
    clock.advance(3600)
    emulator.tick()
    assert campaigns.get_campaign_state(id=campaign_id)["state"] == "Completed"


def test_writes_reach_the_trail_masked_and_faults(
    emulator: ConnectCampaignsEmulator, campaigns: Any, recorder: CloudTrailRecorder
) -> None:
    campaign_id = managed(campaigns)
    campaigns.describe_campaign(id=campaign_id)  # a read: not logged
    campaigns.update_campaign_name(id=campaign_id, name="Renamed")
    campaigns.delete_campaign(id=campaign_id)
    assert [r["eventName"] for r in recorder.records] == [
        "CreateCampaign",
        "UpdateCampaignName",
        "DeleteCampaign",
    ]
    created = recorder.records[0]
    assert created["eventSource"] == "connect-campaigns.amazonaws.com"
    assert created["requestParameters"]["name"] == "Black Friday"
    email = created["requestParameters"]["channelSubtypeConfig"]["email"]
    assert email["defaultOutboundConfig"]["connectSourceEmailAddress"] == (
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    )
    assert created["responseElements"]["id"] == campaign_id
    assert recorder.records[1]["requestParameters"] == {"id": campaign_id, "name": "Renamed"}
    assert recorder.records[2]["responseElements"] is None

    emulator.faults.throttle("DescribeCampaign")
    with pytest.raises(campaigns.exceptions.ThrottlingException):
        campaigns.describe_campaign(id=campaign_id)
    emulator.faults.outage()
    for _ in range(2):
        with pytest.raises(campaigns.exceptions.InternalServerException):
            campaigns.list_campaigns()
    emulator.faults.clear()
    assert campaigns.list_campaigns()["campaignSummaryList"] == []


def test_every_operation_was_shape_checked(
    emulator: ConnectCampaignsEmulator, campaigns: Any, checked: set[str]
) -> None:
    test_lifecycle_rename_pause_resume_stop_delete(campaigns)
    ids = [managed(campaigns, tags={"team": "crm"})]
    campaigns.list_campaigns()
    campaigns.get_campaign_state_batch(campaignIds=ids)
    assert checked == set(emulator.operation_names)
