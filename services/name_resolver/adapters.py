"""Pinpoint and Amazon Connect behind the Resources port.

Throttling (429, Pinpoint's without Retry-After) is retried with backoff by the client's
standard retry mode; what still fails fails the record, and SQS retries it later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts import ResourceChange, ResourceType
from services.name_resolver.logic import Resource

if TYPE_CHECKING:
    from mypy_boto3_pinpoint import PinpointClient


class PinpointApiResources:
    def __init__(self, client: Callable[[], PinpointClient]) -> None:
        self._client = client

    def get(self, change: ResourceChange) -> Resource | None:
        client = self._client()
        application_id, resource_id = str(change.application_id), change.resource_id
        try:
            if change.resource_type is ResourceType.CAMPAIGN:
                campaign = client.get_campaign(ApplicationId=application_id, CampaignId=resource_id)
                return dict[str, Any](campaign["CampaignResponse"])
            if change.resource_type is ResourceType.JOURNEY:
                journey = client.get_journey(ApplicationId=application_id, JourneyId=resource_id)
                return dict[str, Any](journey["JourneyResponse"])
            segment = client.get_segment(ApplicationId=application_id, SegmentId=resource_id)
            return dict[str, Any](segment["SegmentResponse"])
        except ClientError as error:
            if error.response["Error"]["Code"] == "NotFoundException":
                return None
            raise


class ConnectApiResources:
    """DescribeCampaign (v2) with GetCampaignState for a campaign or journey (the body is
    DescribeCampaign's ``campaign`` with ``state`` added), GetSegmentDefinition of the
    change's domain for a segment definition; ResourceNotFoundException is None."""

    def __init__(self, campaigns: Callable[[], Any], profiles: Callable[[], Any]) -> None:
        self._campaigns = campaigns
        self._profiles = profiles

    def get(self, change: ResourceChange) -> Resource | None:
        try:
            if change.resource_type is ResourceType.SEGMENT:
                definition = self._profiles().get_segment_definition(
                    DomainName=str(change.domain_name), SegmentDefinitionName=change.resource_id
                )
                return {k: v for k, v in definition.items() if k != "ResponseMetadata"}
            client = self._campaigns()
            campaign = dict[str, Any](client.describe_campaign(id=change.resource_id)["campaign"])
            campaign["state"] = client.get_campaign_state(id=change.resource_id)["state"]
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return None  # gone, or a v1 campaign (v2's DescribeCampaign does not know it)
            raise
        return campaign
