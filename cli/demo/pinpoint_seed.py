"""A realistic Pinpoint project for the demo, made with plain boto3 calls.

The calls are what a marketing team's console work produces: segments (dimensional and
imported), campaigns (scheduled and event-triggered), journeys (one left in DRAFT, one
paused), then renames, a publish and deletions. CloudTrail records every write, which is
what the catalog pipeline consumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SEGMENT_NAMES = (
    "Newsletter subscribers",
    "Recent purchasers",
    "Lapsed customers",
    "Mobile app users",
    "High value",
    "Trial users",
)
IMPORTED_SEGMENT_NAMES = ("CRM gold tier", "Event attendees")
CAMPAIGNS = (
    # (name, segment index, trigger event or None)
    ("Spring sale", 0, None),
    ("Welcome email", 5, "signup"),
    ("Cart reminder", 1, "cart_abandoned"),
    ("Win-back offer", 2, None),
    ("App feature launch", 3, None),
    ("VIP early access", 4, None),
    ("Trial ending", 5, "trial_day_12"),
    ("Monthly digest", 0, None),
    ("Order shipped", 1, "order_shipped"),
    ("Survey invitation", 4, None),
)
JOURNEYS = (
    ("Onboarding", 5, "ACTIVE"),
    ("Re-engagement", 2, "ACTIVE"),
    ("Loyalty ladder", 4, "ACTIVE"),
    ("Seasonal nurture", 0, "PAUSED"),
    ("Referral program (draft)", 3, "DRAFT"),
    ("Birthday greetings", 1, "DRAFT"),  # published by change_project
)


@dataclass
class SeededProject:
    application_id: str
    segments: dict[str, str] = field(default_factory=dict)  # name -> id
    campaigns: dict[str, str] = field(default_factory=dict)
    journeys: dict[str, str] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)


def _email(title: str) -> dict[str, Any]:
    return {"EmailMessage": {"Title": title, "HtmlBody": f"<p>{title}</p>"}}


def _schedule(event_name: str | None) -> dict[str, Any]:
    if event_name is None:
        return {"StartTime": "IMMEDIATE", "Frequency": "ONCE"}
    return {
        "StartTime": "IMMEDIATE",
        "Frequency": "EVENT",
        "EventFilter": {
            "FilterType": "ENDPOINT",
            "Dimensions": {"EventType": {"DimensionType": "INCLUSIVE", "Values": [event_name]}},
        },
    }


def _journey_request(name: str, segment_id: str) -> dict[str, Any]:
    return {
        "Name": name,
        "StartCondition": {"SegmentStartCondition": {"SegmentId": segment_id}},
        "RefreshFrequency": "PT1H",
        "Activities": {
            "send-email": {"EMAIL": {"TemplateName": "welcome"}, "Description": "first touch"}
        },
        "StartActivity": "send-email",
    }


def seed_project(
    pinpoint: Any, s3: Any, application_id: str, *, bucket: str, role_arn: str
) -> SeededProject:
    """Create the demo's resources, then change some of them; returns what exists."""
    project = SeededProject(application_id)
    for name in SEGMENT_NAMES:
        response = pinpoint.create_segment(
            ApplicationId=application_id,
            WriteSegmentRequest={
                "Name": name,
                "Dimensions": {"Demographic": {"Channel": {"Values": ["EMAIL"]}}},
            },
        )
        project.segments[name] = response["SegmentResponse"]["Id"]
    for index, name in enumerate(IMPORTED_SEGMENT_NAMES):
        key = f"seed/{index}.csv"
        rows = "\n".join(
            f"seed{index}{row:027d},EMAIL,seed{index}-{row}@example.com" for row in range(5)
        )
        s3.put_object(Bucket=bucket, Key=key, Body=f"Id,ChannelType,Address\n{rows}\n")
        job = pinpoint.create_import_job(
            ApplicationId=application_id,
            ImportJobRequest={
                "Format": "CSV",
                "S3Url": f"s3://{bucket}/{key}",
                "RoleArn": role_arn,
                "DefineSegment": True,
                "SegmentName": name,
                "RegisterEndpoints": True,
            },
        )["ImportJobResponse"]
        project.segments[name] = job["Definition"]["SegmentId"]
    segment_ids = list(project.segments.values())
    for name, segment_index, event_name in CAMPAIGNS:
        response = pinpoint.create_campaign(
            ApplicationId=application_id,
            WriteCampaignRequest={
                "Name": name,
                "SegmentId": segment_ids[segment_index],
                "Schedule": _schedule(event_name),
                "MessageConfiguration": _email(name),
            },
        )
        project.campaigns[name] = response["CampaignResponse"]["Id"]
    for name, segment_index, state in JOURNEYS:
        response = pinpoint.create_journey(
            ApplicationId=application_id,
            WriteJourneyRequest=_journey_request(name, segment_ids[segment_index]),
        )
        journey_id = response["JourneyResponse"]["Id"]
        project.journeys[name] = journey_id
        if state != "DRAFT":
            pinpoint.update_journey_state(
                ApplicationId=application_id,
                JourneyId=journey_id,
                JourneyStateRequest={"State": "ACTIVE"},
            )
        if state == "PAUSED":
            pinpoint.update_journey_state(
                ApplicationId=application_id,
                JourneyId=journey_id,
                JourneyStateRequest={"State": "PAUSED"},
            )
    return project


def change_project(pinpoint: Any, project: SeededProject) -> SeededProject:
    """Renames, a deletion of each kind: what the catalog must follow."""
    app = project.application_id
    pinpoint.update_campaign(
        ApplicationId=app,
        CampaignId=project.campaigns["Spring sale"],
        WriteCampaignRequest={"Name": "Spring sale (extended)"},
    )
    project.campaigns["Spring sale (extended)"] = project.campaigns.pop("Spring sale")
    pinpoint.update_segment(
        ApplicationId=app,
        SegmentId=project.segments["Trial users"],
        WriteSegmentRequest={"Name": "Trial users (14 days)"},
    )
    project.segments["Trial users (14 days)"] = project.segments.pop("Trial users")
    pinpoint.update_journey_state(
        ApplicationId=app,
        JourneyId=project.journeys["Birthday greetings"],
        JourneyStateRequest={"State": "ACTIVE"},
    )
    pinpoint.delete_campaign(
        ApplicationId=app, CampaignId=project.campaigns.pop("Survey invitation")
    )
    pinpoint.delete_journey(ApplicationId=app, JourneyId=project.journeys.pop("Loyalty ladder"))
    project.actions = [
        "renamed campaign 'Spring sale' -> 'Spring sale (extended)'",
        "renamed segment 'Trial users' -> 'Trial users (14 days)'",
        "published journey 'Birthday greetings'",
        "deleted campaign 'Survey invitation'",
        "deleted journey 'Loyalty ladder'",
    ]
    return project
