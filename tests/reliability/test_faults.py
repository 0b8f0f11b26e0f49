"""Faults on the local cloud: every input is applied or dead-lettered with its reason.

Injected: Pinpoint 429 bursts and 5xx (the emulator's fault switches), Athena FAILED,
CANCELLED and stuck queries (the Athena emulator's), DynamoDB throttling, SNS publish and
EventBridge PutEvents failures (`infra.local.faults.ServiceFaults`, answered at botocore's
before-send so the clients' own retry mode sees them), and a handler crashing on one record
of a batch.

For each, the test checks what a production incident review would ask:
- retries happened, with backoff (botocore's sleeps and every attempt are counted);
- what still failed went back to SQS and, after the queue's maxReceiveCount, to its DLQ;
- a run that failed for good was told to its requester (an SNS message);
- `Accounting`: each input ended applied, or sits in a DLQ with the reason it failed.
  Nothing is lost, and nothing is left in flight.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.endpoint
import pytest

from infra.local import LocalCloud
from infra.local.athena import AthenaEmulator
from infra.local.cloud import athena_emulator, customer_profiles_emulator, pinpoint_emulator
from infra.local.customer_profiles import CustomerProfilesEmulator
from infra.local.faults import (
    DYNAMODB_THROUGHPUT_EXCEEDED,
    EVENTS_INTERNAL_ERROR,
    SNS_INTERNAL_ERROR,
    THROTTLING,
    ServiceFaults,
)
from infra.local.pinpoint import PinpointEmulator
from services.common import batch
from tests.fixtures.pinpoint_resources import create_segment
from tests.reliability.pipelines import (
    CATALOG_FUNCTIONS,
    IMPORT_QUERY,
    SEGMENTATION_FUNCTIONS,
    import_jobs,
    only_pipeline,
    request_run,
    scan,
    sns_inbox,
    write_lake,
)

pytestmark = pytest.mark.system

ALWAYS = 10_000  # a fault burst that outlasts every retry


# --------------------------------------------------------------------------- accounting


@dataclass(frozen=True)
class DeadLetter:
    queue: str  # the DLQ's logical id
    message_id: str
    body: str
    reasons: tuple[str, ...]  # why each delivery failed, oldest first


class Accounting:
    """Follows every SQS delivery that failed, and tells where each input ended.

    Failures are recorded where the functions report them: the batch loop (one failed
    record) and the runtime (an invocation that raised fails its whole batch).
    """

    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        self.reasons: dict[str, list[str]] = defaultdict(list)
        self._invocations_seen = len(cloud.invocations)

    def record_failure(self, message_id: str, reason: str) -> None:
        self.reasons[message_id].append(reason)

    def _collect_crashed_batches(self) -> None:
        for invocation in self.cloud.invocations[self._invocations_seen :]:
            # When every record failed, the batch loop raises too; each failure is recorded.
            error = invocation.error
            if error and "All records failed" not in error and isinstance(invocation.event, dict):
                reason = error.strip().splitlines()[-1]
                for record in invocation.event.get("Records", []):
                    self.record_failure(record["messageId"], reason)
        self._invocations_seen = len(self.cloud.invocations)

    def dead_letters(self) -> list[DeadLetter]:
        self._collect_crashed_batches()
        return [
            DeadLetter(queue, message["MessageId"], message["Body"], tuple(self.reasons[id_]))
            for queue, messages in self.cloud.dead_letters().items()
            for message in messages
            if (id_ := message["MessageId"])
        ]

    def deliveries(self, function: str, message_id: str) -> int:
        """How often `function` (logical id) was handed the message `message_id`."""
        name = self.cloud.stack.physical_name(function)
        return sum(
            record["messageId"] == message_id
            for invocation in self.cloud.invocations
            if invocation.function_name == name and isinstance(invocation.event, dict)
            for record in invocation.event.get("Records", [])
        )

    def account(self, inputs: Mapping[str, bool]) -> dict[str, str]:
        """Each input (a key found in the messages it caused) -> where it ended.

        `inputs` says which were applied. Every other input must sit in a DLQ whose failures
        were recorded; every dead letter must belong to an input; no queue may hold work.
        """
        dead = self.dead_letters()
        silent = [letter for letter in dead if not letter.reasons]
        assert not silent, f"dead letters without a recorded failure: {silent}"
        strays = [letter for letter in dead if not any(key in letter.body for key in inputs)]
        assert not strays, f"dead letters no input accounts for: {strays}"
        assert not self._in_flight(), f"still in flight: {self._in_flight()}"
        account: dict[str, str] = {}
        lost = []
        for key, applied in inputs.items():
            holding = [letter for letter in dead if key in letter.body]
            if applied:
                account[key] = "applied"
            elif holding:
                account[key] = f"dead-lettered in {holding[0].queue}: {holding[0].reasons[-1]}"
            else:
                lost.append(key)
        assert not lost, f"inputs neither applied nor dead-lettered: {lost}"
        return account

    def _in_flight(self) -> dict[str, int]:
        sqs = boto3.client("sqs")
        pending = {}
        for source in self.cloud.runtime.sources:
            attributes = sqs.get_queue_attributes(
                QueueUrl=source.queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            if count := sum(int(value) for value in attributes.values()):
                pending[source.function_name] = count
        return pending


def max_receive_count(cloud: LocalCloud, queue_logical_id: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=cloud.stack.physical_id(queue_logical_id), AttributeNames=["RedrivePolicy"]
    )["Attributes"]
    return int(json.loads(attributes["RedrivePolicy"])["maxReceiveCount"])


def redrive(cloud: LocalCloud, dead_letter_queue: str, queue: str) -> int:
    """Move a DLQ's messages back to their queue, as an operator's redrive does."""
    sqs = boto3.client("sqs")
    source, target = cloud.stack.physical_id(dead_letter_queue), cloud.stack.physical_id(queue)
    moved = 0
    while messages := sqs.receive_message(QueueUrl=source, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in messages:
            sqs.send_message(QueueUrl=target, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry backoffs, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=recorded.append))
    return recorded


def _accounting(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> Accounting:
    accounting = Accounting(cloud)
    original = batch.run_batch

    def record(failures: Sequence[batch.RecordFailure]) -> None:
        for failure in failures:
            reason = f"{type(failure.error).__name__}: {failure.error}"
            accounting.record_failure(failure.message_id, reason)

    def recording(
        records: Sequence[batch.SqsRecord], handle_record: batch.RecordHandler
    ) -> list[batch.RecordFailure]:
        try:
            failures = original(records, handle_record)
        except batch.BatchProcessingError as error:
            record(error.failures)
            raise
        record(failures)
        return failures

    monkeypatch.setattr(batch, "run_batch", recording)
    return accounting


def _fresh(cloud: LocalCloud, faults: ServiceFaults) -> None:
    """Each test starts without faults, with empty DLQs and new clients (a full retry quota)."""
    faults.clear()
    cloud.emulator(PinpointEmulator).faults.clear()
    athena = _athena(cloud)
    if athena is not None:
        athena.faults.clear()
    cloud.runtime.cold_start()
    sqs = boto3.client("sqs")
    for queue in cloud.dead_letters():  # emptied by hand: SQS allows one purge a minute
        url = cloud.stack.physical_id(queue)
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _athena(cloud: LocalCloud) -> AthenaEmulator | None:
    try:
        return cloud.emulator(AthenaEmulator)
    except LookupError:
        return None


class InjectedCrashError(RuntimeError):
    """What the crashing handler raises: a bug, not an AWS error."""


def crash_records(
    monkeypatch: pytest.MonkeyPatch, crashes: Callable[[str, str], bool]
) -> list[tuple[str, int, int]]:
    """Make every service's record handler raise for records `crashes(queue_arn, body)`.

    The crash happens where a bug in a service's own code would: inside the record handler
    the batch loop (`services.common.batch.run_batch`) calls. Returns where each crash
    happened: (message id, index in its batch, batch size).
    """
    original = batch.run_batch
    where: list[tuple[str, int, int]] = []

    def run(
        records: Sequence[batch.SqsRecord], handle_record: batch.RecordHandler
    ) -> list[batch.RecordFailure]:
        def maybe_crash(record: batch.SqsRecord) -> None:
            if not crashes(record["eventSourceARN"], record["body"]):
                return handle_record(record)
            where.append((record["messageId"], list(records).index(record), len(records)))
            raise InjectedCrashError(f"injected crash on message {record['messageId']}")

        return original(records, maybe_crash)

    monkeypatch.setattr(batch, "run_batch", run)
    return where


# --------------------------------------------------------------------------- catalog pipeline


def _on_table(table: str) -> Callable[[Mapping[str, Any]], bool]:
    """A fault rule's match: requests on this DynamoDB table only."""
    return lambda params: params.get("TableName") == table


