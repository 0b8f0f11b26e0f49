"""name-resolver logic: names from Pinpoint, deletions from what CloudTrail showed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from contracts import (
    ChangeAction,
    ChangeOrigin,
    KnownAttributes,
    PinpointResourceChanged,
    ResourceChange,
    ResourceType,
    SegmentType,
)
from services.common.targets.pinpoint.catalog import PINPOINT_CATALOG
from services.name_resolver.adapters import PinpointApiResources
from services.name_resolver.logic import BatchMemo, Resource, resolve

APP = "a" * 32
RID = "b" * 32
SEGMENT = "5" * 32
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


class FakePinpoint:
    def __init__(self, resources: dict[str, Resource] | None = None) -> None:
        self.resources = resources or {}
        self.calls: list[tuple[ResourceType, str, str]] = []

    def get(self, change: ResourceChange) -> Any:
        self.calls.append((change.resource_type, str(change.application_id), change.resource_id))
        return self.resources.get(change.resource_id)


def change(
    resource_type: ResourceType = ResourceType.CAMPAIGN,
    action: ChangeAction = ChangeAction.UPDATED,
    resource_id: str = RID,
    **known: Any,
) -> PinpointResourceChanged:
    return PinpointResourceChanged.new(
        ResourceChange(
            resource_type=resource_type,
            application_id=APP,
            resource_id=resource_id,
            action=action,
            event_time=T0,
            source_event_id="ct-1",
            operation="UpdateCampaign",
            origin=ChangeOrigin.CLOUDTRAIL_EVENT,
            known=KnownAttributes(**known),
        ),
        correlation_id="cloudtrail:ct-1",
    )


CAMPAIGN = {
    "Id": RID,
    "ApplicationId": APP,
    "Name": "Winback",
    "SegmentId": SEGMENT,
    "Version": 3,
    "State": {"CampaignStatus": "PAUSED"},
    "Schedule": {
        "StartTime": "IMMEDIATE",
        "EventFilter": {
            "FilterType": "SYSTEM",
            "Dimensions": {"EventType": {"DimensionType": "INCLUSIVE", "Values": ["_email.click"]}},
        },
    },
    "CreationDate": "2026-11-01T08:00:00.000Z",
    "LastModifiedDate": "2026-11-22T09:00:00Z",
}


def test_a_campaign_resolves_with_name_segment_trigger_status_and_version() -> None:
    event = change()
    resolved = resolve(event, FakePinpoint({RID: CAMPAIGN}), PINPOINT_CATALOG)

    assert resolved is not None
    data = resolved.data
    assert (data.name, data.segment_id, data.event_name, data.state, data.version) == (
        "Winback",
        SEGMENT,
        "_email.click",
        "PAUSED",
        3,
    )
    assert data.deleted is False
    assert data.creation_date == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    assert resolved.metadata.causation_id == event.metadata.event_id
    assert resolved.metadata.correlation_id == "cloudtrail:ct-1"


def test_an_event_filter_without_an_event_type_has_no_trigger_name() -> None:
    campaign = CAMPAIGN | {
        "Schedule": {"EventFilter": {"FilterType": "ENDPOINT", "Dimensions": {"Attributes": {}}}}
    }
    resolved = resolve(change(), FakePinpoint({RID: campaign}), PINPOINT_CATALOG)

    assert resolved is not None
    assert resolved.data.event_name is None


@pytest.mark.parametrize(
    ("start_condition", "segment_id", "event_name"),
    [
        ({"SegmentStartCondition": {"SegmentId": SEGMENT}}, SEGMENT, None),
        (
            {
                "EventStartCondition": {
                    "SegmentId": SEGMENT,
                    "EventFilter": {"Dimensions": {"EventType": {"Values": ["purchase"]}}},
                }
            },
            SEGMENT,
            "purchase",
        ),
        ({"EventStartCondition": {"EventFilter": {"Dimensions": {}}}}, None, None),
        (None, None, None),
    ],
)
def test_journeys_take_segment_and_trigger_from_their_start_condition(
    start_condition: Any, segment_id: str | None, event_name: str | None
) -> None:
    journey = {
        "Id": RID,
        "Name": "Onboarding",
        "State": "ACTIVE",
        "StartCondition": start_condition,
    }
    resolved = resolve(change(ResourceType.JOURNEY), FakePinpoint({RID: journey}), PINPOINT_CATALOG)

    assert resolved is not None
    assert (resolved.data.segment_id, resolved.data.event_name) == (segment_id, event_name)
    assert resolved.data.state == "ACTIVE"


def test_draft_journeys_are_not_cataloged() -> None:
    journey = {"Id": RID, "Name": "Draft", "State": "DRAFT"}
    assert (
        resolve(change(ResourceType.JOURNEY), FakePinpoint({RID: journey}), PINPOINT_CATALOG)
        is None
    )
    deleted_draft = change(ResourceType.JOURNEY, ChangeAction.DELETED, state="DRAFT")
    assert resolve(deleted_draft, FakePinpoint(), PINPOINT_CATALOG) is None


def test_segments_resolve_with_their_type() -> None:
    segment = {"Id": RID, "Name": "Clicked", "SegmentType": "IMPORT", "Version": 2}
    resolved = resolve(change(ResourceType.SEGMENT), FakePinpoint({RID: segment}), PINPOINT_CATALOG)

    assert resolved is not None
    assert resolved.data.segment_type is SegmentType.IMPORT
    assert resolved.data.version == 2


def test_a_deleted_change_needs_no_call_and_keeps_what_was_known() -> None:
    pinpoint = FakePinpoint({RID: CAMPAIGN})
    resolved = resolve(
        change(action=ChangeAction.DELETED, segment_id=SEGMENT, version=4),
        pinpoint,
        PINPOINT_CATALOG,
    )

    assert pinpoint.calls == []
    assert resolved is not None
    assert resolved.data.deleted is True
    assert resolved.data.name is None
    assert (resolved.data.segment_id, resolved.data.version) == (SEGMENT, 4)


def test_a_resource_gone_before_resolution_resolves_as_deleted() -> None:
    resolved = resolve(change(state="SCHEDULED"), FakePinpoint(), PINPOINT_CATALOG)

    assert resolved is not None
    assert resolved.data.deleted is True
    assert resolved.data.state == "SCHEDULED"


def test_one_call_per_distinct_resource_in_a_batch() -> None:
    pinpoint = FakePinpoint({RID: CAMPAIGN})
    memo = BatchMemo(pinpoint)
    for _ in range(5):
        resolve(change(), memo, PINPOINT_CATALOG)
    resolve(change(resource_id="c" * 32), memo, PINPOINT_CATALOG)

    assert len(pinpoint.calls) == 2


def test_redelivered_changes_resolve_under_the_same_event_id() -> None:
    event = change()
    first = resolve(event, FakePinpoint({RID: CAMPAIGN}), PINPOINT_CATALOG)
    again = resolve(event, FakePinpoint({RID: CAMPAIGN}), PINPOINT_CATALOG)

    assert first is not None
    assert again is not None
    assert first.event_id == again.event_id


def test_the_adapter_reads_each_type_and_maps_404_to_none() -> None:
    client = boto3.client(
        "pinpoint", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    resources = PinpointApiResources(lambda: client)
    with Stubber(client) as stub:
        stub.add_response(
            "get_campaign",
            {
                "CampaignResponse": {
                    **CAMPAIGN,
                    "Arn": "arn",
                    "LastModifiedDate": "x",
                    "CreationDate": "x",
                    "SegmentVersion": 1,
                }
            },
            {"ApplicationId": APP, "CampaignId": RID},
        )
        stub.add_client_error(
            "get_journey",
            "NotFoundException",
            "Resource not found",
            404,
            expected_params={"ApplicationId": APP, "JourneyId": RID},
        )
        stub.add_client_error("get_segment", "TooManyRequestsException", "slow", 429)

        campaign = resources.get(change(ResourceType.CAMPAIGN).data)
        assert campaign is not None
        assert campaign["Name"] == "Winback"
        assert resources.get(change(ResourceType.JOURNEY).data) is None
        with pytest.raises(Exception, match="TooManyRequestsException"):
            resources.get(change(ResourceType.SEGMENT).data)
