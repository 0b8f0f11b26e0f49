"""S3 (CloudTrail log files) and Pinpoint (backfill listing) behind the log-ingester's ports.

Errors other than "not found" are left to raise: throttling is retried by the client's
standard retry mode, and what still fails fails the SQS message, which is delivered again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts import ResourceType
from services.log_ingester.backfill import ResourcePage
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

    def page(
        self, resource_type: ResourceType, application_id: str, token: str | None, page_size: int
    ) -> ResourcePage | None:
        client = self._client()
        arguments: dict[str, str] = {"ApplicationId": application_id, "PageSize": str(page_size)}
        if token:
            arguments["Token"] = token
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
