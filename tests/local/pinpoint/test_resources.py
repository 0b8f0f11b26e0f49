"""Apps, campaigns, journeys and segments through plain boto3 calls."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from infra.local.clock import VirtualClock
from tests.fixtures.emulator_tests import ACCOUNT, REGION


def campaign_request(segment_id: str, name: str = "spring sale", **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Description": "20% off",
        "SegmentId": segment_id,
        "Schedule": {"StartTime": "IMMEDIATE"},
        "MessageConfiguration": {"DefaultMessage": {"Body": "Hello"}},
        **extra,
    }


# ---------------------------------------------------------------- apps


def test_app_lifecycle_and_paging(pinpoint: Any) -> None:
    ids = [
        pinpoint.create_app(CreateApplicationRequest={"Name": f"app-{n}", "tags": {"n": str(n)}})[
            "ApplicationResponse"
        ]["Id"]
        for n in range(5)
    ]
    app = pinpoint.get_app(ApplicationId=ids[0])["ApplicationResponse"]
    assert app["Name"] == "app-0"
    assert app["Arn"] == f"arn:aws:mobiletargeting:{REGION}:{ACCOUNT}:apps/{ids[0]}"
    assert app["CreationDate"] == "2026-11-02T10:00:00.000Z"
    assert len(ids[0]) == 32

    first = pinpoint.get_apps(PageSize="2")["ApplicationsResponse"]
    second = pinpoint.get_apps(PageSize="2", Token=first["NextToken"])["ApplicationsResponse"]
    third = pinpoint.get_apps(PageSize="2", Token=second["NextToken"])["ApplicationsResponse"]
    assert "NextToken" not in third
    assert [a["Id"] for a in first["Item"] + second["Item"] + third["Item"]] == ids

    deleted = pinpoint.delete_app(ApplicationId=ids[0])["ApplicationResponse"]
    assert deleted["Id"] == ids[0]
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_app(ApplicationId=ids[0])


def test_moto_app_level_calls_work_on_emulated_apps(pinpoint: Any, app_id: str) -> None:
    settings = pinpoint.get_application_settings(ApplicationId=app_id)
    assert settings["ApplicationSettingsResource"]["ApplicationId"] == app_id


def test_everything_under_an_unknown_app_is_404(pinpoint: Any) -> None:
    calls: list[Callable[[], object]] = [
        lambda: pinpoint.get_campaigns(ApplicationId="nope"),
        lambda: pinpoint.create_segment(ApplicationId="nope", WriteSegmentRequest={"Name": "x"}),
        lambda: pinpoint.list_journeys(ApplicationId="nope"),
        lambda: pinpoint.get_endpoint(ApplicationId="nope", EndpointId="e"),
        lambda: pinpoint.get_import_jobs(ApplicationId="nope"),
    ]
    for call in calls:
        with pytest.raises(pinpoint.exceptions.NotFoundException) as raised:
            call()
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_bad_paging_parameters_are_400(pinpoint: Any, app_id: str) -> None:
    with pytest.raises(pinpoint.exceptions.BadRequestException):
        pinpoint.get_campaigns(ApplicationId=app_id, PageSize="lots")
    with pytest.raises(pinpoint.exceptions.BadRequestException):
        pinpoint.get_campaigns(ApplicationId=app_id, Token="not-a-token")


# ---------------------------------------------------------------- campaigns


def test_campaign_lifecycle(
    pinpoint: Any, app_id: str, segment_id: str, clock: VirtualClock
) -> None:
    created = pinpoint.create_campaign(
        ApplicationId=app_id,
        WriteCampaignRequest=campaign_request(segment_id, tags={"team": "growth"}),
    )["CampaignResponse"]
    assert created["Name"] == "spring sale"
    assert created["Version"] == 1
    assert created["SegmentVersion"] == 1
    assert created["State"] == {"CampaignStatus": "SCHEDULED"}
    assert created["tags"] == {"team": "growth"}
    campaign_id = created["Id"]

    clock.advance(60)
    updated = pinpoint.update_campaign(
        ApplicationId=app_id,
        CampaignId=campaign_id,
        WriteCampaignRequest={"Name": "summer sale", "IsPaused": True},
    )["CampaignResponse"]
    assert updated["Version"] == 2
    assert updated["Name"] == "summer sale"
    assert updated["SegmentId"] == segment_id  # kept: updates merge
    assert updated["State"] == {"CampaignStatus": "PAUSED"}
    assert updated["LastModifiedDate"] == "2026-11-02T10:01:00.000Z"
    assert updated["CreationDate"] == created["CreationDate"]

    got = pinpoint.get_campaign(ApplicationId=app_id, CampaignId=campaign_id)
    assert got["CampaignResponse"]["Name"] == "summer sale"
    v1 = pinpoint.get_campaign_version(ApplicationId=app_id, CampaignId=campaign_id, Version="1")
    assert v1["CampaignResponse"]["Name"] == "spring sale"
    versions = pinpoint.get_campaign_versions(ApplicationId=app_id, CampaignId=campaign_id)
    assert [c["Version"] for c in versions["CampaignsResponse"]["Item"]] == [2, 1]

    deleted = pinpoint.delete_campaign(ApplicationId=app_id, CampaignId=campaign_id)
    assert deleted["CampaignResponse"]["Name"] == "summer sale"
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_campaign(ApplicationId=app_id, CampaignId=campaign_id)
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.delete_campaign(ApplicationId=app_id, CampaignId=campaign_id)


def test_campaign_treatments_and_event_trigger(pinpoint: Any, app_id: str, segment_id: str) -> None:
    request = campaign_request(
        segment_id,
        Schedule={
            "StartTime": "2026-11-03T00:00:00Z",
            "Frequency": "EVENT",
            "EventFilter": {
                "FilterType": "ENDPOINT",
                "Dimensions": {"EventType": {"DimensionType": "INCLUSIVE", "Values": ["buy"]}},
            },
        },
        AdditionalTreatments=[{"SizePercent": 20, "TreatmentName": "B"}],
    )
    created = pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest=request)
    campaign = created["CampaignResponse"]
    assert campaign["AdditionalTreatments"] == [
        {"Id": "1", "SizePercent": 20, "TreatmentName": "B"}
    ]
    assert campaign["Schedule"]["EventFilter"]["Dimensions"]["EventType"]["Values"] == ["buy"]


def test_campaign_paging(pinpoint: Any, app_id: str, segment_id: str) -> None:
    for n in range(5):
        pinpoint.create_campaign(
            ApplicationId=app_id, WriteCampaignRequest=campaign_request(segment_id, f"c{n}")
        )
    names, token = [], None
    while True:
        kwargs: dict[str, str] = {"Token": token} if token else {}
        page = pinpoint.get_campaigns(ApplicationId=app_id, PageSize="2", **kwargs)
        names += [c["Name"] for c in page["CampaignsResponse"]["Item"]]
        token = page["CampaignsResponse"].get("NextToken")
        if not token:
            break
    assert names == ["c0", "c1", "c2", "c3", "c4"]


def test_campaign_validation(pinpoint: Any, app_id: str, segment_id: str) -> None:
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="SegmentId"):
        pinpoint.create_campaign(ApplicationId=app_id, WriteCampaignRequest={"Name": "x"})
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="not found"):
        pinpoint.create_campaign(
            ApplicationId=app_id, WriteCampaignRequest=campaign_request("missing-segment")
        )
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="no version 9"):
        pinpoint.create_campaign(
            ApplicationId=app_id,
            WriteCampaignRequest=campaign_request(segment_id, SegmentVersion=9),
        )


# ---------------------------------------------------------------- journeys


def journey_request(name: str = "onboarding", **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "StartActivity": "a1",
        "Activities": {
            "a1": {
                "Description": "welcome mail",
                "EMAIL": {"TemplateName": "welcome", "NextActivity": "a2"},
            },
            "a2": {"Wait": {"WaitTime": {"WaitFor": "P1D"}}},
        },
        "StartCondition": {
            "EventStartCondition": {
                "EventFilter": {
                    "FilterType": "ENDPOINT",
                    "Dimensions": {
                        "EventType": {"DimensionType": "INCLUSIVE", "Values": ["signup"]}
                    },
                }
            }
        },
        **extra,
    }


def test_journey_lifecycle(pinpoint: Any, app_id: str, clock: VirtualClock) -> None:
    created = pinpoint.create_journey(ApplicationId=app_id, WriteJourneyRequest=journey_request())
    journey = created["JourneyResponse"]
    assert journey["State"] == "DRAFT"
    journey_id = journey["Id"]

    clock.advance(30)
    published = pinpoint.update_journey(
        ApplicationId=app_id,
        JourneyId=journey_id,
        WriteJourneyRequest=journey_request(
            "onboarding v2", State="ACTIVE", RefreshFrequency="PT1H"
        ),
    )["JourneyResponse"]
    assert published["State"] == "ACTIVE"
    assert published["Name"] == "onboarding v2"
    assert published["CreationDate"] == journey["CreationDate"]
    assert published["LastModifiedDate"] == "2026-11-02T10:00:30.000Z"

    paused = pinpoint.update_journey_state(
        ApplicationId=app_id, JourneyId=journey_id, JourneyStateRequest={"State": "PAUSED"}
    )
    assert paused["JourneyResponse"]["State"] == "PAUSED"
    resumed = pinpoint.update_journey_state(
        ApplicationId=app_id, JourneyId=journey_id, JourneyStateRequest={"State": "ACTIVE"}
    )
    assert resumed["JourneyResponse"]["State"] == "ACTIVE"
    cancelled = pinpoint.update_journey_state(
        ApplicationId=app_id, JourneyId=journey_id, JourneyStateRequest={"State": "CANCELLED"}
    )
    assert cancelled["JourneyResponse"]["State"] == "CANCELLED"

    listed = pinpoint.list_journeys(ApplicationId=app_id)["JourneysResponse"]["Item"]
    assert [j["Id"] for j in listed] == [journey_id]
    deleted = pinpoint.delete_journey(ApplicationId=app_id, JourneyId=journey_id)
    assert deleted["JourneyResponse"]["State"] == "CANCELLED"
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_journey(ApplicationId=app_id, JourneyId=journey_id)


def test_journey_state_rules(pinpoint: Any, app_id: str) -> None:
    def new_journey(**extra: Any) -> str:
        response = pinpoint.create_journey(
            ApplicationId=app_id, WriteJourneyRequest=journey_request(**extra)
        )
        return str(response["JourneyResponse"]["Id"])

    def set_state(journey_id: str, state: str) -> Any:
        return pinpoint.update_journey_state(
            ApplicationId=app_id, JourneyId=journey_id, JourneyStateRequest={"State": state}
        )

    draft = new_journey()
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="Only an ACTIVE"):
        set_state(draft, "PAUSED")
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="supported values"):
        set_state(draft, "COMPLETED")

    active_without_refresh = new_journey(State="ACTIVE")
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="RefreshFrequency"):
        set_state(active_without_refresh, "PAUSED")
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="DRAFT"):
        pinpoint.update_journey(
            ApplicationId=app_id,
            JourneyId=active_without_refresh,
            WriteJourneyRequest=journey_request(State="DRAFT"),
        )

    set_state(active_without_refresh, "CANCELLED")
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="CANCELLED"):
        set_state(active_without_refresh, "ACTIVE")
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="CANCELLED"):
        pinpoint.update_journey(
            ApplicationId=app_id,
            JourneyId=active_without_refresh,
            WriteJourneyRequest=journey_request(),
        )


def test_journey_paging(pinpoint: Any, app_id: str) -> None:
    for n in range(3):
        pinpoint.create_journey(ApplicationId=app_id, WriteJourneyRequest=journey_request(f"j{n}"))
    first = pinpoint.list_journeys(ApplicationId=app_id, PageSize="2")["JourneysResponse"]
    rest = pinpoint.list_journeys(ApplicationId=app_id, PageSize="2", Token=first["NextToken"])
    assert [j["Name"] for j in first["Item"] + rest["JourneysResponse"]["Item"]] == [
        "j0",
        "j1",
        "j2",
    ]
    assert "NextToken" not in rest["JourneysResponse"]


# ---------------------------------------------------------------- segments


def test_segment_lifecycle(pinpoint: Any, app_id: str, segment_id: str) -> None:
    segment = pinpoint.get_segment(ApplicationId=app_id, SegmentId=segment_id)["SegmentResponse"]
    assert segment["SegmentType"] == "DIMENSIONAL"
    assert segment["Version"] == 1
    assert segment["Name"] == "gold customers"

    updated = pinpoint.update_segment(
        ApplicationId=app_id, SegmentId=segment_id, WriteSegmentRequest={"Name": "platinum"}
    )["SegmentResponse"]
    assert updated["Version"] == 2
    assert updated["Dimensions"] == segment["Dimensions"]
    old = pinpoint.get_segment_version(ApplicationId=app_id, SegmentId=segment_id, Version="1")
    assert old["SegmentResponse"]["Name"] == "gold customers"
    versions = pinpoint.get_segment_versions(ApplicationId=app_id, SegmentId=segment_id)
    assert [s["Version"] for s in versions["SegmentsResponse"]["Item"]] == [2, 1]
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_segment_version(ApplicationId=app_id, SegmentId=segment_id, Version="3")

    for n in range(3):
        pinpoint.create_segment(ApplicationId=app_id, WriteSegmentRequest={"Name": f"s{n}"})
    first = pinpoint.get_segments(ApplicationId=app_id, PageSize="3")["SegmentsResponse"]
    rest = pinpoint.get_segments(ApplicationId=app_id, PageSize="3", Token=first["NextToken"])
    assert len(first["Item"]) == 3
    assert len(rest["SegmentsResponse"]["Item"]) == 1

    deleted = pinpoint.delete_segment(ApplicationId=app_id, SegmentId=segment_id)
    assert deleted["SegmentResponse"]["Name"] == "platinum"
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_segment(ApplicationId=app_id, SegmentId=segment_id)
