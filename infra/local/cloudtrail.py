"""CloudTrail for the local cloud's emulators: records, log files in S3, events on EventBridge.

Shared by every emulator (Pinpoint, Customer Profiles, outbound campaigns): each answered
call becomes an :class:`ApiCall` naming its ``eventSource`` (``pinpoint.amazonaws.com``,
``profile.amazonaws.com``...). A record is built the way AWS's records look (eventVersion
1.08, masked fields, the request's path parameters, ``errorCode``/``errorMessage`` and null
``responseElements`` for failed calls) and delivered on both of CloudTrail's paths:

1. at once, as an "AWS API Call via CloudTrail" event on the *default* event bus, with the
   EventBridge source ``aws.<service>`` (``aws.pinpoint``, ``aws.profile``,
   ``aws.connect-campaigns``); only write calls (read-only records never reach rules);
2. in gzip JSON log files ``{"Records": [...]}``, one file per ``cadence_seconds`` window
   (5 minutes) of virtual time, written when the window has closed (:meth:`flush_due`),
   records shuffled (CloudTrail files have no order), under the real key layout.

Both go through plain boto3 (moto), so S3 -> EventBridge notifications and rules fire.
"""

from __future__ import annotations

import gzip
import json
import random
import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.model import Shape

from infra.local.clock import VirtualClock

DETAIL_TYPE = "AWS API Call via CloudTrail"
MAX_ELEMENT_BYTES = 100 * 1024  # requestParameters / responseElements above this are dropped
SENSITIVE_MASK = "HIDDEN_DUE_TO_SECURITY_REASONS"


