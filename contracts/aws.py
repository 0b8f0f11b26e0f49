"""Typed views of the AWS events the system consumes.

AWS adds fields over time and moto omits some (`account`), so these views ignore unknown
fields and require only what the services read.
"""

from typing import Annotated, Any, ClassVar
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from contracts._base import UtcDatetime


class AwsView(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)


class AwsEvent(AwsView):
    """Base of the AWS `detail` views; keyed in the registry by source and detail-type."""

    SOURCE: ClassVar[str]
    DETAIL_TYPE: ClassVar[str]
    DESCRIPTION: ClassVar[str] = ""
    CONSUMERS: ClassVar[tuple[str, ...]] = ()


class S3Bucket(AwsView):
    name: str


class S3Object(AwsView):
    key: str = Field(description="URL-encoded as S3 sends it; use `decoded_key`.")
    size: int | None = None
    etag: str | None = None
    sequencer: str | None = None
    version_id: str | None = Field(default=None, alias="version-id")


class S3ObjectCreated(AwsEvent):
    SOURCE: ClassVar[str] = "aws.s3"
    DETAIL_TYPE: ClassVar[str] = "Object Created"
    DESCRIPTION: ClassVar[str] = "S3 EventBridge notification: a CloudTrail log file arrived."
    CONSUMERS: ClassVar[tuple[str, ...]] = ("log-ingester",)

    bucket: S3Bucket
    object: S3Object
    reason: str | None = None

    @property
    def decoded_key(self) -> str:
        return unquote_plus(self.object.key)


class CloudTrailRecord(AwsView):
    """One CloudTrail record, from a log file or an "AWS API Call via CloudTrail" event."""

    event_version: str | None = Field(default=None, alias="eventVersion")
    # The API version of the call, recorded by some services (outbound campaigns v1 and v2
    # share an eventSource and operation names: "2021-01-30" is v1, "2024-04-23" v2).
    api_version: str | None = Field(default=None, alias="apiVersion")
    event_time: UtcDatetime = Field(alias="eventTime")
    event_source: str = Field(alias="eventSource")
    event_name: str = Field(alias="eventName")
    aws_region: str | None = Field(default=None, alias="awsRegion")
    event_id: str = Field(alias="eventID")
    event_type: str | None = Field(default=None, alias="eventType")
    read_only: bool | None = Field(default=None, alias="readOnly")
    recipient_account_id: str | None = Field(default=None, alias="recipientAccountId")
    error_code: str | None = Field(default=None, alias="errorCode")
    error_message: str | None = Field(default=None, alias="errorMessage")
    request_parameters: dict[str, Any] | None = Field(default=None, alias="requestParameters")
    response_elements: dict[str, Any] | None = Field(default=None, alias="responseElements")
    user_identity: dict[str, Any] | None = Field(default=None, alias="userIdentity")


class CloudTrailApiCall(CloudTrailRecord, AwsEvent):
    SOURCE: ClassVar[str] = "aws.pinpoint"
    # Every source it arrives from: Pinpoint's, and Amazon Connect's when that target is on.
    SOURCES: ClassVar[tuple[str, ...]] = ("aws.pinpoint", "aws.connect-campaigns", "aws.profile")
    DETAIL_TYPE: ClassVar[str] = "AWS API Call via CloudTrail"
    DESCRIPTION: ClassVar[str] = (
        "A write call of an engagement target (Pinpoint; Amazon Connect's outbound campaigns "
        "and Customer Profiles), seconds after it happened."
    )
    CONSUMERS: ClassVar[tuple[str, ...]] = ("log-ingester",)


class AthenaError(AwsView):
    error_category: int | None = Field(default=None, alias="errorCategory")
    error_type: int | None = Field(default=None, alias="errorType")
    error_message: str | None = Field(default=None, alias="errorMessage")
    retryable: bool | None = None


class AthenaQueryStateChange(AwsEvent):
    SOURCE: ClassVar[str] = "aws.athena"
    DETAIL_TYPE: ClassVar[str] = "Athena Query State Change"
    DESCRIPTION: ClassVar[str] = "Athena's own notice that a query changed state."
    CONSUMERS: ClassVar[tuple[str, ...]] = ("query-runner",)

    version_id: str | None = Field(default=None, alias="versionId")
    current_state: str = Field(alias="currentState")
    previous_state: str | None = Field(default=None, alias="previousState")
    statement_type: str | None = Field(default=None, alias="statementType")
    query_execution_id: str = Field(alias="queryExecutionId")
    workgroup_name: str | None = Field(default=None, alias="workgroupName")
    # Athena sends the sequence number as a string of digits; read it as a number.
    sequence_number: Annotated[
        int | None,
        WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]}),
    ] = Field(default=None, alias="sequenceNumber")
    athena_error: AthenaError | None = Field(default=None, alias="athenaError")


class ScheduledEvent(AwsEvent):
    SOURCE: ClassVar[str] = "aws.events"
    DETAIL_TYPE: ClassVar[str] = "Scheduled Event"
    DESCRIPTION: ClassVar[str] = "A scheduled rule fired (the import-job poll)."
    CONSUMERS: ClassVar[tuple[str, ...]] = ("importer",)
