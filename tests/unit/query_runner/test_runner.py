"""query-runner: idempotent starts, completion from Athena events, stuck queries stopped."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts import (
    REGISTRY,
    AthenaQueryStateChange,
    Event,
    QueryFailureState,
    SegmentQueryFailed,
    SegmentQueryStarted,
    SegmentQuerySucceeded,
    SegmentQueryValidated,
)
from contracts.examples import example_event
from services.common.run_ledger import RunStatus
from services.query_runner.adapters import SCHEDULE_INDEX, QueryRunLedger
from services.query_runner.logic import (
    Execution,
    Ports,
    QueryPlacement,
    RunRecord,
    finish_run,
    marked_query,
    request_token,
    run_of,
    start_run,
    stop_overdue,
)
from tests.fixtures.tables import create_template_table

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
PLACEMENT = QueryPlacement(
    workgroup="pinpoint-lake",
    catalog="AwsDataCatalog",
    database="due_eventdb",
    results_bucket="results",
    timeout=timedelta(minutes=30),
)


class FakeAthena:
    def __init__(self) -> None:
        self.executions: dict[str, Execution] = {}
        self.tokens: dict[str, str] = {}
        self.stopped: list[str] = []

    def start(self, query: str, token: str, placement: QueryPlacement, output: str) -> str:
        if token not in self.tokens:  # Athena's ClientRequestToken idempotency
            query_execution_id = f"qid-{len(self.tokens) + 1}"
            self.tokens[token] = query_execution_id
            self.executions[query_execution_id] = Execution(
                query_execution_id=query_execution_id,
                state="QUEUED",
                query=query,
                output_location=f"{output}{query_execution_id}.csv",
            )
        return self.tokens[token]

    def describe(self, query_execution_id: str) -> Execution | None:
        return self.executions.get(query_execution_id)

    def stop(self, query_execution_id: str) -> None:
        self.stopped.append(query_execution_id)

    def finish(self, query_execution_id: str, state: str, **fields: Any) -> None:
        execution = self.executions[query_execution_id]
        self.executions[query_execution_id] = replace(execution, state=state, **fields)


class FakeLedger:
    def __init__(self) -> None:
        self.runs: dict[str, RunRecord] = {}
        self.crashes_on_mark = 0  # the process dies between publishing and marking

    def get(self, run_id: str) -> RunRecord | None:
        return self.runs.get(run_id)

    def save_started(self, record: RunRecord) -> None:
        self.runs.setdefault(record.run_id, record)

    def mark_ended(self, run_id: str, status: RunStatus) -> bool:
        if self.crashes_on_mark:
            self.crashes_on_mark -= 1
            raise RuntimeError("crash")
        record = self.runs[run_id]
        if record.ended:
            return False
        self.runs[run_id] = replace(record, status=status)
        return True

    def overdue(self, now: datetime) -> list[RunRecord]:
        return [r for r in self.runs.values() if not r.ended and r.deadline < now]


class Published(list[Event]):
    def __call__(self, events: Sequence[Event], *, trace_header: str | None = None) -> None:
        self.extend(events)


@pytest.fixture
def athena() -> FakeAthena:
    return FakeAthena()


@pytest.fixture
def published() -> Published:
    return Published()


@pytest.fixture
def ports(athena: FakeAthena, published: Published) -> Ports:
    return Ports(athena=athena, ledger=FakeLedger(), publish=published)


def validated() -> SegmentQueryValidated:
    return REGISTRY.parse_as(example_event(SegmentQueryValidated), SegmentQueryValidated).detail


def state_change(query_execution_id: str, state: str, **error: Any) -> AthenaQueryStateChange:
    raw = example_event(AthenaQueryStateChange)
    raw["detail"] |= {"queryExecutionId": query_execution_id, "currentState": state}
    if error:
        raw["detail"]["athenaError"] = error
    return REGISTRY.parse_as(raw, AthenaQueryStateChange).detail


def test_the_run_marker_round_trips_and_tokens_are_stable() -> None:
    query = marked_query("run-1", "SELECT 1 AS Id")
    assert run_of(query) == "run-1"
    assert run_of("SELECT 1 -- pinpoint-lake run: x") is None  # only a whole marker line counts
    assert request_token("run-1") == request_token("run-1") != request_token("run-2")
    assert 32 <= len(request_token("run-1")) <= 128


def test_a_validated_run_starts_once_and_announces_it(
    ports: Ports, athena: FakeAthena, published: Published
) -> None:
    event = validated()

    first = start_run(event, ports, PLACEMENT, NOW)
    again = start_run(event, ports, PLACEMENT, NOW)

    assert first == again == "qid-1"
    assert len(athena.executions) == 1
    assert run_of(athena.executions["qid-1"].query) == event.data.run_id
    assert [type(e) for e in published] == [SegmentQueryStarted, SegmentQueryStarted]
    assert published[0].event_id == published[1].event_id  # redelivery republishes the same
    started = published[0]
    assert isinstance(started, SegmentQueryStarted)
    assert started.data.output_location == f"s3://results/athena/runs/{event.data.run_id}/"
    assert started.metadata.correlation_id == event.data.run_id


def test_success_ends_the_run_once_with_the_result_file(
    ports: Ports, athena: FakeAthena, published: Published
) -> None:
    start_run(validated(), ports, PLACEMENT, NOW)
    athena.finish("qid-1", "SUCCEEDED", data_scanned_bytes=1024, engine_execution_time_ms=42)

    assert finish_run(state_change("qid-1", "RUNNING"), ports) is None
    assert finish_run(state_change("qid-1", "SUCCEEDED"), ports) is RunStatus.SUCCEEDED
    assert finish_run(state_change("qid-1", "SUCCEEDED"), ports) is None  # duplicate
    assert finish_run(state_change("qid-1", "RUNNING"), ports) is None  # late, out of order

    succeeded = [e for e in published if isinstance(e, SegmentQuerySucceeded)]
    assert len(succeeded) == 1
    assert succeeded[0].data.result_location.endswith("/qid-1.csv")
    assert (succeeded[0].data.data_scanned_bytes, succeeded[0].data.engine_execution_time_ms) == (
        1024,
        42,
    )


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_failure_and_cancellation_end_the_run_with_athenas_reason(
    ports: Ports, athena: FakeAthena, published: Published, state: str
) -> None:
    start_run(validated(), ports, PLACEMENT, NOW)
    athena.finish("qid-1", state, reason="from GetQueryExecution")
    change = state_change(
        "qid-1",
        state,
        errorCategory=2,
        errorType=1006,
        errorMessage="COLUMN_NOT_FOUND: line 1:8",
        retryable=False,
    )

    assert finish_run(change, ports) is RunStatus(state)

    failed = published[-1]
    assert isinstance(failed, SegmentQueryFailed)
    assert failed.data.state is QueryFailureState(state)
    assert failed.data.reason == "COLUMN_NOT_FOUND: line 1:8"
    assert (failed.data.error_category, failed.data.error_type) == (2, 1006)


@pytest.mark.parametrize(
    ("message", "error_type"),
    [
        (
            "HIVE_BAD_DATA: Error parsing field value 'jane@example.com' for field 3: "
            'For input string: "jane@example.com"',
            1001,
        ),
        ("INVALID_CAST_ARGUMENT: Cannot cast 'jane@example.com' to INT", 1001),
        ("NUMERIC_VALUE_OUT_OF_RANGE: Value 31415926535 exceeds MAX_INT", None),
        ("a message without a name that quotes 'jane@example.com'", 1001),
    ],
)
def test_a_data_errors_reason_keeps_athenas_error_name_and_never_the_value(
    ports: Ports, athena: FakeAthena, published: Published, message: str, error_type: int | None
) -> None:
    start_run(validated(), ports, PLACEMENT, NOW)
    athena.finish("qid-1", "FAILED", reason=message)
    error = {} if error_type is None else {"errorCategory": 2, "errorType": error_type}

    finish_run(state_change("qid-1", "FAILED", errorMessage=message, **error), ports)

    failed = published[-1]
    assert isinstance(failed, SegmentQueryFailed)
    reason = failed.data.reason
    assert "jane@example.com" not in reason
    assert "31415926535" not in reason
    name = message.partition(":")[0] if message[0].isupper() else "DATA_ERROR"
    assert reason.startswith(f"{name}: a value in the data lake does not fit")
    assert "qid-1" in reason  # where the whole message can be read, with Athena's access rules


def test_without_an_error_in_the_event_the_execution_reason_is_used(
    ports: Ports, athena: FakeAthena, published: Published
) -> None:
    start_run(validated(), ports, PLACEMENT, NOW)
    athena.finish("qid-1", "CANCELLED", reason="Query cancelled by user")

    finish_run(state_change("qid-1", "CANCELLED"), ports)

    assert isinstance(published[-1], SegmentQueryFailed)
    assert published[-1].data.reason == "Query cancelled by user"


def test_executions_that_are_not_runs_are_ignored(ports: Ports, athena: FakeAthena) -> None:
    athena.executions["adhoc"] = Execution("adhoc", "SUCCEEDED", "SELECT 1")

    assert finish_run(state_change("adhoc", "SUCCEEDED"), ports) is None
    assert finish_run(state_change("unknown", "SUCCEEDED"), ports) is None


def test_an_ending_published_then_lost_is_published_again_with_the_same_id(
    athena: FakeAthena, published: Published
) -> None:
    ledger = FakeLedger()
    ports = Ports(athena=athena, ledger=ledger, publish=published)
    start_run(validated(), ports, PLACEMENT, NOW)
    athena.finish("qid-1", "SUCCEEDED")
    ledger.crashes_on_mark = 1

    with pytest.raises(RuntimeError, match="crash"):
        finish_run(state_change("qid-1", "SUCCEEDED"), ports)
    assert finish_run(state_change("qid-1", "SUCCEEDED"), ports) is RunStatus.SUCCEEDED

    endings = [e for e in published if isinstance(e, SegmentQuerySucceeded)]
    assert len(endings) == 2
    assert endings[0].event_id == endings[1].event_id


def test_stuck_queries_are_stopped_and_failed_once(
    ports: Ports, athena: FakeAthena, published: Published
) -> None:
    start_run(validated(), ports, PLACEMENT, NOW)

    assert stop_overdue(NOW + timedelta(minutes=29), ports, PLACEMENT) == []
    (run_id,) = stop_overdue(NOW + timedelta(minutes=31), ports, PLACEMENT)
    assert stop_overdue(NOW + timedelta(minutes=45), ports, PLACEMENT) == []

    assert athena.stopped == ["qid-1"]
    failed = published[-1]
    assert isinstance(failed, SegmentQueryFailed)
    assert failed.data.run_id == run_id
    assert failed.data.state is QueryFailureState.TIMED_OUT
    assert "1800 seconds" in failed.data.reason
    # Athena's CANCELLED event for the stopped query then changes nothing.
    athena.finish("qid-1", "CANCELLED")
    assert finish_run(state_change("qid-1", "CANCELLED"), ports) is None


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_template_table(client, "QueryRunsTable", "runs")
        yield client


def test_the_dynamodb_ledger_keeps_runs_and_finds_overdue_ones(dynamodb: Any) -> None:
    ledger = QueryRunLedger(lambda: dynamodb, "runs")
    event = validated()
    record = RunRecord(event.data.run_id, "qid-9", RunStatus.RUNNING, NOW, event)

    ledger.save_started(record)
    ledger.save_started(replace(record, query_execution_id="other"))  # first one stays

    assert ledger.get(event.data.run_id) == record
    assert ledger.get("missing") is None
    assert ledger.overdue(NOW - timedelta(seconds=1)) == []
    assert [r.run_id for r in ledger.overdue(NOW + timedelta(seconds=1))] == [event.data.run_id]
    assert ledger.mark_ended(event.data.run_id, RunStatus.SUCCEEDED) is True
    assert ledger.mark_ended(event.data.run_id, RunStatus.FAILED) is False
    stored = ledger.get(event.data.run_id)
    assert stored is not None
    assert stored.status is RunStatus.SUCCEEDED
    assert ledger.overdue(NOW + timedelta(days=1)) == []


def test_runs_a_schedule_fired_are_found_by_schedule_latest_first(dynamodb: Any) -> None:
    ledger = QueryRunLedger(lambda: dynamodb, "runs")
    schedule = "arn:aws:scheduler:us-east-1:123456789012:schedule/lake-segments/clicked"
    base = validated()
    for hour in (9, 11, 10):
        request = base.data.request.model_copy(
            update={"schedule_arn": schedule, "scheduled_time": NOW.replace(hour=hour)}
        )
        run = base.data.model_copy(update={"run_id": f"fire-{hour}", "request": request})
        event = base.model_copy(update={"data": run})
        ledger.save_started(RunRecord(run.run_id, f"qid-{hour}", RunStatus.RUNNING, NOW, event))
    ledger.save_started(RunRecord("by-hand", "qid-x", RunStatus.RUNNING, NOW, base))

    found = dynamodb.query(
        TableName="runs",
        IndexName=SCHEDULE_INDEX,
        KeyConditionExpression="schedule_arn = :arn",
        ExpressionAttributeValues={":arn": {"S": schedule}},
        ScanIndexForward=False,
    )["Items"]

    assert [item["run_id"]["S"] for item in found] == ["fire-11", "fire-10", "fire-9"]


def test_a_query_that_ended_before_its_run_was_recorded_ends_the_run_when_it_is(
    athena: FakeAthena, published: Published
) -> None:
    class FailingOnce(FakeLedger):
        failed = False

        def save_started(self, record: RunRecord) -> None:
            if not self.failed:
                self.failed = True
                raise RuntimeError("ProvisionedThroughputExceededException")
            super().save_started(record)

    ports = Ports(athena=athena, ledger=FailingOnce(), publish=published)
    event = validated()
    with pytest.raises(RuntimeError):
        start_run(event, ports, PLACEMENT, NOW)  # Athena started; the run not recorded
    athena.finish("qid-1", "SUCCEEDED")
    # Its state change comes before the redelivery (the queue's visibility timeout).
    assert finish_run(state_change("qid-1", "SUCCEEDED"), ports) is None

    assert start_run(event, ports, PLACEMENT, NOW) == "qid-1"
    succeeded = [e for e in published if isinstance(e, SegmentQuerySucceeded)]
    assert len(succeeded) == 1
    assert len(athena.tokens) == 1
    assert start_run(event, ports, PLACEMENT, NOW) is None  # ended: nothing more
