"""A corpus of bad input for the log-ingester, run through its Lambda handler.

Each damaged CloudTrail file, record or event is put between good records (or beside a good
file in the same batch) and must be:

- *counted*: a metric by reason (RecordsRejected / RecordsSkipped with a `reason` dimension,
  CorruptLogFiles, LogFilesMissing, FilesSkipped);
- *reported*: a log line naming the reason and the position, never the record's content;
- *settled the right way*: permanent damage (AWS's bytes will never read better) is
  acknowledged; a fault of the source (S3 throttling, a dropped connection) fails the
  message so SQS retries it, and after maxReceiveCount moves it to the DLQ;
- *harmless to its neighbours*: the good records around it, and the good files of its batch,
  still become PinpointResourceChanged events.

The last test runs the same on the local cloud, where the redrive to the DLQ is real.
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import Event, PinpointResourceChanged, put_events_entry
from services.common.targets.pinpoint.catalog import PINPOINT_CATALOG
from services.log_ingester import handler
from services.log_ingester.cloudtrail_reader import MAX_RECORD_BYTES
from services.log_ingester.logic import FileStatus, ingest_log_file
from tests.fixtures.cloudtrail import (
    APP_ID,
    CAMPAIGN_ID,
    OTHER_APP_ID,
    TRAIL_BUCKET,
    api_call_event,
    at,
    digest_key,
    envelope,
    eventbridge_event,
    log_file,
    log_file_key,
    noise_record,
    object_created_event,
    pinpoint_id,
    pinpoint_record,
)
from tests.fixtures.functions import service_function
from tests.fixtures.lambda_events import FakeLambdaContext, sqs_batch
from tests.unit.log_ingester.fakes import FakeLogFiles, TrackedStream

KEY = log_file_key(at(9, 5))
MULTI_MEGABYTE = 3 * 1024 * 1024  # above the reader's 2 MB bound for one record

# ---------------------------------------------------------------------- harness


class RecordingPublisher:
    """Builds each entry as the real publisher does (JSON, 256 KB check) and keeps the events."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def publish(self, events: Sequence[Event]) -> None:
        for event in events:
            put_events_entry(event, event_bus_name="pinpoint-lake")
        self.events.extend(events)


@dataclass
class Ingester:
    files: FakeLogFiles | FlakyLogFiles
    publisher: RecordingPublisher
    capsys: pytest.CaptureFixture[str]
    caplog: pytest.LogCaptureFixture
    _out: list[str] = field(default_factory=list)

    def run(self, *events: dict[str, Any] | str) -> dict[str, Any]:
        function = service_function(handler, log_files=self.files, publish=self.publisher.publish)
        answer = function(sqs_batch(*events), FakeLambdaContext())
        self._out.append(self.capsys.readouterr().out)
        return dict(answer)

    def assert_logs_writable(self) -> None:
        """Every log line can be written as UTF-8: a lone surrogate in one makes the logging
        module drop the whole line (pytest's capture would hide that, so check it here)."""
        for record in self.caplog.records:
            line = json.dumps(vars(record), ensure_ascii=False, default=str)
            line.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate

    def changed_ids(self) -> list[str]:
        return [
            event.data.resource_id
            for event in self.publisher.events
            if isinstance(event, PinpointResourceChanged)
        ]

    def metrics(self) -> Counter[tuple[str, str | None]]:
        """Every metric emitted (EMF on stdout), summed by (name, reason dimension)."""
        totals: Counter[tuple[str, str | None]] = Counter()
        for line in "".join(self._out).splitlines():
            if not line.startswith("{"):
                continue
            document = json.loads(line)
            for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
                dimensions = {name for group in directive["Dimensions"] for name in group}
                reason = document.get("reason") if "reason" in dimensions else None
                for metric in directive["Metrics"]:
                    values = document[metric["Name"]]
                    totals[(metric["Name"], reason)] += int(
                        sum(values) if isinstance(values, list) else values
                    )
        return totals

    def logs(self, level: str | None = None) -> list[dict[str, Any]]:
        return [
            vars(record)
            for record in self.caplog.records
            if level is None or record.levelname == level
        ]