def cloudtrail_time(moment: datetime) -> str:
    """How CloudTrail writes eventTime: ISO-8601 UTC to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def eventbridge_source(event_source: str) -> str:
    """``pinpoint.amazonaws.com`` -> ``aws.pinpoint``: the source EventBridge shows."""
    return f"aws.{event_source.removesuffix('.amazonaws.com')}"


def mask_sensitive(shape: Shape, value: Any) -> Any:
    """A copy of ``value`` (wire JSON of ``shape``) with every member the model marks
    ``sensitive`` replaced by CloudTrail's ``HIDDEN_DUE_TO_SECURITY_REASONS``."""
    if value is None:
        return None
    if shape.metadata.get("sensitive"):
        return SENSITIVE_MASK
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        by_wire = {m.serialization.get("name", n): m for n, m in members.items()}
        return {
            key: mask_sensitive(by_wire[key], item) if key in by_wire else item
            for key, item in value.items()
        }
    if kind == "list" and isinstance(value, list):
        return [mask_sensitive(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if kind == "map" and isinstance(value, dict):
        return {key: mask_sensitive(shape.value, item) for key, item in value.items()}  # type: ignore[attr-defined]
    return value


@dataclass(frozen=True)
class ApiCall:
    """What the emulator knows about one answered call, already masked."""

    event_source: str
    """``<service>.amazonaws.com``, as CloudTrail names the service."""
    event_name: str
    request_parameters: dict[str, Any] | None
    response_elements: dict[str, Any] | None
    request_id: str
    user_agent: str
    error_code: str | None = None
    error_message: str | None = None
    read_only: bool = False


def default_user_identity(account_id: str) -> dict[str, Any]:
    """A plausible IAM user, shaped like CloudTrail's userIdentity for one."""
    return {
        "type": "IAMUser",
        "principalId": "AIDAEXAMPLEPINPOINT01",
        "arn": f"arn:aws:iam::{account_id}:user/pinpoint-operator",
        "accountId": account_id,
        "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
        "userName": "pinpoint-operator",
    }


def build_record(
    call: ApiCall,
    *,
    event_time: datetime,
    event_id: str,
    region: str,
    account_id: str,
    user_identity: Mapping[str, Any],
    source_ip_address: str,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": dict(user_identity),
        "eventTime": cloudtrail_time(event_time),
        "eventSource": call.event_source,
        "eventName": call.event_name,
        "awsRegion": region,
        "sourceIPAddress": source_ip_address,
        "userAgent": call.user_agent,
    }
    if call.error_code is not None:
        record["errorCode"] = call.error_code
        record["errorMessage"] = call.error_message or ""
    record.update(
        {
            "requestParameters": _within_limit(call.request_parameters),
            "responseElements": None
            if call.error_code is not None
            else _within_limit(call.response_elements),
            "requestID": call.request_id,
            "eventID": event_id,
            "readOnly": call.read_only,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": account_id,
            "eventCategory": "Management",
            "tlsDetails": {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": call.event_source.replace(
                    ".amazonaws.com", f".{region}.amazonaws.com"
                ),
            },
        }
    )
    return record


def _within_limit(elements: dict[str, Any] | None) -> dict[str, Any] | None:
    if elements is None:
        return None
    size = len(json.dumps(elements, separators=(",", ":")).encode("utf-8"))
    return None if size > MAX_ELEMENT_BYTES else elements


def log_file_key(prefix: str, account_id: str, region: str, moment: datetime, suffix: str) -> str:
    """``<prefix>/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz``."""
    moment = moment.astimezone(UTC)
    name = f"{account_id}_CloudTrail_{region}_{moment:%Y%m%dT%H%M}Z_{suffix}.json.gz"
    path = f"AWSLogs/{account_id}/CloudTrail/{region}/{moment:%Y/%m/%d}/{name}"
    prefix = prefix.strip("/")
    return f"{prefix}/{path}" if prefix else path


class CloudTrailRecorder:
    def __init__(
        self,
        clock: VirtualClock,
        bucket: str,
        prefix: str = "",
        region: str = "us-east-1",
        account_id: str = "123456789012",
        *,
        enabled: bool = True,
        cadence_seconds: float = 300.0,
        record_reads: bool = False,
        user_identity: Mapping[str, Any] | None = None,
        source_ip_address: str = "198.51.100.24",
        seed: int | None = 0,
        s3_client: Any | None = None,
        events_client: Any | None = None,
    ) -> None:
        self.clock = clock
        self.bucket = bucket
        self.prefix = prefix
        self.region = region
        self.account_id = account_id
        self.enabled = enabled
        self.record_reads = record_reads
        self.cadence = timedelta(seconds=cadence_seconds)
        self.user_identity = dict(user_identity or default_user_identity(account_id))
        self.source_ip_address = source_ip_address
        self._random = random.Random(seed)  # noqa: S311 - shuffling and names, not secrets
        self._s3 = s3_client
        self._events = events_client
        self._pending: list[tuple[datetime, dict[str, Any]]] = []
        self.records: list[dict[str, Any]] = []  # every record made, in call order
        self.delivered_keys: list[str] = []

    # ------------------------------------------------------------------ recording

    def record(self, call: ApiCall) -> dict[str, Any] | None:
        """Record one call; returns the record, or None when disabled."""
        if not self.enabled:
            return None
        now = self.clock.now()
        record = build_record(
            call,
            event_time=now,
            event_id=str(uuid.UUID(int=self._random.getrandbits(128), version=4)),
            region=self.region,
            account_id=self.account_id,
            user_identity=self.user_identity,
            source_ip_address=self.source_ip_address,
        )
        self.records.append(record)
        self._pending.append((now, record))
        if not call.read_only:
            self._put_event(record, now, eventbridge_source(call.event_source))
        return record

    def _put_event(self, record: dict[str, Any], when: datetime, source: str) -> None:
        response = self.events_client.put_events(
            Entries=[
                {
                    "Source": source,
                    "DetailType": DETAIL_TYPE,
                    "Detail": json.dumps(record),
                    "EventBusName": "default",
                    "Time": when,
                }
            ]
        )
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused a CloudTrail event: {response['Entries']}")

    # ------------------------------------------------------------------ log files

    def busy(self) -> bool:
        return bool(self._pending)

    @property
    def pending_records(self) -> int:
        return len(self._pending)

    def flush_due(self) -> list[str]:
        """Write a log file for every cadence window that has closed; returns the keys."""
        now = self.clock.now()
        windows: dict[datetime, list[dict[str, Any]]] = {}
        kept: list[tuple[datetime, dict[str, Any]]] = []
        for when, record in self._pending:
            window_end = self._window_end(when)
            if window_end <= now:
                windows.setdefault(window_end, []).append(record)
            else:
                kept.append((when, record))
        self._pending = kept
        return [self._write(records, window_end) for window_end, records in sorted(windows.items())]

    def flush_all(self) -> list[str]:
        """Write everything pending now, in one file (as at the end of a run)."""
        if not self._pending:
            return []
        records = [record for _, record in self._pending]
        self._pending = []
        return [self._write(records, self.clock.now())]

    def _window_end(self, moment: datetime) -> datetime:
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        cadence = self.cadence.total_seconds()
        windows = (moment - epoch).total_seconds() // cadence
        return epoch + timedelta(seconds=(windows + 1) * cadence)

    def _write(self, records: list[dict[str, Any]], moment: datetime) -> str:
        shuffled = list(records)
        self._random.shuffle(shuffled)
        suffix = "".join(self._random.choices(string.ascii_letters + string.digits, k=16))
        key = log_file_key(self.prefix, self.account_id, self.region, moment, suffix)
        body = gzip.compress(json.dumps({"Records": shuffled}).encode("utf-8"), mtime=0)
        self.s3_client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            ContentEncoding="gzip",
        )
        self.delivered_keys.append(key)
        return key

    # ------------------------------------------------------------------ clients

    @property
    def s3_client(self) -> Any:
        if self._s3 is None:
            self._s3 = boto3.client("s3", region_name=self.region)
        return self._s3

    @property
    def events_client(self) -> Any:
        if self._events is None:
            self._events = boto3.client("events", region_name=self.region)
        return self._events