def _segments(cloud: LocalCloud) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in scan(cloud, "SegmentTableName")}


def _resolver_records(cloud: LocalCloud, resource_id: str) -> list[str]:
    """Message ids of the changes of `resource_id` the name-resolver was handed."""
    name = cloud.stack.physical_name("NameResolverFunction")
    return [
        record["messageId"]
        for invocation in cloud.invocations
        if invocation.function_name == name
        for record in invocation.event["Records"]
        if resource_id in record["body"]
    ]


def _new_segments(cloud: LocalCloud, *names: str) -> list[str]:
    pinpoint, app = boto3.client("pinpoint"), cloud.outputs["PinpointProjectId"]
    return [create_segment(pinpoint, app, name) for name in names]


@pytest.fixture(scope="class")
def catalog_faults() -> ServiceFaults:
    return ServiceFaults()


@pytest.fixture(scope="class")
def catalog_cloud(catalog_faults: ServiceFaults) -> Iterator[LocalCloud]:
    with LocalCloud(
        cloudtrail=True, emulators=(pinpoint_emulator, catalog_faults.factory)
    ) as running:
        only_pipeline(running, CATALOG_FUNCTIONS)
        running.run_until_idle()
        yield running


@pytest.fixture
def catalog(
    catalog_cloud: LocalCloud,
    catalog_faults: ServiceFaults,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[LocalCloud, Accounting]:
    _fresh(catalog_cloud, catalog_faults)
    return catalog_cloud, _accounting(catalog_cloud, monkeypatch)


class TestCatalogPipeline:
    """One local cloud for the catalog pipeline's faults; each test starts clean."""

    def test_pinpoint_throttling_within_the_retry_budget_is_absorbed(
        self, catalog: tuple[LocalCloud, Accounting], sleeps: list[float]
    ) -> None:
        cloud, accounting = catalog
        pinpoint = cloud.emulator(PinpointEmulator)
        before = pinpoint.calls["GetSegment"]
        pinpoint.faults.throttle("GetSegment", times=3)
        (segment,) = _new_segments(cloud, "Throttled once or thrice")
        cloud.run_until_idle()

        # Three 429s, each followed by a backoff and another attempt; then every delivery of
        # the change (API-call event and log file) made one successful call.
        deliveries = len(_resolver_records(cloud, segment))
        assert pinpoint.calls["GetSegment"] - before == 3 + deliveries
        assert len(sleeps) == 3
        assert not accounting.reasons  # no delivery failed
        assert accounting.account({segment: segment in _segments(cloud)}) == {segment: "applied"}

    def test_pinpoint_errors_past_the_retry_budget_are_retried_by_sqs(
        self, catalog: tuple[LocalCloud, Accounting], sleeps: list[float]
    ) -> None:
        cloud, accounting = catalog
        pinpoint = cloud.emulator(PinpointEmulator)
        before = pinpoint.calls["GetSegment"]
        pinpoint.faults.server_error("GetSegment", times=8)  # 6 attempts per delivery
        (segment,) = _new_segments(cloud, "Served a 500 eight times")
        cloud.run_until_idle()

        records = _resolver_records(cloud, segment)
        first = records[0]
        assert records.count(first) == 2  # failed once, then went through
        assert [reason.split(":")[0] for reason in accounting.reasons[first]] == [
            "InternalServerErrorException"
        ]
        assert pinpoint.calls["GetSegment"] - before == 8 + len(set(records))
        assert len(sleeps) == 5 + 2  # a backoff before each retry in both deliveries
        assert accounting.account({segment: segment in _segments(cloud)}) == {segment: "applied"}

    def test_a_pinpoint_outage_dead_letters_the_change_and_a_redrive_applies_it(
        self, catalog: tuple[LocalCloud, Accounting], sleeps: list[float]
    ) -> None:
        cloud, accounting = catalog
        pinpoint = cloud.emulator(PinpointEmulator)
        before = pinpoint.calls["GetSegment"]
        pinpoint.faults.server_error("GetSegment", times=ALWAYS)
        (segment,) = _new_segments(cloud, "Never readable")
        cloud.run_until_idle()

        dead = accounting.dead_letters()
        receives = max_receive_count(cloud, "NameResolverQueue")
        assert {letter.queue for letter in dead} == {"NameResolverDeadLetterQueue"}
        # The API-call event and the log file each made a change message; each was tried
        # maxReceiveCount times, then dead-lettered.
        assert len(dead) == 2
        for letter in dead:
            assert accounting.deliveries("NameResolverFunction", letter.message_id) == receives
            assert len(letter.reasons) == receives
            assert all("InternalServerErrorException" in reason for reason in letter.reasons)
        # Each delivery made one call and retried it with backoff, up to botocore's 5 retries,
        # until the client's retry quota (500 tokens, 14 a retry after a 5xx) ran dry: from
        # then on the outage costs one call per delivery.
        retries = len(sleeps)
        assert pinpoint.calls["GetSegment"] - before == 2 * receives + retries
        assert 500 // 14 <= retries <= 2 * receives * 5
        account = accounting.account({segment: segment in _segments(cloud)})
        assert account[segment].startswith("dead-lettered in NameResolverDeadLetterQueue")

        # Once Pinpoint answers again, the dead letters are all it takes to catch up.
        pinpoint.faults.clear()
        assert redrive(cloud, "NameResolverDeadLetterQueue", "NameResolverQueue") == 2
        cloud.run_until_idle()
        assert _segments(cloud)[segment]["name"] == "Never readable"
        assert accounting.account({segment: True}) == {segment: "applied"}

    def test_dynamodb_throttling_is_retried_and_the_change_announced_under_one_id(
        self,
        catalog: tuple[LocalCloud, Accounting],
        catalog_faults: ServiceFaults,
        sleeps: list[float],
    ) -> None:
        cloud, accounting = catalog
        on_segments = _on_table(cloud.outputs["SegmentTableName"])
        puts = catalog_faults.fail(
            "dynamodb", "PutItem", DYNAMODB_THROUGHPUT_EXCEEDED, times=3, match=on_segments
        )
        # Marking the announcement published fails past botocore's budget: SQS redelivers.
        marks = catalog_faults.fail(
            "dynamodb", "UpdateItem", THROTTLING, times=8, match=on_segments
        )
        watch = cloud.subscribe("throttled", {"detail-type": ["CatalogEntryChanged"]})
        (segment,) = _new_segments(cloud, "Written under throttling")
        cloud.run_until_idle()

        assert (puts.hits, marks.hits) == (3, 8)
        assert catalog_faults.calls[("dynamodb", "PutItem")] >= 4
        assert len(sleeps) >= 3 + 5 + 2
        failed = [reason for reasons in accounting.reasons.values() for reason in reasons]
        assert len(failed) == 1
        assert "ThrottlingException" in failed[0]
        row = _segments(cloud)[segment]
        assert row["name"] == "Written under throttling"
        assert "pending_event" not in row  # the outbox was emptied in the end
        # The redelivery republished the stored announcement: the same event, the same id.
        announced = [e for e in watch.of_type("CatalogEntryChanged") if segment in json.dumps(e)]
        assert len({event["detail"]["metadata"]["event_id"] for event in announced}) == 1
        assert accounting.account({segment: True}) == {segment: "applied"}

    def test_a_crash_on_one_record_fails_that_record_alone_until_its_dlq(
        self, catalog: tuple[LocalCloud, Accounting], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        cloud, accounting = catalog
        writer_queue = cloud.stack.attribute("CatalogWriterQueue", "Arn")
        poison: list[str] = []
        crashes = crash_records(
            monkeypatch,
            lambda queue_arn, body: queue_arn == writer_queue and any(p in body for p in poison),
        )
        names = [f"Batch member {index}" for index in range(5)]
        segments = _new_segments(cloud, *names)
        poison.append(segments[2])
        cloud.run_until_idle()

        # The crash hit a record in the middle of its batch; the others were written.
        message_id, index, size = crashes[0]
        assert 0 < index < size - 1
        rows = _segments(cloud)
        assert [rows[s]["name"] for s in segments if s != segments[2]] == names[:2] + names[3:]
        # The crashing record was retried maxReceiveCount times, then dead-lettered with why.
        receives = max_receive_count(cloud, "CatalogWriterQueue")
        assert accounting.deliveries("CatalogWriterFunction", message_id) == receives
        dead = accounting.dead_letters()
        assert {letter.queue for letter in dead} == {"CatalogWriterDeadLetterQueue"}
        assert message_id in {letter.message_id for letter in dead}
        assert all(
            reason.startswith("InjectedCrashError") for letter in dead for reason in letter.reasons
        )
        account = accounting.account({s: s in rows for s in segments})
        assert Counter(state.split(":")[0] for state in account.values()) == {
            "applied": 4,
            "dead-lettered in CatalogWriterDeadLetterQueue": 1,
        }

    def test_a_crash_that_passes_is_retried_until_the_record_is_written(
        self, catalog: tuple[LocalCloud, Accounting], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        cloud, accounting = catalog
        writer_queue = cloud.stack.attribute("CatalogWriterQueue", "Arn")
        target: list[str] = []
        crashed: Counter[str] = Counter()

        def crashes(queue_arn: str, body: str) -> bool:
            if queue_arn != writer_queue or not any(t in body for t in target):
                return False
            crashed[body] += 1
            return crashed[body] <= 2  # the first two deliveries of each message crash

        where = crash_records(monkeypatch, crashes)
        (segment,) = _new_segments(cloud, "Crashes twice")
        target.append(segment)
        cloud.run_until_idle()

        message_id = where[0][0]
        assert accounting.deliveries("CatalogWriterFunction", message_id) == 3
        assert _segments(cloud)[segment]["name"] == "Crashes twice"
        assert accounting.account({segment: True}) == {segment: "applied"}


# --------------------------------------------------------------------------- segmentation


@dataclass
class Segmentation:
    cloud: LocalCloud
    accounting: Accounting
    faults: ServiceFaults
    read_inbox: Callable[[], list[Any]]

    @property
    def pinpoint(self) -> PinpointEmulator:
        return self.cloud.emulator(PinpointEmulator)

    @property
    def athena(self) -> AthenaEmulator:
        return self.cloud.emulator(AthenaEmulator)

    def notes(self, run_id: str) -> list[dict[str, Any]]:
        messages = [json.loads(note["Message"]) for note in self.read_inbox()]
        return [message for message in messages if message["run_id"] == run_id]

    def outcome(self, run_id: str) -> str | None:
        notes = self.notes(run_id)
        assert len(notes) <= 1, f"{run_id} was notified {len(notes)} times"
        return notes[0]["outcome"] if notes else None

    def jobs_of(self, run_id: str) -> list[dict[str, Any]]:
        return [job for job in import_jobs(self.cloud) if f"/{run_id}/" in json.dumps(job)]


@contextmanager
def segmentation_on_local_cloud(
    lake: Path, faults: ServiceFaults, **parameters: Any
) -> Iterator[LocalCloud]:
    with LocalCloud(
        data_lake=lake,
        parameters=parameters,
        emulators=(pinpoint_emulator, athena_emulator, faults.factory),
    ) as running:
        only_pipeline(running, SEGMENTATION_FUNCTIONS, keep_schedules=True)
        running.run_until_idle()
        yield running


def _gold(marker: str) -> str:
    """An importing query; `marker` (a string literal in it) lets a fault pick it out."""
    return IMPORT_QUERY.format(plan="gold") + f" and email <> '{marker}'"


def _age_claim(cloud: LocalCloud, run_id: str, age: timedelta) -> None:
    """Date the importer's claim on a run back, as waiting out a visibility timeout would."""
    boto3.client("dynamodb").update_item(
        TableName=cloud.outputs["ImportRunsTableName"],
        Key={"run_id": {"S": run_id}},
        UpdateExpression="SET claimed_at = :then",
        ExpressionAttributeValues={
            ":then": {"S": (datetime.now(UTC) - age).isoformat(timespec="microseconds")}
        },
    )


@pytest.fixture(scope="class")
def segmentation_faults() -> ServiceFaults:
    return ServiceFaults()


@pytest.fixture(scope="class")
def segmentation_cloud(
    tmp_path_factory: pytest.TempPathFactory, segmentation_faults: ServiceFaults
) -> Iterator[LocalCloud]:
    lake = write_lake(tmp_path_factory.mktemp("lake"))
    # The functions read the virtual clock, and an outage's five deliveries 30 minutes apart
    # outlast the default hour of import timeout: room for a redrive to complete the run.
    with segmentation_on_local_cloud(
        lake, segmentation_faults, ImportTimeoutSeconds=6 * 3600
    ) as running:
        yield running


@pytest.fixture(scope="class")
def inbox(segmentation_cloud: LocalCloud) -> Callable[[], list[Any]]:
    return sns_inbox(segmentation_cloud, "faults-inbox")


@pytest.fixture
def seg(
    segmentation_cloud: LocalCloud,
    segmentation_faults: ServiceFaults,
    inbox: Callable[[], list[Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> Segmentation:
    _fresh(segmentation_cloud, segmentation_faults)
    accounting = _accounting(segmentation_cloud, monkeypatch)
    return Segmentation(segmentation_cloud, accounting, segmentation_faults, inbox)


class TestSegmentationPipeline:
    """One local cloud for the segmentation pipeline's faults; each test starts clean."""

    def test_failed_and_cancelled_queries_end_their_runs_with_a_notification(
        self,
        seg: Segmentation,
    ) -> None:
        seg.athena.faults.fail(match="fail-me", reason="HIVE_BAD_DATA: injected")
        seg.athena.faults.cancel(match="cancel-me", reason="Query cancelled by an operator")
        request_run(seg.cloud, _gold("fail-me"), run_id="athena-failed")
        request_run(seg.cloud, _gold("cancel-me"), run_id="athena-cancelled")
        seg.cloud.run_until_idle()

        (failed,) = seg.notes("athena-failed")
        (cancelled,) = seg.notes("athena-cancelled")
        assert failed["outcome"] == "query_failed"
        # A data error keeps Athena's error name; its message (which quotes rows) stays out.
        assert failed["reason"].startswith("HIVE_BAD_DATA: a value in the data lake")
        assert "injected" not in failed["reason"]
        assert cancelled["outcome"] == "query_cancelled"
        assert "cancelled by an operator" in cancelled["reason"]
        assert seg.jobs_of("athena-failed") == seg.jobs_of("athena-cancelled") == []
        assert seg.accounting.account(
            {run: seg.outcome(run) is not None for run in ("athena-failed", "athena-cancelled")}
        ) == {"athena-failed": "applied", "athena-cancelled": "applied"}

    def test_pinpoint_throttling_on_import_jobs_is_absorbed(
        self, seg: Segmentation, sleeps: list[float]
    ) -> None:
        before = Counter(seg.pinpoint.calls)
        seg.pinpoint.faults.throttle("CreateImportJob", times=3)
        seg.pinpoint.faults.throttle("GetImportJob", times=7)  # one reading fails past the budget
        request_run(seg.cloud, _gold("throttled-import"), run_id="throttled-import")
        seg.cloud.run_until_idle()

        assert seg.pinpoint.calls["CreateImportJob"] - before["CreateImportJob"] == 4
        # The first follow-up reading: 6 throttled attempts; the next, 2 s later: one more 429,
        # then the answer; later readings see the job end (no wait for the minute poll).
        assert seg.pinpoint.calls["GetImportJob"] - before["GetImportJob"] > 8
        assert len(sleeps) == 3 + 5 + 1
        assert not seg.accounting.reasons  # absorbed by retries and the next poll
        assert len(seg.jobs_of("throttled-import")) == 1
        assert seg.outcome("throttled-import") == "complete"
        assert seg.accounting.account({"throttled-import": True}) == {"throttled-import": "applied"}

    def test_a_refused_import_is_notified_as_failed(self, seg: Segmentation) -> None:
        request_run(
            seg.cloud, _gold("refused"), run_id="import-refused", segment_id="f" * 32
        )  # no such segment in the project: Pinpoint answers 404
        seg.cloud.run_until_idle()
        (note,) = seg.notes("import-refused")
        assert note["outcome"] == "import_failed"
        assert "NotFoundException" in note["reason"]
        assert seg.accounting.account({"import-refused": True}) == {"import-refused": "applied"}

    def test_an_import_job_outage_dead_letters_the_run_and_a_redrive_completes_it(
        self, seg: Segmentation, sleeps: list[float]
    ) -> None:
        seg.pinpoint.faults.server_error("CreateImportJob", times=ALWAYS)
        request_run(seg.cloud, _gold("import-outage"), run_id="import-outage")
        seg.cloud.run_until_idle()

        (letter,) = seg.accounting.dead_letters()
        assert letter.queue == "ImporterDeadLetterQueue"
        receives = max_receive_count(seg.cloud, "ImporterQueue")
        assert len(letter.reasons) == receives
        assert "InternalServerErrorException" in letter.reasons[0]
        # Later deliveries come back after the queue's visibility timeout (30 minutes), when
        # the first claim's 15-minute lease has run out; by then the minute poll has taken
        # the stopped claim over and is trying CreateImportJob itself, so each redelivery
        # finds a fresh claim.
        assert all("ImportInProgressError" in reason for reason in letter.reasons[1:])
        assert seg.jobs_of("import-outage") == []
        assert seg.outcome("import-outage") is None
        account = seg.accounting.account({"import-outage": False})
        assert account["import-outage"].startswith("dead-lettered in ImporterDeadLetterQueue")

        # Pinpoint recovers and the lease runs out; the redriven message then imports once.
        seg.pinpoint.faults.clear()
        _age_claim(seg.cloud, "import-outage", timedelta(minutes=20))
        assert redrive(seg.cloud, "ImporterDeadLetterQueue", "ImporterQueue") == 1
        seg.cloud.run_until_idle()
        assert len(seg.jobs_of("import-outage")) == 1
        assert seg.outcome("import-outage") == "complete"
        assert seg.accounting.account({"import-outage": True}) == {"import-outage": "applied"}

    def test_an_sns_failure_is_retried_and_the_run_notified_once(
        self, seg: Segmentation, sleeps: list[float]
    ) -> None:
        # Past botocore's budget once (6 attempts), so SQS redelivers the ending to the notifier.
        seg.faults.fail("sns", "Publish", SNS_INTERNAL_ERROR, times=8)
        request_run(seg.cloud, _gold("sns-flaky"), run_id="sns-flaky")
        seg.cloud.run_until_idle()

        assert seg.faults.calls[("sns", "Publish")] >= 9
        failed = [reason for reasons in seg.accounting.reasons.values() for reason in reasons]
        assert len(failed) == 1
        assert "InternalError" in failed[0]
        assert seg.outcome("sns-flaky") == "complete"  # exactly one message (outcome() checks)
        assert seg.accounting.account({"sns-flaky": True}) == {"sns-flaky": "applied"}

    def test_an_sns_outage_dead_letters_the_ending_and_a_redrive_notifies_once(
        self, seg: Segmentation, sleeps: list[float]
    ) -> None:
        seg.faults.fail("sns", "Publish", SNS_INTERNAL_ERROR, times=None)
        request_run(seg.cloud, _gold("sns-down"), run_id="sns-down")
        seg.cloud.run_until_idle()

        (letter,) = seg.accounting.dead_letters()
        assert letter.queue == "NotifierDeadLetterQueue"
        assert len(letter.reasons) == max_receive_count(seg.cloud, "NotifierQueue")
        assert json.loads(letter.body)["detail-type"] == "EndpointImportCompleted"
        assert seg.outcome("sns-down") is None
        account = seg.accounting.account({"sns-down": False})
        assert account["sns-down"].startswith("dead-lettered in NotifierDeadLetterQueue")

        seg.faults.clear()
        assert redrive(seg.cloud, "NotifierDeadLetterQueue", "NotifierQueue") == 1
        seg.cloud.run_until_idle()
        assert seg.outcome("sns-down") == "complete"
        assert seg.accounting.account({"sns-down": True}) == {"sns-down": "applied"}

    def test_a_sent_notification_whose_record_is_not_saved_is_not_sent_again(
        self, seg: Segmentation, sleeps: list[float]
    ) -> None:
        # SNS took the message, then saving Powertools' success record fails past the budget.
        table = seg.cloud.stack.physical_id("NotificationIdempotencyTable")
        seg.faults.fail("dynamodb", "UpdateItem", THROTTLING, times=6, match=_on_table(table))
        request_run(seg.cloud, _gold("unsaved"), run_id="unsaved")
        seg.cloud.run_until_idle()

        # The message is acknowledged: failing it would bring it back (on AWS after the
        # visibility timeout, once the in-progress mark expired) and send it a second time.
        assert seg.outcome("unsaved") == "complete"  # sent once, and only once
        assert seg.accounting.dead_letters() == []
        assert seg.accounting.account({"unsaved": True}) == {"unsaved": "applied"}

    def test_eventbridge_errors_past_the_budget_republish_the_same_event(
        self, seg: Segmentation, sleeps: list[float]
    ) -> None:
        def succeeded(params: Mapping[str, Any]) -> bool:
            entries = params.get("Entries") or []
            return any(entry.get("DetailType") == "SegmentQuerySucceeded" for entry in entries)

        rule = seg.faults.fail(
            "events", "PutEvents", EVENTS_INTERNAL_ERROR, times=7, match=succeeded
        )
        watch = seg.cloud.subscribe("succeeded", {"detail-type": ["SegmentQuerySucceeded"]})
        request_run(seg.cloud, _gold("bus-flaky"), run_id="bus-flaky")
        seg.cloud.run_until_idle()

        assert rule.hits == 7
        failed = [reason for reasons in seg.accounting.reasons.values() for reason in reasons]
        assert len(failed) == 1  # the runner's first try, after 6 attempts
        assert "InternalException" in failed[0]
        assert len(watch.of_type("SegmentQuerySucceeded")) == 1
        assert len(seg.jobs_of("bus-flaky")) == 1
        assert seg.outcome("bus-flaky") == "complete"
        assert seg.accounting.account({"bus-flaky": True}) == {"bus-flaky": "applied"}

    def test_throttled_run_ledgers_never_start_a_query_or_import_twice(
        self, seg: Segmentation, sleeps: list[float]
    ) -> None:
        runs_table = seg.cloud.outputs["QueryRunsTableName"]
        imports_table = seg.cloud.outputs["ImportRunsTableName"]
        for table in (runs_table, imports_table):
            seg.faults.fail(
                "dynamodb",
                "PutItem",
                DYNAMODB_THROUGHPUT_EXCEEDED,
                times=7,  # the first delivery fails after it started the work
                match=_on_table(table),
            )
        request_run(seg.cloud, _gold("ledger-throttled"), run_id="ledger-throttled")
        seg.cloud.run_until_idle()

        executions = [e for e in seg.athena.executions() if "run: ledger-throttled" in e.query]
        assert len(executions) == 1  # Athena's ClientRequestToken: the retry started nothing new
        assert len(seg.jobs_of("ledger-throttled")) == 1
        assert seg.outcome("ledger-throttled") == "complete"
        assert seg.accounting.account({"ledger-throttled": True}) == {"ledger-throttled": "applied"}


def test_a_stuck_query_is_stopped_by_the_runner_and_notified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cloud of its own, with the template's shortest query timeout (60 s).
    faults = ServiceFaults()
    lake = write_lake(tmp_path)
    with segmentation_on_local_cloud(lake, faults, QueryTimeoutSeconds=60) as cloud:
        seg = Segmentation(cloud, _accounting(cloud, monkeypatch), faults, sns_inbox(cloud))
        stuck = seg.athena.faults.stick(match="stick-me")
        request_run(cloud, _gold("stick-me"), run_id="athena-stuck")
        cloud.run_until_idle()  # a RUNNING query does not keep the cloud busy
        assert seg.outcome("athena-stuck") is None

        cloud.advance(6 * 60)  # the overdue rule runs every 5 minutes
        cloud.run_until_idle()
        (note,) = seg.notes("athena-stuck")
        assert note["outcome"] == "query_timed_out"
        execution = note["query_execution_id"]
        state = boto3.client("athena").get_query_execution(QueryExecutionId=execution)
        assert state["QueryExecution"]["Status"]["State"] == "CANCELLED"  # stopped, not left
        assert stuck.hits == 1
        assert seg.accounting.account({"athena-stuck": True}) == {"athena-stuck": "applied"}


def test_dead_letters_are_accounted_by_input() -> None:
    """The accounting itself: a lost input and an unexplained dead letter are both caught."""
    with LocalCloud(emulators=[]) as cloud:
        only_pipeline(cloud, ("NotifierFunction",))
        accounting = Accounting(cloud)
        event = {"source": "x", "detail-type": "SegmentQueryFailed", "detail": {"run": "r1"}}
        queue = cloud.stack.physical_id("NotifierDeadLetterQueue")
        boto3.client("sqs").send_message(QueueUrl=queue, MessageBody=json.dumps(event))
        with pytest.raises(AssertionError, match="without a recorded failure"):
            accounting.account({"r1": False})
        message_id = accounting.dead_letters()[0].message_id
        accounting.record_failure(message_id, "Boom: it broke")
        assert accounting.account({"r1": False}) == {
            "r1": "dead-lettered in NotifierDeadLetterQueue: Boom: it broke"
        }
        with pytest.raises(AssertionError, match="neither applied nor dead-lettered"):
            accounting.account({"r1": False, "r2": False})
        with pytest.raises(AssertionError, match="no input accounts for"):
            accounting.account({"r2": True})


# --------------------------------------------------------------------------- Connect

CONNECT_QUERY = """
select endpoint_id as "Id", email as "Address", plan as "Attributes.Plan"
from crm_customers where plan = 'gold' and email <> '{marker}'
"""


@dataclass
class ConnectSegmentation:
    cloud: LocalCloud
    accounting: Accounting
    read_inbox: Callable[[], list[Any]]

    @property
    def profiles(self) -> CustomerProfilesEmulator:
        from infra.local.customer_profiles import CustomerProfilesEmulator

        return self.cloud.emulator(CustomerProfilesEmulator)

    def outcome(self, run_id: str) -> str | None:
        notes = [json.loads(note["Message"]) for note in self.read_inbox()]
        mine = [note for note in notes if note["run_id"] == run_id]
        assert len(mine) <= 1, f"{run_id} was notified {len(mine)} times"
        return mine[0]["outcome"] if mine else None

    def jobs_of(self, run_id: str) -> list[dict[str, Any]]:
        response = boto3.client("customer-profiles").list_upload_jobs(
            DomainName=self.cloud.outputs["CustomerProfilesDomainName"], MaxResults=100
        )
        return [
            job for job in response.get("Items", []) if job["DisplayName"].endswith(f" {run_id}")
        ]


@pytest.fixture(scope="class")
def connect_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    lake = write_lake(tmp_path_factory.mktemp("lake"))
    with LocalCloud(
        data_lake=lake,
        # Room for an outage's deliveries and a redrive (see segmentation_cloud).
        parameters={"ImportTimeoutSeconds": 6 * 3600},
        emulators=(pinpoint_emulator, athena_emulator, customer_profiles_emulator),
    ) as running:
        only_pipeline(running, SEGMENTATION_FUNCTIONS, keep_schedules=True)
        running.run_until_idle()
        yield running


@pytest.fixture
def conn(
    connect_cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ConnectSegmentation]:
    segmentation = ConnectSegmentation(
        connect_cloud,
        _accounting(connect_cloud, monkeypatch),
        sns_inbox(connect_cloud, f"connect-inbox-{len(connect_cloud.invocations)}"),
    )
    connect_cloud.runtime.cold_start()
    yield segmentation
    segmentation.profiles.faults.clear()


class TestConnectSegmentation:
    """The Connect upload-job path under faults, with the same accounting of every input."""

    def test_customer_profiles_throttling_is_absorbed_with_one_upload_job(
        self, conn: ConnectSegmentation, sleeps: list[float]
    ) -> None:
        conn.profiles.faults.throttle("CreateUploadJob", times=2)
        conn.profiles.faults.throttle("StartUploadJob", times=2)
        request_run(
            conn.cloud,
            CONNECT_QUERY.format(marker="throttled"),
            run_id="connect-throttled",
            target="connect",
        )
        conn.cloud.run_until_idle()

        assert len(conn.jobs_of("connect-throttled")) == 1
        assert conn.outcome("connect-throttled") == "complete"
        assert not conn.accounting.reasons  # absorbed by botocore's retries
        assert conn.accounting.account({"connect-throttled": True}) == {
            "connect-throttled": "applied"
        }

    def test_an_upload_outage_dead_letters_the_run_and_a_redrive_completes_it_once(
        self, conn: ConnectSegmentation, sleeps: list[float]
    ) -> None:
        conn.profiles.faults.outage("CreateUploadJob")
        request_run(
            conn.cloud,
            CONNECT_QUERY.format(marker="outage"),
            run_id="connect-outage",
            target="connect",
        )
        conn.cloud.run_until_idle()

        (letter,) = conn.accounting.dead_letters()
        assert letter.queue == "ImporterDeadLetterQueue"
        assert "InternalServerException" in letter.reasons[0]
        assert conn.jobs_of("connect-outage") == []
        assert conn.outcome("connect-outage") is None
        account = conn.accounting.account({"connect-outage": False})
        assert account["connect-outage"].startswith("dead-lettered in ImporterDeadLetterQueue")

        conn.profiles.faults.clear()
        _age_claim(conn.cloud, "connect-outage", timedelta(minutes=20))
        assert redrive(conn.cloud, "ImporterDeadLetterQueue", "ImporterQueue") == 1
        conn.cloud.run_until_idle()
        assert len(conn.jobs_of("connect-outage")) == 1
        assert conn.outcome("connect-outage") == "complete"
        assert conn.accounting.account({"connect-outage": True}) == {"connect-outage": "applied"}
