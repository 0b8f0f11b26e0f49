"""The runtime's pure decisions: event shapes and Lambda's partial-batch rules."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from infra.local.runtime import (
    ScheduledJob,
    Target,
    failed_message_ids,
    scheduled_event,
    sqs_record,
    target_payload,
    with_account,
)
from infra.local.schedule import parse_schedule

RECORDS = [{"messageId": "a"}, {"messageId": "b"}]


def test_sqs_record_has_the_lambda_shape() -> None:
    message = {
        "MessageId": "m1",
        "ReceiptHandle": "rh",
        "Body": "hello",
        "MD5OfBody": hashlib.md5(b"hello").hexdigest(),  # noqa: S324
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "MessageAttributes": {"k": {"StringValue": "v", "DataType": "String"}},
    }
    record = sqs_record(message, queue_arn="arn:aws:sqs:us-east-1:1:q", region="us-east-1")
    assert record == {
        "messageId": "m1",
        "receiptHandle": "rh",
        "body": "hello",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "messageAttributes": {
            "k": {
                "stringValue": "v",
                "binaryValue": None,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
        },
        "md5OfBody": hashlib.md5(b"hello").hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:1:q",
        "awsRegion": "us-east-1",
    }


def test_partial_batch_failures_follow_lambda() -> None:
    report = {"batchItemFailures": [{"itemIdentifier": "b"}]}
    assert failed_message_ids(RECORDS, report, None, report_failures=True) == {"b"}
    assert (
        failed_message_ids(RECORDS, {"batchItemFailures": []}, None, report_failures=True) == set()
    )
    assert failed_message_ids(RECORDS, None, None, report_failures=True) == set()
    # without ReportBatchItemFailures the answer is ignored
    assert failed_message_ids(RECORDS, report, None, report_failures=False) == set()
    # an exception, or an id not in the batch, fails the whole batch
    assert failed_message_ids(RECORDS, None, "Traceback", report_failures=True) == {"a", "b"}
    unknown = {"batchItemFailures": [{"itemIdentifier": "zzz"}]}
    assert failed_message_ids(RECORDS, unknown, None, report_failures=True) == {"a", "b"}


def test_missing_account_is_restored_only_on_eventbridge_events() -> None:
    event = {"detail-type": "X", "source": "s", "detail": {}}
    assert json.loads(with_account(json.dumps(event), "123"))["account"] == "123"
    assert with_account("not json", "123") == "not json"
    assert with_account('{"plain": 1}', "123") == '{"plain": 1}'


def _event() -> dict[str, Any]:
    job = ScheduledJob(
        name="r",
        arn="arn:aws:events:us-east-1:123:rule/r",
        schedule=parse_schedule("rate(1 minute)", start=datetime(2026, 1, 1, tzinfo=UTC)),
        targets=[],
    )
    return scheduled_event(
        job, moment=datetime(2026, 1, 1, 0, 1, tzinfo=UTC), region="us-east-1", account_id="123"
    )


def test_scheduled_event_shape() -> None:
    event = _event()
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2026-01-01T00:01:00Z"
    assert event["resources"] == ["arn:aws:events:us-east-1:123:rule/r"]
    assert event["detail"] == {}
    assert event["account"] == "123"


def test_target_input_path_and_transformer() -> None:
    event, arn = _event(), "arn:aws:events:us-east-1:123:rule/r"
    assert json.loads(target_payload(Target(arn="x"), event, rule_arn=arn)) == event
    assert target_payload(Target(arn="x", input='{"k": 1}'), event, rule_arn=arn) == '{"k": 1}'
    assert json.loads(
        target_payload(Target(arn="x", input_path="$.resources"), event, rule_arn=arn)
    ) == [arn]
    transformer = {
        "InputPathsMap": {"t": "$.time"},
        "InputTemplate": '{"at": "<t>", "rule": "<aws.events.rule-name>"}',
    }
    payload = target_payload(Target(arn="x", input_transformer=transformer), event, rule_arn=arn)
    assert json.loads(payload) == {"at": "2026-01-01T00:01:00Z", "rule": "r"}