@pytest.fixture
def ingester(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> Ingester:
    for name, value in {
        "POWERTOOLS_SERVICE_NAME": "log-ingester",
        "EVENT_BUS_NAME": "pinpoint-lake",
        "MONITORED_PROJECT_IDS": APP_ID,
    }.items():
        monkeypatch.setenv(name, value)
    files, publisher = FakeLogFiles(), RecordingPublisher()
    capsys.readouterr()
    return Ingester(files, publisher, capsys, caplog)


def failed(answer: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in answer["batchItemFailures"]]


# ---------------------------------------------------------------------- building bad records


def good(n: int) -> dict[str, Any]:
    """A segment of its own: one change, never coalesced with another good record."""
    return pinpoint_record("CreateSegment", APP_ID, pinpoint_id(f"good-{n}"), at(9, n % 60))


def good_id(n: int) -> str:
    return pinpoint_id(f"good-{n}")


def without(record: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in names}


def update(**fields: Any) -> dict[str, Any]:
    """An UpdateCampaign of the monitored project, with `fields` set on the record."""
    return pinpoint_record("UpdateCampaign", APP_ID, CAMPAIGN_ID, at(9, 30)) | fields


def elements_file(elements: Sequence[bytes]) -> bytes:
    """A log file whose Records are these JSON texts, written as they are (bad ones included)."""
    return gzip.compress(b'{"Records":[' + b",".join(elements) + b"]}", mtime=0)


def text(record: Any) -> bytes:
    return json.dumps(record, separators=(",", ":")).encode()


def with_surrogate(record: dict[str, Any], path: Sequence[str]) -> bytes:
    """The record's JSON with the string at `path` replaced by the escape of a lone surrogate.

    json.dumps writes "\\ud800" for it, as any JSON writer may; UTF-8 cannot encode it.
    """
    copy = json.loads(json.dumps(record))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "x\ud800y"
    return json.dumps(copy, separators=(",", ":")).encode()


def nested(depth: int) -> bytes:
    """A Pinpoint-looking record nesting lists `depth` deep (beyond json's recursion limit)."""
    head = b'{"eventVersion":"1.08","eventSource":"pinpoint.amazonaws.com","requestParameters":'
    return head + b"[" * depth + b"]" * depth + b"}"


@dataclass(frozen=True)
class BadRecord:
    """A record between good ones; what it must be counted as (rejected or skipped, and why)."""

    element: bytes
    counted: str  # "RecordsRejected" | "RecordsSkipped"
    reason: str
    # An API-call event is not pre-filtered: a record the filter drops from a file as another
    # service's is validated there, and may be rejected instead.
    as_event: tuple[str, str] | None = None


def rejected(reason: str, element: Any) -> BadRecord:
    return BadRecord(
        element if isinstance(element, bytes) else text(element), "RecordsRejected", reason
    )


def skipped(reason: str, element: Any, as_event: tuple[str, str] | None = None) -> BadRecord:
    return BadRecord(
        element if isinstance(element, bytes) else text(element),
        "RecordsSkipped",
        reason,
        as_event,
    )


def _oversized(record: dict[str, Any]) -> dict[str, Any]:
    return record | {
        "requestParameters": {**(record["requestParameters"] or {}), "pad": "x" * MULTI_MEGABYTE}
    }


_NAMING_PINPOINT = envelope(
    "iam.amazonaws.com",
    "CreateServiceLinkedRole",
    request_parameters={"aWSServiceName": "pinpoint.amazonaws.com"},
)
_LOOKALIKE = pinpoint_record("CreateCampaign", APP_ID, CAMPAIGN_ID) | {
    "eventSource": "personalize.amazonaws.com",
    "requestParameters": {"roleArn": "arn:aws:iam::123456789012:role/pinpoint.amazonaws.com"},
}

BAD_RECORDS: dict[str, BadRecord] = {
    # Fields missing or null.
    "missing eventName": rejected("missing_field", without(update(), "eventName")),
    "missing eventTime": rejected("missing_field", without(update(), "eventTime")),
    "missing eventID": rejected("missing_field", without(update(), "eventID")),
    # Without eventSource nothing says Pinpoint: the pre-filter counts it as another service's.
    "missing eventSource": skipped(
        "other_service",
        without(update(), "eventSource"),
        as_event=("RecordsRejected", "missing_field"),
    ),
    "eventSource null": skipped(
        "other_service", update(eventSource=None), as_event=("RecordsRejected", "wrong_type")
    ),
    "create with responseElements null": rejected(
        "missing_response", pinpoint_record("CreateCampaign", response_elements=None)
    ),
    "import job with responseElements null": rejected(
        "missing_response", pinpoint_record("CreateImportJob", response_elements=None)
    ),
    "delete with both elements null": rejected(
        "missing_application_id",
        pinpoint_record("DeleteSegment", request_parameters=None, response_elements=None),
    ),
    "create whose response has no Id": rejected(
        "missing_resource_id",
        pinpoint_record("CreateSegment", response_elements={"ApplicationId": APP_ID}),
    ),
    # Fields of the wrong type or shape.
    "eventTime not a time": rejected("wrong_type", update(eventTime="yesterday")),
    "eventTime without a zone": rejected("wrong_type", update(eventTime="2026-11-22T09:30:00")),
    "eventName a number": rejected("wrong_type", update(eventName=42)),
    "eventID an object": rejected("wrong_type", update(eventID={"id": 1})),
    "eventID longer than a label": rejected("wrong_type", update(eventID="e" * 300)),
    "requestParameters a list": rejected("wrong_type", update(requestParameters=["a"])),
    "responseElements a string": rejected("wrong_type", update(responseElements="***")),
    "application id not a Pinpoint id": rejected(
        "invalid_application_id",
        update(requestParameters={"application-id": "my app", "campaign-id": CAMPAIGN_ID}),
    ),
    "application id a list": rejected(
        "invalid_application_id",
        update(requestParameters={"application-id": [APP_ID], "campaign-id": CAMPAIGN_ID}),
    ),
    "resource id not a Pinpoint id": rejected(
        "invalid_resource_id",
        update(requestParameters={"application-id": APP_ID, "campaign-id": "Winback"}),
    ),
    # Elements that are not records at all.
    "not JSON": rejected("invalid_json", b'{"eventSource":"pinpoint.amazonaws.com",oops}'),
    "a string": rejected("not_an_object", b'"pinpoint.amazonaws.com"'),
    "a list": rejected("not_an_object", b'["pinpoint.amazonaws.com", 1]'),
    "nested beyond the recursion limit": rejected("invalid_json", nested(100_000)),
    "invalid UTF-8": rejected(
        "invalid_json", b'{"eventSource":"pinpoint.amazonaws.com","eventName":"\xff\xfe"}'
    ),
    # Oversized: CloudTrail keeps records far below this, so it is damage, skipped unread.
    "a multi-megabyte Pinpoint record": rejected("too_large", _oversized(update())),
    "a multi-megabyte record of another service": rejected(
        "too_large", noise_record(padding=MULTI_MEGABYTE)
    ),
    # Other services' operations of the same names.
    "personalize CreateCampaign": skipped(
        "other_service", noise_record("personalize.amazonaws.com", "CreateCampaign")
    ),
    "personalize DeleteSegment": skipped(
        "other_service", noise_record("personalize.amazonaws.com", "DeleteSegment")
    ),
    "evidently CreateSegment": skipped(
        "other_service", noise_record("evidently.amazonaws.com", "CreateSegment")
    ),
    "connect campaigns DeleteCampaign": skipped(
        "other_service", noise_record("connectcampaigns.amazonaws.com", "DeleteCampaign")
    ),
    "a Pinpoint-shaped record of personalize naming pinpoint": skipped("other_service", _LOOKALIKE),
    "iam naming pinpoint in its parameters": skipped("other_service", _NAMING_PINPOINT),
    # Pinpoint operations that are not catalog changes, and records that are not ours.
    **{
        f"unknown Pinpoint operation {name or '(empty)'}": skipped(
            "unhandled_operation", pinpoint_record(name or "UpdateEndpoint") | {"eventName": name}
        )
        for name in (
            "UpdateEndpoint",
            "PutEvents",
            "CreateApp",
            "DeleteApp",
            "UpdateApplicationSettings",
            "TagResource",
            "CreateExportJob",
            "CreateCampaignV2",
            "createcampaign",
            "",
        )
    },
    "a failed call": skipped(
        "failed_call", update(errorCode="AccessDenied", responseElements=None)
    ),
    "an unmonitored project": skipped(
        "unmonitored_application", pinpoint_record("UpdateSegment", OTHER_APP_ID)
    ),
    "an import job defining no segment": skipped(
        "import_without_segment",
        pinpoint_record(
            "CreateImportJob", request_parameters={"application-id": APP_ID, "Format": "CSV"}
        ),
    ),
    # Unicode.
    "eventName with a zero-width space": skipped(
        "unhandled_operation", update(eventName="UpdateCampaign\u200b")
    ),
    "eventName with a Cyrillic look-alike": skipped(
        "unhandled_operation", update(eventName="Updat\u0435Campaign")
    ),
    "eventName with a lone surrogate": skipped(
        "unhandled_operation", with_surrogate(update(), ["eventName"])
    ),
    "eventID with a lone surrogate": rejected("wrong_type", with_surrogate(update(), ["eventID"])),
    "application id with a lone surrogate": rejected(
        "invalid_application_id", with_surrogate(update(), ["requestParameters", "application-id"])
    ),
}


@pytest.mark.parametrize("case", list(BAD_RECORDS), ids=list(BAD_RECORDS))
def test_a_bad_record_is_counted_and_reported_and_its_neighbours_go_through(
    ingester: Ingester, case: str
) -> None:
    bad = BAD_RECORDS[case]
    noise = text(noise_record())
    # Two good records first, so the reader has learned how records are separated.
    ingester.files.put(
        TRAIL_BUCKET,
        KEY,
        elements_file([text(good(0)), noise, text(good(1)), bad.element, noise, text(good(2))]),
    )

    answer = ingester.run(object_created_event(TRAIL_BUCKET, KEY))

    assert failed(answer) == []  # bad data is acknowledged, never retried
    assert ingester.changed_ids() == [good_id(0), good_id(1), good_id(2)]
    metrics = ingester.metrics()
    noise_count = 2 if bad.reason == "other_service" else 0
    assert metrics[(bad.counted, bad.reason)] == 1 + noise_count
    assert metrics[("RecordsRead", None)] == 6
    assert metrics[("CorruptLogFiles", None)] == 0
    if bad.counted == "RecordsRejected":
        [warning] = [
            log for log in ingester.logs("WARNING") if log["msg"] == "CloudTrail record rejected"
        ]
        assert (warning["reason"], warning["record_index"], warning["key"]) == (bad.reason, 3, KEY)
    # What a log line shows of a record: reason, position, operation, id; never its content.
    logged = json.dumps(ingester.logs(), default=str)
    for content in ("xxxxxxxx", "Winback", "my app", "roleArn", "aWSServiceName"):
        assert content not in logged
    ingester.assert_logs_writable()


def test_an_oversized_record_is_stepped_over_without_being_held() -> None:
    huge = noise_record(padding=40 * 1024 * 1024)  # 40 MB of one record, 40 KB gzipped
    body = log_file([good(0), noise_record(), good(1), huge, good(2)])
    del huge
    files = FakeLogFiles({(TRAIL_BUCKET, KEY): body})
    tracemalloc.start()
    try:
        outcome = ingest_log_file(files, TRAIL_BUCKET, KEY, (APP_ID,), catalog=PINPOINT_CATALOG)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.status is FileStatus.READ
    assert [event.data.resource_id for event in outcome.events] == [good_id(n) for n in range(3)]
    assert outcome.report.rejected == {"too_large": 1}
    # The reader's bound for one record and a chunk or two: not the record.
    assert peak < 4 * MAX_RECORD_BYTES


# Records that look damaged but still say what changed: a change, not a rejection.
TOLERATED: dict[str, tuple[dict[str, Any] | bytes, str]] = {
    # CloudTrail drops requestParameters above 100 KB: the ids come from the response.
    "update without requestParameters": (without(update(), "requestParameters"), CAMPAIGN_ID),
    "update with requestParameters null": (update(requestParameters=None), CAMPAIGN_ID),
    # ...and responseElements: the path parameters still name the resource.
    "update with responseElements null": (update(responseElements=None), CAMPAIGN_ID),
    "delete with responseElements null": (
        pinpoint_record("DeleteCampaign", APP_ID, CAMPAIGN_ID, response_elements=None),
        CAMPAIGN_ID,
    ),
    "unknown extra fields": (update(additionalEventData={"x": [1, {"y": None}]}), CAMPAIGN_ID),
    "a trigger event named with emoji and non-BMP letters": (
        pinpoint_record("UpdateCampaign", APP_ID, CAMPAIGN_ID, event_type="🎉 sign\U0001d518p"),
        CAMPAIGN_ID,
    ),
    "an unmasked non-BMP name": (
        pinpoint_record(
            "CreateSegment",
            APP_ID,
            pinpoint_id("named"),
            request_parameters={"application-id": APP_ID, "Name": "\U0001d50aold 🎯 клиенты"},
        ),
        pinpoint_id("named"),
    ),
    "a lone surrogate in a field nobody reads": (
        with_surrogate(update(), ["userIdentity", "arn"]),
        CAMPAIGN_ID,
    ),
}


@pytest.mark.parametrize("case", list(TOLERATED), ids=list(TOLERATED))
def test_records_that_only_look_damaged_still_report_their_change(
    ingester: Ingester, case: str
) -> None:
    record, resource_id = TOLERATED[case]
    element = record if isinstance(record, bytes) else text(record)
    ingester.files.put(TRAIL_BUCKET, KEY, elements_file([text(good(0)), element, text(good(1))]))

    assert failed(ingester.run(object_created_event(TRAIL_BUCKET, KEY))) == []

    assert sorted(ingester.changed_ids()) == sorted([good_id(0), resource_id, good_id(1)])
    assert not [name for name, _ in ingester.metrics() if name == "RecordsRejected"]


def test_emoji_reach_the_event_intact(ingester: Ingester) -> None:
    trigger = "🎉 sign\U0001d518p"
    record = pinpoint_record("UpdateCampaign", APP_ID, CAMPAIGN_ID, event_type=trigger)
    ingester.files.put(TRAIL_BUCKET, KEY, log_file([record]))
    ingester.run(object_created_event(TRAIL_BUCKET, KEY))
    [event] = ingester.publisher.events
    assert isinstance(event, PinpointResourceChanged)
    assert event.data.known.event_name == trigger
    assert json.loads(event.detail_json())["data"]["known"]["event_name"] == trigger


def test_a_lone_surrogate_is_logged_as_its_escape(ingester: Ingester) -> None:
    ingester.files.put(TRAIL_BUCKET, KEY, elements_file([with_surrogate(update(), ["eventID"])]))
    ingester.run(object_created_event(TRAIL_BUCKET, KEY))
    [warning] = [
        log for log in ingester.logs("WARNING") if log["msg"] == "CloudTrail record rejected"
    ]
    assert warning["cloudtrail_event_id"] == "x\\ud800y"
    ingester.assert_logs_writable()


# ---------------------------------------------------------------------- damaged files


def _truncated() -> bytes:
    whole = log_file([good(n) for n in range(40)])
    return whole[: len(whole) // 2]


def _damaged_deflate() -> bytes:
    body = bytearray(log_file([good(n) for n in range(5)]))
    body[30:60] = b"\xff" * 30
    return bytes(body)


def _bomb() -> bytes:
    """50 MB of zeros in 50 KB: rejected by its first bytes, never inflated whole."""
    return gzip.compress(b"\0" * 50_000_000, compresslevel=9, mtime=0)


DAMAGED_FILES: dict[str, tuple[bytes, str]] = {
    "truncated gzip": (_truncated(), "truncated"),
    "not gzip": (b"this is not gzip", "not valid gzip"),
    "empty object": (b"", "empty"),
    "gzip with a damaged body": (_damaged_deflate(), "not valid gzip"),
    "gzip followed by junk": (log_file([good(0)]) + b"junk", "not valid gzip"),
    "gzip of plain text": (gzip.compress(b"hello, CloudTrail"), "not a JSON object"),
    "gzip of nothing": (gzip.compress(b""), "holds no JSON"),
    "gzip of a JSON array": (gzip.compress(b'[{"eventVersion": "1.08"}]'), "not a JSON object"),
    "no Records key": (gzip.compress(b'{"digest": []}'), '"Records" list'),
    "Records not first": (gzip.compress(b'{"x": 1, "Records": []}'), '"Records" list'),
    "Records an object": (gzip.compress(b'{"Records": {"a": 1}}'), '"Records" list'),
    "Records a string": (gzip.compress(b'{"Records": "[]"}'), '"Records" list'),
    "Records null": (gzip.compress(b'{"Records": null}'), '"Records" list'),
    "Records a number": (gzip.compress(b'{"Records": 5}'), '"Records" list'),
    "data after the Records object": (
        gzip.compress(b'{"Records": []} {"Records": []}'),
        "data after the Records object",
    ),
    "records not separated": (gzip.compress(b'{"Records": [{"a": 1} {"b": 2}]}'), "expected ','"),
    "UTF-16 text": (gzip.compress('{"Records": []}'.encode("utf-16")), "not a JSON object"),
    "a decompression bomb": (_bomb(), "not a JSON object"),
    # The first record teaches the reader how records are separated; without that it cannot
    # step over an oversized one, so the file is reported as corrupt.
    "a multi-megabyte first record": (
        log_file([noise_record(padding=MULTI_MEGABYTE), good(0)]),
        "larger than",
    ),
}


@pytest.mark.parametrize("case", list(DAMAGED_FILES), ids=list(DAMAGED_FILES))
def test_a_damaged_file_is_reported_and_acknowledged_beside_a_good_file(
    ingester: Ingester, case: str
) -> None:
    body, problem = DAMAGED_FILES[case]
    good_key = log_file_key(at(9, 10))
    ingester.files.put(TRAIL_BUCKET, KEY, body)
    ingester.files.put(TRAIL_BUCKET, good_key, log_file([good(7)]))

    answer = ingester.run(
        object_created_event(TRAIL_BUCKET, KEY), object_created_event(TRAIL_BUCKET, good_key)
    )

    assert failed(answer) == []  # reading it again cannot help: no retry loop, no DLQ
    assert ingester.changed_ids()[-1:] == [good_id(7)]  # the good file of the batch
    metrics = ingester.metrics()
    assert metrics[("CorruptLogFiles", None)] == 1
    assert metrics[("LogFilesRead", None)] == 2
    [error] = ingester.logs("ERROR")
    assert (error["key"], error["bucket"]) == (KEY, TRAIL_BUCKET)
    assert problem in error["problem"]
    assert all(stream.closed for stream in ingester.files.opened)


def test_the_records_before_the_damage_are_kept(ingester: Ingester) -> None:
    ingester.files.put(TRAIL_BUCKET, KEY, _truncated())
    ingester.run(object_created_event(TRAIL_BUCKET, KEY))
    published = ingester.changed_ids()
    assert 0 < len(published) < 40
    assert published == [good_id(n) for n in range(len(published))]


def test_a_file_with_a_utf8_bom_is_read(ingester: Ingester) -> None:
    body = b"\xef\xbb\xbf" + gzip.decompress(log_file([good(0)]))
    ingester.files.put(TRAIL_BUCKET, KEY, gzip.compress(body))
    assert failed(ingester.run(object_created_event(TRAIL_BUCKET, KEY))) == []
    assert ingester.changed_ids() == [good_id(0)]


# ---------------------------------------------------------------------- S3 notifications


def test_objects_that_are_not_log_files_are_skipped_unread(ingester: Ingester) -> None:
    keys = [
        digest_key(),
        "AWSLogs/123456789012/CloudTrail-Insight/us-east-1/2026/11/22/x.json.gz",
        "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/22/notes.txt",
        "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/22/🎉 ünïcode.json",
    ]
    answer = ingester.run(*(object_created_event(TRAIL_BUCKET, key) for key in keys))
    assert failed(answer) == []
    assert ingester.files.requests == []
    assert ingester.metrics()[("FilesSkipped", None)] == len(keys)


def test_a_vanished_file_is_reported_and_acknowledged(ingester: Ingester) -> None:
    good_key = log_file_key(at(9, 10))
    ingester.files.put(TRAIL_BUCKET, good_key, log_file([good(0)]))
    answer = ingester.run(
        object_created_event(TRAIL_BUCKET, KEY), object_created_event(TRAIL_BUCKET, good_key)
    )
    assert failed(answer) == []  # S3 reads after writes: a missing key was deleted, for good
    assert ingester.changed_ids() == [good_id(0)]
    assert ingester.metrics()[("LogFilesMissing", None)] == 1
    assert any("no longer exists" in log["msg"] for log in ingester.logs("WARNING"))


class DroppingStream(TrackedStream):
    """A body whose connection drops after `after` bytes, as a reset S3 stream does."""

    def __init__(self, body: bytes, registry: list[TrackedStream], after: int) -> None:
        super().__init__(body, registry)
        self._after = after

    def read(self, size: int | None = -1, /) -> bytes:
        if self.tell() >= self._after:
            raise ConnectionResetError("connection reset by peer")
        return super().read(min(size if size and size > 0 else 1024, 1024))


class FlakyLogFiles(FakeLogFiles):
    """Log files where one key fails the way `fault` says; the others read normally."""

    def __init__(self, bad_key: str, fault: Callable[[bytes, list[TrackedStream]], Any]) -> None:
        super().__init__()
        self.bad_key, self.fault = bad_key, fault

    def open(self, bucket: str, key: str) -> TrackedStream | None:
        if key != self.bad_key:
            return super().open(bucket, key)
        self.requests.append((bucket, key))
        return self.fault(self.objects[(bucket, key)], self.opened)  # type: ignore[no-any-return]


def _raise(error: Exception) -> Callable[[bytes, list[TrackedStream]], Any]:
    def fault(body: bytes, registry: list[TrackedStream]) -> Any:
        raise error

    return fault


TRANSIENT_FAULTS: dict[str, Callable[[bytes, list[TrackedStream]], Any]] = {
    "S3 throttling": _raise(ClientError({"Error": {"Code": "SlowDown"}}, "GetObject")),
    "S3 internal error": _raise(ClientError({"Error": {"Code": "InternalError"}}, "GetObject")),
    "access denied": _raise(ClientError({"Error": {"Code": "AccessDenied"}}, "GetObject")),
    "a timeout": _raise(TimeoutError("read timed out")),
    "a connection dropped mid-file": lambda body, registry: DroppingStream(
        body, registry, len(body) // 2
    ),
}


@pytest.mark.parametrize("case", list(TRANSIENT_FAULTS), ids=list(TRANSIENT_FAULTS))
def test_a_fault_of_the_source_fails_only_its_message_for_a_retry(
    ingester: Ingester, case: str
) -> None:
    files = ingester.files = FlakyLogFiles(KEY, TRANSIENT_FAULTS[case])
    good_key = log_file_key(at(9, 10))
    files.put(TRAIL_BUCKET, KEY, log_file([good(n) for n in range(200)]))
    files.put(TRAIL_BUCKET, good_key, log_file([good(500)]))

    answer = ingester.run(
        object_created_event(TRAIL_BUCKET, KEY), object_created_event(TRAIL_BUCKET, good_key)
    )

    assert failed(answer) == ["m0"]  # retried by SQS; the DLQ after maxReceiveCount
    assert good_id(500) in ingester.changed_ids()
    assert ingester.metrics()[("CorruptLogFiles", None)] == 0  # not mistaken for bad data


# ---------------------------------------------------------------------- API-call events


def _as_detail(bad: BadRecord) -> dict[str, Any] | None:
    """The record as an event's detail, if an event could carry it: EventBridge delivers JSON
    objects of at most 256 KB, so broken text, non-objects and giants come in files only."""
    try:
        record = json.loads(bad.element)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or len(bad.element) > 256 * 1024:
        return None
    return record


API_CALL_CASES = [case for case, bad in BAD_RECORDS.items() if _as_detail(bad) is not None]


@pytest.mark.parametrize("case", API_CALL_CASES, ids=API_CALL_CASES)
def test_a_bad_record_in_an_api_call_event_is_counted_not_dead_lettered(
    ingester: Ingester, case: str
) -> None:
    bad = BAD_RECORDS[case]
    record = _as_detail(bad)
    assert record is not None
    # Built by hand: the fixture derives the envelope id from the eventID, which may be bad.
    event = eventbridge_event("aws.pinpoint", "AWS API Call via CloudTrail", record)

    answer = ingester.run(event, api_call_event(good(0)))

    # AWS's record will never read better: counted and acknowledged like a bad record of a file.
    assert failed(answer) == []
    assert ingester.changed_ids() == [good_id(0)]
    assert ingester.metrics()[bad.as_event or (bad.counted, bad.reason)] == 1
    ingester.assert_logs_writable()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("not JSON", id="body not JSON"),
        pytest.param("[1, 2]", id="body a list"),
        pytest.param(
            json.dumps(api_call_event(good(5)) | {"detail": ["x"]}), id="detail not an object"
        ),
        pytest.param(json.dumps(without(api_call_event(good(5)), "id")), id="no envelope id"),
        pytest.param(
            json.dumps(eventbridge_event("aws.s3", "Object Deleted", {"bucket": {}})),
            id="another detail-type",
        ),
        pytest.param(
            json.dumps(object_created_event() | {"detail": {"bucket": {"name": 5}}}),
            id="S3 notification without an object",
        ),
    ],
)
def test_a_message_that_is_no_event_of_ours_fails_alone_toward_the_dlq(
    ingester: Ingester, body: str
) -> None:
    answer = ingester.run(body, api_call_event(good(0)))
    assert failed(answer) == ["m0"]
    assert ingester.changed_ids() == [good_id(0)]
    assert ingester.metrics()[("InvalidEvents", None)] == 1
    assert ingester.files.requests == []


