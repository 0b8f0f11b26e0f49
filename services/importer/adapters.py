"""S3, Pinpoint and DynamoDB behind the importer's ports."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from contracts import (
    EndpointImportCompleted,
    EndpointImportFailed,
    ImportCheckDue,
    ImportCounts,
    RowRejection,
    SegmentQuerySucceeded,
)
from services.common.run_ledger import (
    TRACE_ATTRIBUTE,
    DynamoRunLedger,
    RunStatus,
    moment,
    stamp,
    text,
    trace_attribute,
)
from services.common.targets.connect.imports import UploadJobSpec, UploadJobView
from services.common.targets.pinpoint.imports import ImportJobSpec, ImportJobView
from services.importer.logic import (
    Ending,
    ImportRecord,
    ImportRefusedError,
    JobLookupError,
    ResultUnreadableError,
    TargetBusyError,
    TargetFullError,
)
from services.importer.rows import Sink, Source
from services.importer.sync import SyncPlan, SyncState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef
    from mypy_boto3_pinpoint import PinpointClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef
    from mypy_boto3_sqs import SQSClient

PART_SIZE = 8 * 1024 * 1024  # S3 parts are at least 5 MiB (except the last)
# Answers that mean the result file cannot be read however often we try.
_UNREADABLE_CODES = frozenset(
    {"NoSuchKey", "NoSuchBucket", "404", "NotFound", "AccessDenied", "403", "InvalidObjectState"}
)
# CreateImportJob answers that another try will not change (throttling and 5xx are retried).
_REFUSED_CODES = frozenset(
    {
        "BadRequestException",
        "NotFoundException",
        "ForbiddenException",
        "AccessDeniedException",
        "MethodNotAllowedException",
        "PayloadTooLargeException",
    }
)
_FIND_PAGES = 10  # GetImportJobs pages searched for a run's job (newest first)
# Customer Profiles answers that another try will not change (throttling and 5xx are retried).
_PROFILES_REFUSED_CODES = frozenset(
    {"BadRequestException", "AccessDeniedException", "ResourceNotFoundException"}
)
_PROFILES_BUSY_CODES = frozenset({"InternalServerException"})
# Pinpoint answers CreateImportJob with 429 when it runs as many import jobs as it allows
# (and botocore's retries did not outlast them); Customer Profiles throttles.
_PINPOINT_FULL_CODES = frozenset({"TooManyRequestsException"})
_PROFILES_FULL_CODES = frozenset({"ThrottlingException"})
_UPLOAD_PAGES = 10  # ListUploadJobs pages (500 each, newest first) searched for a run's job
UPLOAD_TIMEOUT_SECONDS = 600
SSE_C_HEADERS = (
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-server-side-encryption-customer-key",
    "x-amz-server-side-encryption-customer-key-MD5",
)


def split_s3_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class S3ResultFiles:
    """Reads the result file as a stream; writes the import file as a multipart upload.

    Memory stays at about one chunk read plus one part buffered, whatever the file size.
    """

    def __init__(self, client: Callable[[], S3Client], part_size: int = PART_SIZE) -> None:
        self._client = client
        self._part_size = part_size

    @contextmanager
    def open_result(self, uri: str) -> Iterator[Source]:
        bucket, key = split_s3_uri(uri)
        if not key or key.endswith("/"):
            raise ResultUnreadableError(f"{uri} names a folder, not the result file")
        try:
            # Exactly the result file: never the .metadata beside it, never a listing.
            response = self._client().get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _UNREADABLE_CODES:
                raise ResultUnreadableError(
                    f"the result file {uri} cannot be read ({code})"
                ) from None
            raise
        body = response["Body"]
        try:
            yield body
        finally:
            body.close()

    @contextmanager
    def create_import_file(self, uri: str) -> Iterator[Sink]:
        bucket, key = split_s3_uri(uri)
        writer = MultipartWriter(self._client(), bucket, key, self._part_size)
        try:
            yield writer
        except BaseException:
            writer.abort()
            raise
        writer.close()


class MultipartWriter:
    """A file-like S3 object writer: parts go up as they fill; one PutObject if it is small."""

    def __init__(self, client: S3Client, bucket: str, key: str, part_size: int) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._part_size = part_size
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[CompletedPartTypeDef] = []

    def write(self, data: bytes | memoryview, /) -> int:
        self._buffer += data
        if len(self._buffer) >= self._part_size:
            self._send_part()
        return len(data)

    def _send_part(self) -> None:
        if self._upload_id is None:
            self._upload_id = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=self._key, ContentType="text/csv"
            )["UploadId"]
        number = len(self._parts) + 1
        response = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=bytes(self._buffer),
        )
        self._parts.append({"ETag": response["ETag"], "PartNumber": number})
        self._buffer.clear()

    def close(self) -> None:
        if self._upload_id is None:
            self._client.put_object(
                Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer), ContentType="text/csv"
            )
            self._buffer.clear()
            return
        if self._buffer:
            self._send_part()  # the last part may be smaller than 5 MiB
        self._client.complete_multipart_upload(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )

    def abort(self) -> None:
        self._buffer.clear()
        if self._upload_id is not None:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )
            self._upload_id = None


class PinpointImportJobs:
    def __init__(self, client: Callable[[], PinpointClient]) -> None:
        self._client = client

    def create(self, application_id: str, spec: ImportJobSpec) -> str:
        request: dict[str, Any] = {
            "Format": spec.format,
            "S3Url": spec.s3_url,
            "RoleArn": spec.role_arn,
            "RegisterEndpoints": True,
        }
        if spec.segment_name is not None:
            request |= {"DefineSegment": True, "SegmentName": spec.segment_name}
        if spec.segment_id is not None:
            request["SegmentId"] = spec.segment_id
        try:
            response = self._client().create_import_job(
                ApplicationId=application_id,
                ImportJobRequest=request,  # type: ignore[arg-type]
            )
        except ClientError as error:
            details = error.response.get("Error", {})
            code = details.get("Code", "")
            if code in _REFUSED_CODES:
                message = details.get("Message") or "no message"
                raise ImportRefusedError(f"{code}: {message}"[:1024]) from None
            if code in _PINPOINT_FULL_CODES:
                raise TargetFullError(code) from None
            raise
        return response["ImportJobResponse"]["Id"]

    def find(self, application_id: str, s3_url: str) -> str | None:
        token: str | None = None
        for _ in range(_FIND_PAGES):
            arguments: dict[str, Any] = {"ApplicationId": application_id, "PageSize": "100"}
            if token:
                arguments["Token"] = token
            response = self._client().get_import_jobs(**arguments)["ImportJobsResponse"]
            for job in response.get("Item", []):
                if job.get("Definition", {}).get("S3Url") == s3_url:
                    return job["Id"]
            token = response.get("NextToken")
            if not token:
                return None
        return None

    def get(self, application_id: str, job_id: str) -> ImportJobView | None:
        try:
            response = self._client().get_import_job(ApplicationId=application_id, JobId=job_id)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            if code == "NotFoundException":
                return None
            raise JobLookupError(code) from None
        except BotoCoreError as error:
            raise JobLookupError(type(error).__name__) from None
        job = response["ImportJobResponse"]
        return ImportJobView(
            job_id=job.get("Id", job_id),
            status=job.get("JobStatus", "UNKNOWN"),
            total_processed=job.get("TotalProcessed", 0),
            total_failures=job.get("TotalFailures", 0),
            failures=tuple(job.get("Failures", [])),
            segment_id=job.get("Definition", {}).get("SegmentId"),
        )


class UploadError(RuntimeError):
    """The upload URL did not take the file; the message is retried (a new URL is asked)."""


def sse_c_headers(client_token: str) -> dict[str, str]:
    """The SSE-C headers of an upload job's PUT: the ClientToken is the (base64) key."""
    key = base64.b64decode(client_token)
    md5 = base64.b64encode(hashlib.md5(key).digest()).decode("ascii")  # noqa: S324 - S3's rule
    return dict(zip(SSE_C_HEADERS, ("AES256", client_token, md5), strict=True))


