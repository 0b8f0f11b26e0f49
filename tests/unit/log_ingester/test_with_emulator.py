"""The log-ingester on records the Pinpoint emulator's CloudTrail recorder really writes.

Real shapes end to end: boto3 calls -> emulated Pinpoint -> CloudTrail records (a gzip log
file in moto's S3, and the same records as API-call events) -> the log-ingester's logic and
adapters. The backfill reads the same emulator through the list calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts import (
    BackfillRequest,
    CatalogBackfillRequested,
    ChangeAction,
    CloudTrailRecord,
    Event,
    PinpointResourceChanged,
    ResourceType,
    SegmentType,
)
from infra.local.clock import VirtualClock
from infra.local.pinpoint import CloudTrailRecorder, PinpointEmulator
from services.common.targets.pinpoint.catalog import PINPOINT_CATALOG
from services.log_ingester.adapters import PinpointApiLister, S3LogFiles
from services.log_ingester.backfill import run_backfill
from services.log_ingester.logic import (
    FileStatus,
    ingest_api_call,
    ingest_log_file,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"
TRAIL_BUCKET = "trail-bucket"
START = datetime(2026, 11, 2, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
def emulated(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, CloudTrailRecorder, Any]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clock = VirtualClock(START)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=TRAIL_BUCKET)
        recorder = CloudTrailRecorder(
            clock=clock, bucket=TRAIL_BUCKET, region=REGION, account_id=ACCOUNT
        )
        with PinpointEmulator(
            clock=clock, region=REGION, account_id=ACCOUNT, recorder=recorder, seed=3
        ):
            pinpoint = boto3.client("pinpoint", region_name=REGION)
            yield pinpoint, recorder, s3


def make_history(pinpoint: Any) -> dict[str, str]:
    """Writes of every kind the catalog follows, plus some it does not; returns the ids."""
    app = pinpoint.create_app(CreateApplicationRequest={"Name": "shop"})["ApplicationResponse"]
    app_id = app["Id"]

    def segment(name: str) -> str:
        return str(
            pinpoint.create_segment(
                ApplicationId=app_id,
                WriteSegmentRequest={
                    "Name": name,
                    "Dimensions": {
                        "Attributes": {"tier": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}
                    },
                },
            )["SegmentResponse"]["Id"]
        )

    kept, dropped = segment("vip"), segment("temporary")
    pinpoint.update_segment(
        ApplicationId=app_id, SegmentId=kept, WriteSegmentRequest={"Name": "vip customers"}
    )
    pinpoint.delete_segment(ApplicationId=app_id, SegmentId=dropped)
    campaign = pinpoint.create_campaign(
        ApplicationId=app_id,
        WriteCampaignRequest={
            "Name": "Black Friday",
            "SegmentId": kept,
            "Schedule": {
                "StartTime": "2026-11-02T11:00:00Z",
                "Frequency": "EVENT",
                "EventFilter": {
                    "FilterType": "ENDPOINT",
                    "Dimensions": {
                        "EventType": {"DimensionType": "INCLUSIVE", "Values": ["purchase"]}
                    },
                },
            },
            "MessageConfiguration": {"DefaultMessage": {"Body": "50% off"}},
        },
    )["CampaignResponse"]["Id"]
    pinpoint.update_campaign(
        ApplicationId=app_id,
        CampaignId=campaign,
        WriteCampaignRequest={"IsPaused": True, "SegmentId": kept},
    )
    journey = pinpoint.create_journey(
        ApplicationId=app_id,
        WriteJourneyRequest={
            "Name": "welcome",
            "State": "ACTIVE",
            "StartCondition": {"SegmentStartCondition": {"SegmentId": kept}},
        },
    )["JourneyResponse"]["Id"]
    pinpoint.update_journey_state(
        ApplicationId=app_id, JourneyId=journey, JourneyStateRequest={"State": "CANCELLED"}
    )
    job = pinpoint.create_import_job(
        ApplicationId=app_id,
        ImportJobRequest={
            "Format": "CSV",
            "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/import",
            "S3Url": "s3://exports/run-1/",
            "DefineSegment": True,
            "SegmentName": "imported",
            "RegisterEndpoints": True,
        },
    )["ImportJobResponse"]
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.delete_campaign(ApplicationId=app_id, CampaignId="0" * 32)
    return {
        "app": app_id,
        "segment": kept,
        "dropped": dropped,
        "campaign": campaign,
        "journey": journey,
        "imported": job["Definition"]["SegmentId"],
    }


def test_recorded_files_and_api_calls_give_the_same_changes(
    emulated: tuple[Any, CloudTrailRecorder, Any],
) -> None:
    pinpoint, recorder, s3 = emulated
    ids = make_history(pinpoint)
    [key] = recorder.flush_all()

    outcome = ingest_log_file(
        S3LogFiles(lambda: s3), TRAIL_BUCKET, key, [ids["app"]], catalog=PINPOINT_CATALOG
    )

    assert outcome.status is FileStatus.READ
    changes = {event.data.resource_id: event.data for event in outcome.events}
    assert set(changes) == {
        ids["segment"],
        ids["dropped"],
        ids["campaign"],
        ids["journey"],
        ids["imported"],
    }
    campaign = changes[ids["campaign"]]
    assert (campaign.resource_type, campaign.action) == (
        ResourceType.CAMPAIGN,
        ChangeAction.UPDATED,
    )
    assert campaign.records_coalesced == 2
    assert (campaign.known.state, campaign.known.event_name) == ("PAUSED", "purchase")
    assert (campaign.known.segment_id, campaign.known.version) == (ids["segment"], 2)
    journey = changes[ids["journey"]]
    assert (journey.known.state, journey.known.segment_id) == ("CANCELLED", ids["segment"])
    assert journey.operation == "UpdateJourneyState"
    assert changes[ids["dropped"]].action is ChangeAction.DELETED
    assert changes[ids["segment"]].known.version == 2
    imported = changes[ids["imported"]]
    assert (imported.action, imported.known.segment_type) == (
        ChangeAction.CREATED,
        SegmentType.IMPORT,
    )
    assert outcome.report.skipped == {"unhandled_operation": 1, "failed_call": 1}
    assert outcome.report.rejected == {}

    # The same records as "AWS API Call via CloudTrail" events: every file event's id is one
    # of theirs, so whichever arrives second is dropped downstream.
    live: list[PinpointResourceChanged] = []
    for record in recorder.records:
        live += ingest_api_call(
            CloudTrailRecord.model_validate(record), [ids["app"]], catalog=PINPOINT_CATALOG
        ).events
    assert {event.event_id for event in outcome.events} <= {event.event_id for event in live}
    assert len(live) == 9  # every handled write, one event each


def test_a_backfill_walks_the_emulated_project_page_by_page(
    emulated: tuple[Any, CloudTrailRecorder, Any],
) -> None:
    pinpoint, _, _ = emulated
    ids = make_history(pinpoint)
    lister = PinpointApiLister(lambda: pinpoint)
    bus: list[Event] = [
        CatalogBackfillRequested.new(BackfillRequest(), correlation_id="b", event_id="b-1")
    ]
    found: dict[str, PinpointResourceChanged] = {}
    while bus:
        request = bus.pop()
        assert isinstance(request, CatalogBackfillRequested)
        for event in run_backfill(
            request, lister, [ids["app"]], page_size=1, catalog=PINPOINT_CATALOG
        ).events:
            if isinstance(event, PinpointResourceChanged):
                found[event.data.resource_id] = event
            else:
                bus.append(event)
    assert set(found) == {ids["segment"], ids["campaign"], ids["journey"], ids["imported"]}
    assert found[ids["campaign"]].data.operation == "GetCampaigns"
    assert found[ids["journey"]].data.known.state == "CANCELLED"
    assert found[ids["imported"]].data.known.segment_type is SegmentType.IMPORT
    assert all(event.data.event_time.microsecond == 0 for event in found.values())