# ---------------------------------------------------------------------- random damage


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_FIELDS = (
    "eventSource",
    "eventName",
    "eventTime",
    "eventID",
    "errorCode",
    "requestParameters",
    "responseElements",
)


@st.composite
def damaged_records(draw: st.DrawFn) -> dict[str, Any]:
    """A Pinpoint record of any handled kind with some fields removed or given random JSON."""
    operation = draw(
        st.sampled_from(["CreateCampaign", "UpdateJourney", "DeleteSegment", "CreateImportJob"])
    )
    record = pinpoint_record(operation, APP_ID, pinpoint_id(draw(st.text(max_size=4))))
    for name in draw(st.lists(st.sampled_from(_FIELDS), min_size=1, max_size=3, unique=True)):
        if draw(st.booleans()):
            record.pop(name, None)
        else:
            record[name] = draw(_json)
    if draw(st.booleans()) and isinstance(record.get("requestParameters"), dict):
        key = draw(
            st.sampled_from(["application-id", "campaign-id", "segment-id", "DefineSegment"])
        )
        record["requestParameters"][key] = draw(_json)
    return record


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged=st.lists(damaged_records(), min_size=1, max_size=4))
def test_randomly_damaged_records_never_stop_the_file(damaged: list[dict[str, Any]]) -> None:
    records = [good(0), *damaged, good(1)]
    files = FakeLogFiles({(TRAIL_BUCKET, KEY): log_file(records)})
    outcome = ingest_log_file(files, TRAIL_BUCKET, KEY, (APP_ID,), catalog=PINPOINT_CATALOG)
    assert outcome.status is FileStatus.READ
    report = outcome.report
    assert report.records == len(records)
    ids = {event.data.resource_id for event in outcome.events}
    assert {good_id(0), good_id(1)} <= ids
    # Every record is a change, a skip or a rejection: none is lost uncounted.
    counted = sum(report.skipped.values()) + sum(report.rejected.values())
    assert counted + report.changes + report.coalesced == len(records)
    for event in outcome.events:
        put_events_entry(event, event_bus_name="pinpoint-lake")  # publishable as it is