def stream_put(url: str, headers: Mapping[str, str], body: Source, length: int) -> None:
    """PUT `length` bytes read from `body` (a chunk at a time) to a pre-signed URL."""
    parts = urlsplit(url)
    connection_type = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_type(parts.netloc, timeout=UPLOAD_TIMEOUT_SECONDS)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        # A file-like body is sent in blocks; Content-Length is given, so nothing is held.
        connection.request(
            "PUT",
            target,
            body=body,
            headers={**headers, "Content-Length": str(length)},
        )
        response = connection.getresponse()
        answer = response.read(4096)
    finally:
        connection.close()
    if response.status != 200:
        code = _xml_code(answer) or str(response.status)
        raise UploadError(f"the upload URL answered {response.status} ({code})")


def _xml_code(body: bytes) -> str | None:
    start, end = body.find(b"<Code>"), body.find(b"</Code>")
    return body[start + 6 : end].decode("utf-8", "replace") if 0 <= start < end else None


Put = Callable[[str, Mapping[str, str], Source, int], None]


class ConnectUploadJobs:
    """Customer Profiles upload jobs; the file goes from S3 to the job's URL as a stream."""

    def __init__(
        self,
        client: Callable[[], Any],
        s3: Callable[[], S3Client],
        put: Put = stream_put,
    ) -> None:
        self._client = client
        self._s3 = s3
        self._put = put

    def _call(self, operation: str, **arguments: Any) -> Any:
        try:
            return getattr(self._client(), operation)(**arguments)
        except ClientError as error:
            details = error.response.get("Error", {})
            code = details.get("Code", "")
            if code in _PROFILES_FULL_CODES:
                raise TargetFullError(code) from None
            if code in _PROFILES_BUSY_CODES:
                raise TargetBusyError(code) from None
            if code in _PROFILES_REFUSED_CODES:
                message = details.get("Message") or "no message"
                raise ImportRefusedError(f"{code}: {message}"[:1024]) from None
            raise

    def find(self, domain: str, display_name: str) -> UploadJobView | None:
        token: str | None = None
        for _ in range(_UPLOAD_PAGES):
            arguments: dict[str, Any] = {"DomainName": domain, "MaxResults": 500}
            if token:
                arguments["NextToken"] = token
            response = self._call("list_upload_jobs", **arguments)
            for job in response.get("Items") or []:
                if job.get("DisplayName") == display_name:
                    return UploadJobView(job["JobId"], job.get("Status", "UNKNOWN"))
            token = response.get("NextToken")
            if not token:
                return None
        return None

    def create(self, domain: str, spec: UploadJobSpec) -> str:
        arguments: dict[str, Any] = {
            "DomainName": domain,
            "DisplayName": spec.display_name,
            "Fields": {name: dict(field) for name, field in spec.fields.items()},
            "UniqueKey": spec.unique_key,
        }
        if spec.data_expiry_days is not None:
            arguments["DataExpiry"] = spec.data_expiry_days
        return str(self._call("create_upload_job", **arguments)["JobId"])

    def upload(self, domain: str, job_id: str, import_file: str) -> None:
        path = self._call("get_upload_job_path", DomainName=domain, JobId=job_id)
        bucket, key = split_s3_uri(import_file)
        response = self._s3().get_object(Bucket=bucket, Key=key)
        body = response["Body"]
        try:
            self._put(
                str(path["Url"]),
                sse_c_headers(str(path["ClientToken"])),
                body,
                int(response["ContentLength"]),
            )
        finally:
            body.close()

    def start(self, domain: str, job_id: str) -> None:
        self._call("start_upload_job", DomainName=domain, JobId=job_id)

    def get(self, domain: str, job_id: str) -> UploadJobView | None:
        try:
            job = self._client().get_upload_job(DomainName=domain, JobId=job_id)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "Unknown")
            if code == "ResourceNotFoundException":
                return None
            raise JobLookupError(code) from None
        except BotoCoreError as error:
            raise JobLookupError(type(error).__name__) from None
        summary = job.get("ResultsSummary") or {}
        return UploadJobView(
            job_id=job.get("JobId", job_id),
            status=job.get("Status", "UNKNOWN"),
            status_reason=job.get("StatusReason"),
            created=int(summary.get("CreatedRecords") or 0),
            updated=int(summary.get("UpdatedRecords") or 0),
            failed=int(summary.get("FailedRecords") or 0),
        )

    def define_segment(
        self, domain: str, name: str, display_name: str, groups: Mapping[str, Any]
    ) -> None:
        try:
            self._call(
                "create_segment_definition",
                DomainName=domain,
                SegmentDefinitionName=name,
                DisplayName=display_name,
                SegmentGroups=dict(groups),
            )
        except ImportRefusedError:
            # A definition made by an earlier tick that died before recording the ending.
            if not self._segment_exists(domain, name):
                raise

    def _segment_exists(self, domain: str, name: str) -> bool:
        try:
            self._call("get_segment_definition", DomainName=domain, SegmentDefinitionName=name)
        except ImportRefusedError:
            return False
        return True


