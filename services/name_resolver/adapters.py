"""Pinpoint behind the Resources port.

Throttling (429 TooManyRequestsException, no Retry-After) is retried with backoff by the
client's standard retry mode; what still fails fails the record, and SQS retries it later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts import ResourceType
from services.name_resolver.logic import Resource

if TYPE_CHECKING:
    from mypy_boto3_pinpoint import PinpointClient


class PinpointApiResources:
    def __init__(self, client: Callable[[], PinpointClient]) -> None:
        self._client = client

    def get(
        self, resource_type: ResourceType, application_id: str, resource_id: str
    ) -> Resource | None:
        client = self._client()
        try:
            if resource_type is ResourceType.CAMPAIGN:
                campaign = client.get_campaign(ApplicationId=application_id, CampaignId=resource_id)
                return dict[str, Any](campaign["CampaignResponse"])
            if resource_type is ResourceType.JOURNEY:
                journey = client.get_journey(ApplicationId=application_id, JourneyId=resource_id)
                return dict[str, Any](journey["JourneyResponse"])
            segment = client.get_segment(ApplicationId=application_id, SegmentId=resource_id)
            return dict[str, Any](segment["SegmentResponse"])
        except ClientError as error:
            if error.response["Error"]["Code"] == "NotFoundException":
                return None
            raise
