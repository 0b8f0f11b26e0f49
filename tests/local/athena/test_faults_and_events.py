"""Fault switches, busy(), and state-change events delivered through EventBridge to SQS."""

from __future__ import annotations

import json
from typing import Any

from infra.local.athena import AthenaEmulator
from infra.local.clock import VirtualClock
from tests.local.athena.conftest import OUTPUT, RunQuery, client


def _start(athena: Any, sql: str) -> str:
    response = athena.start_query_execution(
        QueryString=sql, ResultConfiguration={"OutputLocation": OUTPUT}
    )
    return str(response["QueryExecutionId"])


def _status(athena: Any, query_id: str) -> dict[str, Any]:
    return dict(athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"])


def test_stuck_query_stays_running_is_not_busy_and_can_be_stopped(
    athena: Any, emulator: AthenaEmulator, clock: VirtualClock
) -> None:
    emulator.faults.stick(match="slow_one")
    stuck = _start(athena, "SELECT 'slow_one'")
    normal = _start(athena, "SELECT 'fast_one'")
    for _ in range(5):
        clock.advance(60)
        emulator.tick()
    assert _status(athena, stuck)["State"] == "RUNNING"
    assert _status(athena, normal)["State"] == "SUCCEEDED"
    assert not emulator.busy()  # the runtime may go idle; the runner must notice the stall

    athena.stop_query_execution(QueryExecutionId=stuck)
    status = _status(athena, stuck)
    assert status["State"] == "CANCELLED"
    assert (status["CompletionDateTime"] - status["SubmissionDateTime"]).total_seconds() == 300


def test_fail_and_cancel_faults_force_the_outcome(
    emulator: AthenaEmulator, run_query: RunQuery
) -> None:
    emulator.faults.fail(
        match="doomed", reason="HIVE_BAD_DATA: injected", error_type=1001, retryable=True
    )
    cancel = emulator.faults.cancel(match="dropped", reason="Query cancelled by operator")
    failed = run_query("SELECT 'doomed'")["Status"]
    assert failed["State"] == "FAILED"
    assert failed["StateChangeReason"] == "HIVE_BAD_DATA: injected"
    assert failed["AthenaError"] == {
        "ErrorCategory": 2,
        "ErrorType": 1001,
        "Retryable": True,
        "ErrorMessage": "HIVE_BAD_DATA: injected",
    }
    cancelled = run_query("SELECT 'dropped'")["Status"]
    assert cancelled["State"] == "CANCELLED"
    assert cancelled["StateChangeReason"] == "Query cancelled by operator"
    assert cancel.hits == 1
    cancel.remove()
    assert run_query("SELECT 'dropped'")["Status"]["State"] == "SUCCEEDED"
    emulator.faults.clear()
    assert run_query("SELECT 'doomed'")["Status"]["State"] == "SUCCEEDED"


def _athena_events_queue() -> tuple[Any, str]:
    sqs = client("sqs")
    events = client("events")
    queue_url = sqs.create_queue(QueueName="athena-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name="athena-state-changes",
        EventPattern=json.dumps(
            {"source": ["aws.athena"], "detail-type": ["Athena Query State Change"]}
        ),
    )
    events.put_targets(Rule="athena-state-changes", Targets=[{"Id": "q", "Arn": queue_arn}])
    return sqs, queue_url


def _drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        messages = batch.get("Messages", [])
        if not messages:
            return received
        for message in messages:
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_state_changes_reach_sqs_through_a_default_bus_rule(
    emulator: AthenaEmulator, run_query: RunQuery
) -> None:
    sqs, queue_url = _athena_events_queue()
    succeeded = run_query("SELECT 1")["QueryExecutionId"]
    failed = run_query("SELECT nope FROM email_click")["QueryExecutionId"]

    events = _drain(sqs, queue_url)
    assert {e["source"] for e in events} == {"aws.athena"}
    assert {e["detail-type"] for e in events} == {"Athena Query State Change"}
    # Event times come from the virtual clock (the fixture starts at 2024-06-01 12:00 UTC).
    assert min(e["time"] for e in events) == "2024-06-01T12:00:00Z"
    by_query: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_query.setdefault(event["detail"]["queryExecutionId"], []).append(event["detail"])

    ok = sorted(by_query[succeeded], key=lambda d: int(d["sequenceNumber"]))
    assert [(d.get("previousState"), d["currentState"], d["sequenceNumber"]) for d in ok] == [
        (None, "QUEUED", "1"),
        ("QUEUED", "RUNNING", "2"),
        ("RUNNING", "SUCCEEDED", "3"),
    ]
    assert all(
        d["versionId"] == "0" and d["statementType"] == "DML" and d["workgroupName"] == "primary"
        for d in ok
    )
    assert all("athenaError" not in d for d in ok)

    last = max(by_query[failed], key=lambda d: int(d["sequenceNumber"]))
    assert last["currentState"] == "FAILED"
    assert last["athenaError"]["errorCategory"] == 2
    assert last["athenaError"]["errorType"] == 1006
    assert last["athenaError"]["retryable"] is False
    assert "COLUMN_NOT_FOUND" in last["athenaError"]["errorMessage"]


def test_stop_emits_cancelled(athena: Any, emulator: AthenaEmulator, clock: VirtualClock) -> None:
    sqs, queue_url = _athena_events_queue()
    query_id = _start(athena, "SELECT 1")
    emulator.tick()
    athena.stop_query_execution(QueryExecutionId=query_id)
    details = [e["detail"] for e in _drain(sqs, queue_url)]
    cancelled = [d for d in details if d["currentState"] == "CANCELLED"]
    assert len(cancelled) == 1
    assert cancelled[0]["previousState"] == "RUNNING"
    assert cancelled[0]["sequenceNumber"] == "3"