class DynamoImportLedger:
    """The importer's runs in the shared run ledger; the status/deadline index finds the
    ones still open."""

    def __init__(self, client: Callable[[], DynamoDBClient], table: str) -> None:
        self._ledger = DynamoRunLedger(client, table)

    def get(self, run_id: str) -> ImportRecord | None:
        item = self._ledger.get(run_id)
        return _record(item) if item else None

    def claim(self, record: ImportRecord) -> bool:
        return self._ledger.put_new(_item(record))

    def save_ended(self, record: ImportRecord) -> None:
        self._ledger.put_new(_item(record))

    def mark_running(self, run_id: str, import_job_id: str) -> bool:
        return self._ledger.move(
            run_id,
            RunStatus.SUBMITTING,
            RunStatus.RUNNING,
            # How many times the job was read by a follow-up (see mark_checked).
            {"import_job_id": {"S": import_job_id}, "checks": {"N": "0"}},
        )

    def mark_checked(self, run_id: str, check: int) -> bool:
        return self._ledger.move(
            run_id,
            RunStatus.RUNNING,
            RunStatus.RUNNING,
            {"checks": {"N": str(check)}},
            expect={"checks": {"N": str(check - 1)}},
        )

    def mark_waiting(self, run_id: str) -> bool:
        return self._ledger.move(run_id, RunStatus.SUBMITTING, RunStatus.WAITING)

    def take_waiting(self, run_id: str, now: datetime) -> bool:
        return self._ledger.move(
            run_id, RunStatus.WAITING, RunStatus.SUBMITTING, {"claimed_at": {"S": stamp(now)}}
        )

    def reclaim(self, run_id: str, claimed_at: datetime, now: datetime) -> bool:
        return self._ledger.move(
            run_id,
            RunStatus.SUBMITTING,
            RunStatus.SUBMITTING,
            {"claimed_at": {"S": stamp(now)}},
            expect={"claimed_at": {"S": stamp(claimed_at)}},
        )

    def mark_refused(self, run_id: str, outcome: Ending) -> bool:
        return self._ledger.move(
            run_id,
            RunStatus.SUBMITTING,
            RunStatus.FAILED,
            {"outcome": {"S": _outcome_json(outcome)}, "result": {"S": RunStatus.FAILED.value}},
        )

    def begin_ending(
        self,
        run_id: str,
        outcome: Ending,
        result: RunStatus,
        now: datetime,
        *,
        current: RunStatus = RunStatus.RUNNING,
    ) -> bool:
        return self._ledger.move(
            run_id,
            current,
            RunStatus.ENDING,
            {
                "outcome": {"S": _outcome_json(outcome)},
                "result": {"S": result.value},
                "claimed_at": {"S": stamp(now)},
            },
        )

    def mark_ended(self, run_id: str, result: RunStatus) -> bool:
        return self._ledger.move(run_id, RunStatus.ENDING, result)

    def open_runs(self, status: RunStatus, limit: int) -> list[ImportRecord]:
        return [_record(item) for item in self._ledger.in_status(status, limit=limit)]


