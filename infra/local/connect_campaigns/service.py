"""Campaigns of the emulated outbound campaigns v2 and their documented state machine.

    Initialized --Start--> Running --Pause--> Paused --Resume--> Running
    Running | Paused --Stop--> Stopped            (final)
    Running | Paused --schedule.endTime passed--> Completed (final, at a tick)

Any other transition is 409 InvalidCampaignStateException carrying the current state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from infra.local.api_emulator import IdSource, offset_page
from infra.local.clock import VirtualClock

from .errors import InvalidStateError, NotFoundError, ValidationError

MAX_PAGE = 50
TRANSITIONS = {
    "StartCampaign": ({"Initialized"}, "Running"),
    "PauseCampaign": ({"Running"}, "Paused"),
    "ResumeCampaign": ({"Paused"}, "Running"),
    "StopCampaign": ({"Running", "Paused"}, "Stopped"),
}
SUBTYPES = {"telephony": "TELEPHONY", "sms": "SMS", "email": "EMAIL", "whatsApp": "WHATSAPP"}
CONFIG = (
    "channelSubtypeConfig",
    "type",
    "source",
    "connectCampaignFlowArn",
    "schedule",
    "entryLimitsConfig",
    "communicationTimeConfig",
    "communicationLimitsOverride",
    "tags",
)
SUMMARY = ("type", "schedule", "entryLimitsConfig", "connectCampaignFlowArn")


@dataclass
class Campaign:
    id: str
    arn: str
    name: str
    instance_id: str
    config: dict[str, Any]
    state: str
    last_modified: datetime

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "arn": self.arn,
            "name": self.name,
            "connectInstanceId": self.instance_id,
            **self.config,
            "lastModifiedTime": self.last_modified,
        }

    def summary(self) -> dict[str, Any]:
        subtypes = [SUBTYPES[key] for key in self.config.get("channelSubtypeConfig") or {}]
        return {
            "id": self.id,
            "arn": self.arn,
            "name": self.name,
            "connectInstanceId": self.instance_id,
            "channelSubtypes": subtypes,
            **{key: self.config[key] for key in SUMMARY if key in self.config},
            "lastModifiedTime": self.last_modified,
        }


class CampaignsService:
    def __init__(self, clock: VirtualClock, region: str, account_id: str, ids: IdSource) -> None:
        self._clock = clock
        self._region = region
        self._account_id = account_id
        self._ids = ids
        self.instances: set[str] = set()
        self.campaigns: dict[str, Campaign] = {}

    def create(self, params: Mapping[str, Any]) -> dict[str, Any]:
        instance_id = str(params["connectInstanceId"])
        if instance_id not in self.instances:
            raise NotFoundError(f"Connect instance {instance_id} is not onboarded")
        config = {key: params[key] for key in CONFIG if params.get(key) is not None}
        config.setdefault("type", "MANAGED")
        if config["type"] == "MANAGED" and not config.get("channelSubtypeConfig"):
            raise ValidationError("A MANAGED campaign needs a channelSubtypeConfig")
        if config["type"] == "JOURNEY" and "connectCampaignFlowArn" not in config:
            raise ValidationError("A JOURNEY campaign needs a connectCampaignFlowArn")
        source = config.get("source") or {}
        if len(source) > 1:
            raise ValidationError("source takes one of customerProfilesSegmentArn, eventTrigger")
        schedule = config.get("schedule")
        if schedule is not None and schedule["endTime"] <= schedule["startTime"]:
            raise ValidationError("schedule.endTime must be after schedule.startTime")
        campaign_id = self._ids.uuid()
        arn = f"arn:aws:connect-campaigns:{self._region}:{self._account_id}:campaign/{campaign_id}"
        self.campaigns[campaign_id] = Campaign(
            campaign_id,
            arn,
            str(params["name"]),
            instance_id,
            config,
            "Initialized",
            self._clock.now(),
        )
        return {"id": campaign_id, "arn": arn, "tags": config.get("tags")}

    def describe(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"campaign": self.campaign(str(params["id"])).view()}

    def list_campaigns(self, params: Mapping[str, Any]) -> dict[str, Any]:
        campaigns = list(self.campaigns.values())
        instance = ((params.get("filters") or {}).get("instanceIdFilter") or {}).get("value")
        if instance is not None:
            campaigns = [c for c in campaigns if c.instance_id == instance]
        chunk, token = offset_page(
            [c.summary() for c in campaigns],
            params.get("maxResults") or MAX_PAGE,
            params.get("nextToken"),
            lambda: ValidationError("Invalid nextToken"),
        )
        return {"campaignSummaryList": chunk, "nextToken": token}

    def update_name(self, params: Mapping[str, Any]) -> dict[str, Any]:
        campaign = self.campaign(str(params["id"]))
        campaign.name = str(params["name"])
        campaign.last_modified = self._clock.now()
        return {}

    def delete(self, params: Mapping[str, Any]) -> dict[str, Any]:
        self.campaign(str(params["id"]))
        del self.campaigns[str(params["id"])]
        return {}

    def transition(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        campaign = self.campaign(str(params["id"]))
        allowed, target = TRANSITIONS[operation]
        if campaign.state not in allowed:
            raise InvalidStateError(
                f"Campaign {campaign.id} is {campaign.state}: {operation} is not allowed",
                state=campaign.state,
            )
        campaign.state = target
        campaign.last_modified = self._clock.now()
        return {}

    def state(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"state": self.campaign(str(params["id"])).state}

    def state_batch(self, params: Mapping[str, Any]) -> dict[str, Any]:
        found, failed = [], []
        for campaign_id in params["campaignIds"]:
            campaign = self.campaigns.get(campaign_id)
            if campaign is None:
                failed.append({"campaignId": campaign_id, "failureCode": "ResourceNotFound"})
            else:
                found.append({"campaignId": campaign_id, "state": campaign.state})
        return {"successfulRequests": found, "failedRequests": failed}

    def complete_ended(self) -> None:
        now = self._clock.now()
        for campaign in self.campaigns.values():
            schedule = campaign.config.get("schedule")
            if campaign.state in {"Running", "Paused"} and schedule and schedule["endTime"] <= now:
                campaign.state = "Completed"
                campaign.last_modified = now

    def campaign(self, campaign_id: str) -> Campaign:
        campaign = self.campaigns.get(campaign_id)
        if campaign is None:
            raise NotFoundError(f"Campaign {campaign_id} not found")
        return campaign
