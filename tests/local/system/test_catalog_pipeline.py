"""The catalog pipeline on the local cloud: Pinpoint calls in, named catalog entries out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from infra.local import LocalCloud
from tests.fixtures.pinpoint_resources import create_campaign, create_segment

pytestmark = pytest.mark.system

_deserialize = TypeDeserializer().deserialize


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(cloudtrail=True) as running:
        running.run_until_idle()  # the deploy-time backfill of an empty project
        yield running


def _table(cloud: LocalCloud, output: str) -> dict[str, dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=cloud.outputs[output])["Items"]
    return {item["id"]["S"]: {k: _deserialize(v) for k, v in item.items()} for item in items}


def test_created_renamed_and_deleted_resources_reach_the_catalog(cloud: LocalCloud) -> None:
    pinpoint = boto3.client("pinpoint")
    app = cloud.outputs["PinpointProjectId"]
    watch = cloud.subscribe("catalog", {"detail-type": ["CatalogEntryChanged"]})

    segment_id = create_segment(pinpoint, app, "Email subscribers")
    campaign = create_campaign(pinpoint, app, "Welcome series", segment_id)
    doomed = create_segment(pinpoint, app, "Short lived")
    cloud.run_until_idle()

    campaigns = _table(cloud, "CampaignJourneyTableName")
    segments = _table(cloud, "SegmentTableName")
    entry = campaigns[campaign]
    assert entry["name"] == "Welcome series"
    assert entry["type"] == "campaign"
    assert entry["deleted"] is False
    assert entry["segment_id"] == segment_id
    assert entry["event_name"] == "signup"
    assert segments[segment_id]["name"] == "Email subscribers"
    assert segments[doomed]["deleted"] is False

    pinpoint.update_segment(
        ApplicationId=app,
        SegmentId=segment_id,
        WriteSegmentRequest={"Name": "Newsletter subscribers"},
    )
    pinpoint.delete_segment(ApplicationId=app, SegmentId=doomed)
    cloud.run_until_idle()

    segments = _table(cloud, "SegmentTableName")
    assert segments[segment_id]["name"] == "Newsletter subscribers"
    assert segments[doomed]["deleted"] is True
    changes = [event["detail"]["data"] for event in watch.received()]
    kinds = {(change["after"]["id"], change["change"]) for change in changes}
    assert (segment_id, "created") in kinds
    assert (segment_id, "renamed") in kinds
    assert (doomed, "deleted") in kinds
    assert (campaign, "created") in kinds
    # Both CloudTrail paths (file and API-call event) delivered each change: announced once.
    assert len(changes) == len(kinds)
    assert cloud.dead_letters() == {} or all(not v for v in cloud.dead_letters().values())


def test_draft_journeys_wait_until_published(cloud: LocalCloud) -> None:
    pinpoint = boto3.client("pinpoint")
    app = cloud.outputs["PinpointProjectId"]
    segment_id = create_segment(pinpoint, app, "Journey audience")
    journey = pinpoint.create_journey(
        ApplicationId=app,
        WriteJourneyRequest={
            "Name": "Onboarding",
            "StartCondition": {"SegmentStartCondition": {"SegmentId": segment_id}},
            "Activities": {},
        },
    )["JourneyResponse"]
    cloud.run_until_idle()
    assert journey["Id"] not in _table(cloud, "CampaignJourneyTableName")

    pinpoint.update_journey_state(
        ApplicationId=app, JourneyId=journey["Id"], JourneyStateRequest={"State": "ACTIVE"}
    )
    cloud.run_until_idle()
    entry = _table(cloud, "CampaignJourneyTableName")[journey["Id"]]
    assert entry["name"] == "Onboarding"
    assert entry["type"] == "journey"
    assert entry["segment_id"] == segment_id


def test_backfill_catalogs_what_existed_before(cloud: LocalCloud) -> None:
    pinpoint = boto3.client("pinpoint")
    app = cloud.outputs["PinpointProjectId"]
    existing = create_segment(pinpoint, app, "Before the catalog")
    cloud.run_until_idle()
    table = cloud.outputs["SegmentTableName"]
    boto3.client("dynamodb").delete_item(TableName=table, Key={"id": {"S": existing}})

    from contracts import BackfillRequest, CatalogBackfillRequested, put_events_entry

    request = CatalogBackfillRequested.new(BackfillRequest(), correlation_id="test-backfill")
    boto3.client("events").put_events(
        Entries=[put_events_entry(request, event_bus_name=cloud.outputs["EventBusName"])]
    )
    cloud.run_until_idle()
    assert _table(cloud, "SegmentTableName")[existing]["name"] == "Before the catalog"