# Counts written since syncs exist (absent from older items).
_SYNC_COUNTS = ("rows_in_result", "rows_sent", "rows_unchanged", "rows_cleared")


class SqsFollowUps:
    """Follow-ups go to the importer's own queue, in the envelope EventBridge would deliver
    (the batch loop reads them like every other event), delayed with DelaySeconds. Only the
    importer's role may send to that queue; the queue's policy admits only its rules."""

    def __init__(self, client: Callable[[], SQSClient], queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, due: ImportCheckDue, *, delay_seconds: int, trace_header: str | None) -> None:
        envelope = {
            "version": "0",
            "id": due.event_id,
            "detail-type": due.DETAIL_TYPE,
            "source": due.SOURCE,
            "time": due.metadata.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "resources": [],
            "detail": json.loads(due.detail_json()),
        }
        arguments: dict[str, Any] = {
            "QueueUrl": self._queue_url,
            "MessageBody": json.dumps(envelope),
            "DelaySeconds": delay_seconds,
        }
        if trace_header:
            arguments["MessageSystemAttributes"] = {
                "AWSTraceHeader": {"StringValue": trace_header, "DataType": "String"}
            }
        self._client().send_message(**arguments)


class DynamoImportSlots:
    """Import slots as one item per scope in the run table (`run_id` = `slots#<scope>`,
    outside the status index): the set of runs holding a slot, grown only under a
    condition on its size, so two deliveries can never hold more than `most` between them.
    Taking a slot a run holds already, or releasing one it does not hold, changes nothing."""

    def __init__(self, client: Callable[[], DynamoDBClient], table: str) -> None:
        self._client = client
        self._table = table

    def _key(self, scope: str) -> dict[str, AttributeValueTypeDef]:
        return {"run_id": {"S": f"slots#{scope}"}}

    def take(self, scope: str, run_id: str, most: int) -> bool:
        try:
            self._client().update_item(
                TableName=self._table,
                Key=self._key(scope),
                UpdateExpression="ADD holders :run",
                ConditionExpression=(
                    "attribute_not_exists(holders) OR contains(holders, :id) "
                    "OR size(holders) < :most"
                ),
                ExpressionAttributeValues={
                    ":run": {"SS": [run_id]},
                    ":id": {"S": run_id},
                    ":most": {"N": str(most)},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, scope: str, run_id: str) -> None:
        self._client().update_item(
            TableName=self._table,
            Key=self._key(scope),
            UpdateExpression="DELETE holders :run",
            ExpressionAttributeValues={":run": {"SS": [run_id]}},
        )

    def holders(self, scope: str) -> frozenset[str]:
        item = (
            self._client()
            .get_item(TableName=self._table, Key=self._key(scope), ConsistentRead=True)
            .get("Item")
        )
        return frozenset((item or {}).get("holders", {}).get("SS", []))


def _outcome_json(outcome: Ending) -> str:
    stored = {"detail_type": outcome.DETAIL_TYPE, "event": outcome.model_dump(mode="json")}
    return json.dumps(stored)


def _outcome(text: str) -> Ending:
    stored = json.loads(text)
    if stored["detail_type"] == EndpointImportFailed.DETAIL_TYPE:
        return EndpointImportFailed.model_validate(stored["event"])
    return EndpointImportCompleted.model_validate(stored["event"])


def _item(record: ImportRecord) -> dict[str, AttributeValueTypeDef]:
    item: dict[str, AttributeValueTypeDef] = {
        "run_id": {"S": record.run_id},
        "status": {"S": record.status.value},
        "application_id": {"S": record.application_id},
        "deadline": {"S": stamp(record.deadline)},
        "claimed_at": {"S": stamp(record.claimed_at)},
        "succeeded": {"S": record.cause.model_dump_json()},
        "rows_read": {"N": str(record.counts.rows_read)},
        "rows_rejected": {"N": str(record.counts.rows_rejected)},
        "rows_to_import": {"N": str(record.counts.rows_to_import)},
        **{
            name: {"N": str(value)}
            for name in _SYNC_COUNTS
            if (value := getattr(record.counts, name)) is not None
        },
        "rejection_sample": {
            "S": json.dumps([r.model_dump(mode="json") for r in record.rejection_sample])
        },
    }
    if record.import_file:
        item["import_file"] = {"S": record.import_file}
    if record.import_job_id is not None:
        item["import_job_id"] = {"S": record.import_job_id}
    if record.result is not None:
        item["result"] = {"S": record.result.value}
    if record.outcome is not None:
        item["outcome"] = {"S": _outcome_json(record.outcome)}
    if record.columns:
        item["columns"] = {"S": json.dumps(list(record.columns))}
    if record.sync is not None:
        item["sync"] = {"S": record.sync.to_json()}
    return item | trace_attribute(record.trace_header)


def _record(item: Any) -> ImportRecord:
    outcome = text(item, "outcome")
    result = text(item, "result")
    return ImportRecord(
        run_id=item["run_id"]["S"],
        status=RunStatus(item["status"]["S"]),
        cause=SegmentQuerySucceeded.model_validate_json(item["succeeded"]["S"]),
        import_file=text(item, "import_file") or "",
        deadline=moment(item["deadline"]["S"]),
        claimed_at=moment(item["claimed_at"]["S"]),
        counts=ImportCounts(
            rows_read=int(item["rows_read"]["N"]),
            rows_rejected=int(item["rows_rejected"]["N"]),
            rows_to_import=int(item["rows_to_import"]["N"]),
            **{name: int(item[name]["N"]) for name in _SYNC_COUNTS if name in item},
        ),
        rejection_sample=tuple(
            RowRejection.model_validate(r)
            for r in json.loads(text(item, "rejection_sample") or "[]")
        ),
        import_job_id=text(item, "import_job_id"),
        result=_result(result),
        outcome=_outcome(outcome) if outcome else None,
        trace_header=text(item, TRACE_ATTRIBUTE),
        columns=tuple(json.loads(text(item, "columns") or "[]")),
        sync=SyncPlan.from_json(sync) if (sync := text(item, "sync")) else None,
    )


def _result(value: str | None) -> RunStatus | None:
    """How the run ends; items written before the shared vocabulary hold it in lower case."""
    return RunStatus(value.upper()) if value else None


SYNC_KEY_PREFIX = "sync#"  # never a run id (they hold no '#')


class DynamoSyncStates:
    """The last successful sync of each sync key: one item per key in the importer's run
    table, keyed `sync#<scope>` (outside the by-status index: it has no status). Saved
    conditionally, so a run that ended late never replaces a later run's sync."""

    def __init__(self, client: Callable[[], DynamoDBClient], table: str) -> None:
        self._client = client
        self._table = table

    def last(self, scope: str) -> SyncState | None:
        item = (
            self._client()
            .get_item(
                TableName=self._table,
                Key={"run_id": {"S": SYNC_KEY_PREFIX + scope}},
                ConsistentRead=True,
            )
            .get("Item")
        )
        if item is None:
            return None
        return SyncState(
            scope=scope,
            run_id=item["sync_run_id"]["S"],
            snapshot=text(item, "snapshot") or "",
            columns=tuple(json.loads(item["columns"]["S"])),
            synced_at=moment(item["synced_at"]["S"]),
            segment_id=text(item, "segment_id"),
        )

    def save(self, state: SyncState) -> bool:
        item: dict[str, AttributeValueTypeDef] = {
            "run_id": {"S": SYNC_KEY_PREFIX + state.scope},
            "sync_run_id": {"S": state.run_id},
            "snapshot": {"S": state.snapshot},
            "columns": {"S": json.dumps(list(state.columns))},
            "synced_at": {"S": stamp(state.synced_at)},
        }
        if state.segment_id is not None:
            item["segment_id"] = {"S": state.segment_id}
        try:
            self._client().put_item(
                TableName=self._table,
                Item=item,
                # The same run again (a repeated tick) or a later one; never an older one.
                ConditionExpression="attribute_not_exists(run_id) OR synced_at <= :at",
                ExpressionAttributeValues={":at": {"S": stamp(state.synced_at)}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


class RunnerLedger:
    """The query-runner's ledger, read only: did the runner produce this result?"""

    def __init__(self, client: Callable[[], DynamoDBClient], table: str) -> None:
        self._ledger = DynamoRunLedger(client, table)

    def produced(self, run_id: str, query_execution_id: str) -> bool:
        item = self._ledger.get(run_id)
        return (
            item is not None
            and text(item, "status") == RunStatus.SUCCEEDED.value
            and text(item, "query_execution_id") == query_execution_id
        )