# ---------------------------------------------------------------------- on the local cloud


@pytest.mark.system
def test_on_the_local_cloud_bad_files_are_acknowledged_or_dead_lettered_and_good_ones_pass(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from infra.local import LocalCloud  # moto and the emulators load only for this test

    with LocalCloud(cloudtrail=True) as cloud:
        cloud.run_until_idle()  # the deploy-time backfill
        s3, sqs = boto3.client("s3"), boto3.client("sqs")
        app = cloud.outputs["PinpointProjectId"]
        bucket = cloud.outputs["CloudTrailBucketName"]
        watch = cloud.subscribe("changes", {"detail-type": ["PinpointResourceChanged"]})
        queue = cloud.stack.physical_id("LogIngesterQueue")
        redrive = cloud.stack.properties("LogIngesterQueue")["RedrivePolicy"]

        good_record = pinpoint_record("CreateSegment", app, pinpoint_id("on-the-cloud"), at(9, 1))
        bad_record = without(pinpoint_record("UpdateSegment", app, pinpoint_id("x")), "eventID")
        corrupt_key = log_file_key(at(9, 0), suffix="corrupt000000000")
        vanished_key = log_file_key(at(9, 0), suffix="vanished00000000")
        good_key = log_file_key(at(9, 0), suffix="good000000000000")
        s3.put_object(Bucket=bucket, Key=corrupt_key, Body=b"this is not gzip")
        s3.put_object(Bucket=bucket, Key=vanished_key, Body=log_file([good_record]))
        s3.delete_object(Bucket=bucket, Key=vanished_key)
        s3.put_object(Bucket=bucket, Key=good_key, Body=log_file([bad_record, good_record]))
        # A notification S3 can never answer (its bucket does not exist) sent straight to the
        # queue: not data that is bad, but a read that fails, so it is retried, then redriven.
        unreadable = object_created_event("no-such-bucket", log_file_key(at(9, 0)))
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(unreadable))

        cloud.run_until_idle()

        changes = [event["detail"]["data"] for event in watch.received()]
        assert [(c["resource_id"], c["origin"]) for c in changes] == [
            (pinpoint_id("on-the-cloud"), "cloudtrail_file")
        ]
        dead = cloud.dead_letters()
        assert [
            json.loads(m["Body"])["detail"]["bucket"]["name"]
            for m in dead["LogIngesterDeadLetterQueue"]
        ] == ["no-such-bucket"]
        assert all(
            not messages for name, messages in dead.items() if name != "LogIngesterDeadLetterQueue"
        )
        attempts = [
            invocation
            for invocation in cloud.invocations
            if any(
                "no-such-bucket" in record["body"] for record in invocation.event.get("Records", [])
            )
        ]
        assert len(attempts) == int(redrive["maxReceiveCount"])
        metrics = capsys.readouterr().out
        for name in ("CorruptLogFiles", "LogFilesMissing", "RecordsRejected"):
            assert f'"{name}"' in metrics
