"""The importer's adapters on moto: S3 streaming in and out, the DynamoDB run ledger."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts import (
    REGISTRY,
    ImportCounts,
    ImportOutcome,
    RowRejection,
    SegmentQuerySucceeded,
)
from contracts.examples import example_event
from services.common.run_ledger import RunStatus
from services.importer.adapters import (
    DynamoImportLedger,
    DynamoImportSlots,
    DynamoSyncStates,
    S3ResultFiles,
)
from services.importer.logic import (
    ImportRecord,
    ResultUnreadableError,
    _completed,
    _failed,
)
from services.importer.sync import SyncPlan, SyncState
from tests.fixtures.tables import create_template_table

REGION = "us-east-1"
BUCKET = "results"
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
MiB = 1024 * 1024


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        yield


@pytest.fixture
def s3(aws: None) -> Any:
    client: Any = boto3.client("s3", region_name=REGION)
    calls: list[tuple[str, str | None]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.name, params.get("Key")))

    client.meta.events.register("before-parameter-build.s3.*", record)
    client.calls = calls
    return client


def test_the_result_file_itself_is_read_and_nothing_beside_it(s3: Any) -> None:
    key = "athena/runs/r1/q-1.csv"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b'"Id"\n"e1"\n')
    s3.put_object(Bucket=BUCKET, Key=key + ".metadata", Body=b"\x00binary")
    s3.calls.clear()
    files = S3ResultFiles(lambda: s3)

    with files.open_result(f"s3://{BUCKET}/{key}") as source:
        assert source.read(3) == b'"Id'
        assert source.read(100) == b'"\n"e1"\n'
        assert source.read(100) == b""

    assert s3.calls == [("GetObject", key)]


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (f"s3://{BUCKET}/athena/runs/r1/missing.csv", r"cannot be read \(NoSuchKey\)"),
        ("s3://no-such-bucket/athena/q.csv", r"cannot be read \(NoSuchBucket\)"),
        (f"s3://{BUCKET}/athena/runs/r1/", "names a folder"),
    ],
)
def test_a_result_that_is_not_there_is_unreadable(s3: Any, uri: str, message: str) -> None:
    files = S3ResultFiles(lambda: s3)

    with pytest.raises(ResultUnreadableError, match=message), files.open_result(uri):
        pass


def test_a_small_import_file_is_one_put(s3: Any) -> None:
    files = S3ResultFiles(lambda: s3)

    with files.create_import_file(f"s3://{BUCKET}/imports/r1/endpoints.csv") as sink:
        sink.write(b"Id\n")
        sink.write(memoryview(b'"e1"\n'))

    body = s3.get_object(Bucket=BUCKET, Key="imports/r1/endpoints.csv")["Body"].read()
    assert body == b'Id\n"e1"\n'
    assert ("PutObject", "imports/r1/endpoints.csv") in s3.calls


def test_a_large_import_file_streams_up_in_parts(s3: Any) -> None:
    files = S3ResultFiles(lambda: s3, part_size=5 * MiB)
    block = bytes(range(256)) * 4096  # 1 MiB

    with files.create_import_file(f"s3://{BUCKET}/imports/r1/endpoints.csv") as sink:
        for n in range(12):
            sink.write(block[n:] + block[:n])

    body = s3.get_object(Bucket=BUCKET, Key="imports/r1/endpoints.csv")["Body"].read()
    assert body == b"".join(block[n:] + block[:n] for n in range(12))
    assert [name for name, _ in s3.calls].count("UploadPart") == 3


def test_a_file_whose_writing_fails_is_not_left_behind(s3: Any) -> None:
    files = S3ResultFiles(lambda: s3, part_size=5 * MiB)

    def write_then_fail() -> None:
        with files.create_import_file(f"s3://{BUCKET}/imports/r1/endpoints.csv") as sink:
            sink.write(b"x" * 6 * MiB)  # one part is already up
            raise RuntimeError("checks failed")

    with pytest.raises(RuntimeError, match="checks failed"):
        write_then_fail()

    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="imports/")
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=BUCKET)


# ------------------------------------------------------------------ the ledger


@pytest.fixture
def dynamodb(aws: None) -> Any:
    client = boto3.client("dynamodb", region_name=REGION)
    create_template_table(client, "ImportRunsTable", "imports")
    return client


def record(run_id: str, deadline: datetime) -> ImportRecord:
    raw = example_event(SegmentQuerySucceeded)
    raw["detail"]["data"]["run_id"] = run_id
    cause = REGISTRY.parse_as(raw, SegmentQuerySucceeded).detail
    return ImportRecord(
        run_id=run_id,
        status=RunStatus.SUBMITTING,
        cause=cause,
        import_file=f"s3://{BUCKET}/imports/{run_id}/endpoints.csv",
        deadline=deadline,
        claimed_at=NOW,
        counts=ImportCounts(rows_read=3, rows_rejected=1, rows_to_import=2),
        rejection_sample=(
            RowRejection(row_number=2, code="MISSING_ID", column="Id", message="no id"),
        ),
    )


def test_the_ledger_moves_a_run_through_its_states_once_each(dynamodb: Any) -> None:
    ledger = DynamoImportLedger(lambda: dynamodb, "imports")
    run = record("run-1", NOW + timedelta(hours=1))
    job_id = "ab" * 16
    ending = _completed(
        run.cause,
        NOW,
        ImportOutcome.COMPLETE,
        run.counts,
        run.rejection_sample,
        import_job_id=job_id,
        endpoints_imported=2,
    )

    assert ledger.claim(run) is True
    assert ledger.claim(replace(run, import_file="other")) is False
    assert ledger.get("run-1") == run
    assert ledger.get("missing") is None

    assert ledger.begin_ending("run-1", ending, RunStatus.COMPLETE, NOW) is False  # not running
    assert ledger.mark_running("run-1", job_id) is True
    assert ledger.mark_running("run-1", "cd" * 16) is False
    assert ledger.begin_ending("run-1", ending, RunStatus.COMPLETE, NOW + timedelta(minutes=3))
    assert ledger.begin_ending("run-1", ending, RunStatus.COMPLETE, NOW) is False
    ending_now = ledger.get("run-1")
    assert ending_now == replace(
        run,
        status=RunStatus.ENDING,
        import_job_id=job_id,
        result=RunStatus.COMPLETE,
        outcome=ending,
        claimed_at=NOW + timedelta(minutes=3),
    )
    assert ledger.mark_ended("run-1", RunStatus.COMPLETE) is True
    assert ledger.mark_ended("run-1", RunStatus.FAILED) is False
    ended = ledger.get("run-1")
    assert ended is not None
    assert ended.status is RunStatus.COMPLETE
    assert ended.status.ended


def test_a_refused_submission_ends_the_run(dynamodb: Any) -> None:
    ledger = DynamoImportLedger(lambda: dynamodb, "imports")
    run = record("run-1", NOW)
    refused = _failed(run.cause, NOW, "Pinpoint refused the import job: BadRequestException")
    ledger.claim(run)

    assert ledger.mark_refused("run-1", refused) is True
    assert ledger.mark_refused("run-1", refused) is False
    assert ledger.get("run-1") == replace(
        run, status=RunStatus.FAILED, result=RunStatus.FAILED, outcome=refused
    )


def test_open_runs_come_earliest_deadline_first_and_bounded(dynamodb: Any) -> None:
    ledger = DynamoImportLedger(lambda: dynamodb, "imports")
    for n, minutes in enumerate([30, 10, 20, 40]):
        ledger.claim(record(f"run-{n}", NOW + timedelta(minutes=minutes, microseconds=n)))
        ledger.mark_running(f"run-{n}", f"{n:032x}")
    ledger.save_ended(replace(record("done", NOW), status=RunStatus.DRY_RUN))

    running = ledger.open_runs(RunStatus.RUNNING, 3)

    assert [r.run_id for r in running] == ["run-1", "run-2", "run-0"]
    assert [r.run_id for r in ledger.open_runs(RunStatus.DRY_RUN, 10)] == ["done"]
    assert ledger.open_runs(RunStatus.ENDING, 10) == []
    index = dynamodb.describe_table(TableName="imports")["Table"]["GlobalSecondaryIndexes"]
    assert index[0]["IndexName"] == "by-status"


def test_a_sync_plan_and_its_counts_round_trip_through_the_ledger(dynamodb: Any) -> None:
    ledger = DynamoImportLedger(lambda: dynamodb, "imports")
    previous = SyncState(
        "pinpoint/app/vip", "vip-1", "s3://results/sync/a", ("Id",), NOW, "5e" * 16
    )
    plan = SyncPlan("pinpoint/app/vip", "s3://results/sync/b", ("Attributes.Plan", "Id"), previous)
    counts = ImportCounts(
        rows_read=4,
        rows_to_import=2,
        rows_in_result=4,
        rows_sent=1,
        rows_unchanged=3,
        rows_cleared=1,
    )
    run = replace(record("vip-2", NOW + timedelta(hours=1)), sync=plan, counts=counts)
    assert ledger.claim(run)
    assert ledger.get("vip-2") == run


def test_a_sync_key_state_moves_only_forward(dynamodb: Any) -> None:
    states = DynamoSyncStates(lambda: dynamodb, "imports")
    scope = "connect/lake-profiles/vip"
    assert states.last(scope) is None
    later = SyncState(scope, "vip-2", "s3://results/sync/2", ("Id",), NOW + timedelta(hours=1))
    older = replace(later, run_id="vip-1", snapshot="s3://results/sync/1", synced_at=NOW)

    assert states.save(later) is True
    assert states.save(later) is True  # a repeated tick saves the same state again
    assert states.save(older) is False  # a run that ended late never replaces a later one
    assert states.last(scope) == later
    with_segment = replace(later, segment_id="ab" * 16)
    assert states.save(with_segment) is True
    assert states.last(scope) == with_segment
    # The state's item is no run: it has no status, so the by-status index never lists it.
    assert DynamoImportLedger(lambda: dynamodb, "imports").open_runs(RunStatus.RUNNING, 10) == []


def test_a_waiting_run_is_taken_by_one_poller_and_a_stopped_claim_by_one_resumer(
    dynamodb: Any,
) -> None:
    ledger = DynamoImportLedger(lambda: dynamodb, "imports")
    ledger.claim(record("run-1", NOW + timedelta(hours=1)))
    assert ledger.take_waiting("run-1", NOW) is False  # not waiting
    assert ledger.mark_waiting("run-1") is True
    assert [r.run_id for r in ledger.open_runs(RunStatus.WAITING, 10)] == ["run-1"]

    later = NOW + timedelta(minutes=5)
    assert ledger.take_waiting("run-1", later) is True
    assert ledger.take_waiting("run-1", later) is False  # the second poller
    taken = ledger.get("run-1")
    assert taken is not None
    assert (taken.status, taken.claimed_at) == (RunStatus.SUBMITTING, later)

    # A claim is taken over only as it was read: of two resumers, one wins.
    much_later = later + timedelta(minutes=20)
    assert ledger.reclaim("run-1", NOW, much_later) is False  # not the claim it holds
    assert ledger.reclaim("run-1", later, much_later) is True
    assert ledger.reclaim("run-1", later, much_later) is False


def test_a_run_that_waited_too_long_ends_from_waiting(dynamodb: Any) -> None:
    ledger = DynamoImportLedger(lambda: dynamodb, "imports")
    run = record("run-1", NOW)
    ledger.claim(run)
    ledger.mark_waiting("run-1")
    failed = _failed(run.cause, NOW, "no slot freed")
    assert ledger.begin_ending("run-1", failed, RunStatus.TIMED_OUT, NOW) is False  # not running
    assert ledger.begin_ending("run-1", failed, RunStatus.TIMED_OUT, NOW, current=RunStatus.WAITING)
    assert ledger.mark_ended("run-1", RunStatus.TIMED_OUT) is True


def test_import_slots_admit_at_most_so_many_runs_and_are_idempotent(dynamodb: Any) -> None:
    slots = DynamoImportSlots(lambda: dynamodb, "imports")
    assert [slots.take("pinpoint", run, 2) for run in ("a", "b", "a", "c")] == [
        True,
        True,
        True,  # a holds one already
        False,
    ]
    assert slots.take("connect:domain", "c", 2) is True  # another scope, other slots
    slots.release("pinpoint", "a")
    slots.release("pinpoint", "a")  # releasing twice changes nothing
    slots.release("pinpoint", "never-held")
    assert slots.holders("pinpoint") == {"b"}
    assert slots.take("pinpoint", "c", 2) is True
    assert slots.holders("pinpoint") == {"b", "c"}
    for run in ("b", "c"):
        slots.release("pinpoint", run)
    assert slots.holders("pinpoint") == frozenset()
    assert slots.take("pinpoint", "d", 2) is True
    # The slots items are not runs: without a status, the status index never lists them.
    items = dynamodb.scan(TableName="imports")["Items"]
    assert {item["run_id"]["S"] for item in items} == {"slots#pinpoint", "slots#connect:domain"}
    assert all("status" not in item for item in items)
