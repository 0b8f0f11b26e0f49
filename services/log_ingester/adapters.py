"""S3 (CloudTrail log files), Pinpoint and Amazon Connect (backfill listings) behind the
log-ingester's ports.

Errors other than "not found" are left to raise: throttling is retried by the client's
standard retry mode, and what still fails fails the SQS message, which is delivered again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts import BackfillPage, Platform, ResourceType
from services.log_ingester.backfill import ResourceLister, ResourcePage
from services.log_ingester.logic import LogStream

if TYPE_CHECKING:
    from mypy_boto3_pinpoint import PinpointClient
    from mypy_boto3_s3 import S3Client

# S3 answers a missing object with NoSuchKey (GetObject) or a bare 404 (no ListBucket right).
_MISSING_OBJECT = frozenset({"NoSuchKey", "404", "NotFound", "NoSuchVersion"})


class S3LogFiles:
    """Streams an object's body: GetObject's Body is read in chunks, never whole.

    The current object is read, never a version: CloudTrail never rewrites a log file (its
    name is unique), and reading versions would need s3:GetObjectVersion too.
    """

    def __init__(self, client: Callable[[], S3Client]) -> None:
        self._client = client

    def open(self, bucket: str, key: str) -> LogStream | None:
        client = self._client()
        try:
            response = client.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING_OBJECT:
                return None
            raise
        body: LogStream = response["Body"]
        return body


class PinpointApiLister:
    """GetCampaigns / ListJourneys / GetSegments, one page per call (PageSize and Token)."""

    def __init__(self, client: Callable[[], PinpointClient]) -> None:
        self._client = client

    def page(self, page: BackfillPage, page_size: int) -> ResourcePage | None:
        client = self._client()
        resource_type = page.resource_type
        arguments: dict[str, str] = {
            "ApplicationId": str(page.application_id),
            "PageSize": str(page_size),
        }
        if page.token:
            arguments["Token"] = page.token
        try:
            listed: Any
            if resource_type is ResourceType.CAMPAIGN:
                listed = client.get_campaigns(**arguments)["CampaignsResponse"]
            elif resource_type is ResourceType.JOURNEY:
                listed = client.list_journeys(**arguments)["JourneysResponse"]
            else:
                listed = client.get_segments(**arguments)["SegmentsResponse"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NotFoundException":
                return None
            raise
        return ResourcePage(
            items=list(listed.get("Item") or []), next_token=listed.get("NextToken")
        )


# The most each Connect list call returns (botocore: ListCampaigns 50, ListSegmentDefinitions 500).
MAX_CAMPAIGNS_PAGE = 50
MAX_SEGMENT_DEFINITIONS_PAGE = 500


class ConnectApiLister:
    """ListCampaigns of the instance (both campaign types, instanceIdFilter Eq) and
    ListSegmentDefinitions of the domain, one page per call (maxResults and nextToken)."""

    def __init__(self, campaigns: Callable[[], Any], profiles: Callable[[], Any]) -> None:
        self._campaigns = campaigns
        self._profiles = profiles

    def page(self, page: BackfillPage, page_size: int) -> ResourcePage | None:
        try:
            if page.resource_type is ResourceType.SEGMENT:
                return self._segment_definitions(page, page_size)
            return self._campaign_summaries(page, page_size)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None  # the domain or instance is gone
            raise

    def _campaign_summaries(self, page: BackfillPage, page_size: int) -> ResourcePage:
        arguments: dict[str, Any] = {
            "maxResults": min(page_size, MAX_CAMPAIGNS_PAGE),
            "filters": {
                "instanceIdFilter": {"value": str(page.connect_instance_id), "operator": "Eq"}
            },
        }
        if page.token:
            arguments["nextToken"] = page.token
        listed = self._campaigns().list_campaigns(**arguments)
        return ResourcePage(
            items=list(listed.get("campaignSummaryList") or []),
            next_token=listed.get("nextToken"),
        )

    def _segment_definitions(self, page: BackfillPage, page_size: int) -> ResourcePage:
        arguments: dict[str, Any] = {
            "DomainName": str(page.domain_name),
            "MaxResults": min(page_size, MAX_SEGMENT_DEFINITIONS_PAGE),
        }
        if page.token:
            arguments["NextToken"] = page.token
        listed = self._profiles().list_segment_definitions(**arguments)
        items = list(listed.get("Items") or [])
        return ResourcePage(items=items, next_token=listed.get("NextToken"))


class TargetListers:
    """The listers of the stack's active targets: a page goes to its platform's; a page of
    a target the stack does not run lists nothing (None: as a scope that is gone)."""

    def __init__(self, listers: Mapping[Platform, ResourceLister]) -> None:
        self._listers = dict(listers)

    def page(self, page: BackfillPage, page_size: int) -> ResourcePage | None:
        lister = self._listers.get(page.platform)
        return None if lister is None else lister.page(page, page_size)
