"""notifier: readable messages for every ending, filterable attributes, no duplicates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts import (
    REGISTRY,
    EndpointImportCompleted,
    EndpointImportFailed,
    Event,
    ImportOutcome,
    SegmentQueryFailed,
    SegmentQueryRejected,
    SegmentQueryValidated,
)
from contracts.examples import RUN_ID, example_event
from services.notifier import handler as notifier_handler
from services.notifier.logic import notification_for, shorten, subject_line
from tests.fixtures.lambda_events import FakeLambdaContext, sqs_batch
from tests.fixtures.tables import create_template_table


def parsed(model: type[Event], **data: Any) -> Any:
    raw = example_event(model)
    raw["detail"]["data"] |= data
    return REGISTRY.parse_as(raw, model).detail


def test_every_ending_has_an_outcome_and_a_readable_subject() -> None:
    cases = {
        "rejected": parsed(SegmentQueryRejected),
        "query_failed": parsed(SegmentQueryFailed),
        "query_timed_out": parsed(SegmentQueryFailed, state="TIMED_OUT"),
        "partial": parsed(EndpointImportCompleted),
        "complete": parsed(EndpointImportCompleted, outcome="complete", pinpoint_failures=0),
        "dry_run": parsed(EndpointImportCompleted, outcome="dry_run", import_job_id=None),
        "nothing_to_import": parsed(EndpointImportCompleted, outcome="nothing_to_import"),
        "import_failed": parsed(EndpointImportFailed),
    }
    summaries = {}
    for outcome, event in cases.items():
        notification = notification_for(event)
        assert notification.outcome == outcome
        assert notification.attributes == {"outcome": outcome, "run_id": RUN_ID}
        assert notification.body["run_id"] == RUN_ID
        assert len(notification.subject) <= 100
        assert notification.subject.startswith(f"pinpoint-lake run {RUN_ID}: ")
        summaries[outcome] = notification.body["summary"]

    assert summaries["rejected"] == "query rejected (2 reasons)"
    assert summaries["partial"] == "10247 endpoints updated, 1 failed in Pinpoint, 2 rows rejected"
    assert summaries["dry_run"] == "dry run, 10248 rows would be imported, 2 rows rejected"


def test_bodies_carry_counts_reasons_and_a_shortened_query() -> None:
    partial = notification_for(parsed(EndpointImportCompleted)).body
    assert partial["counts"] == {
        "rows_read": 10_250,
        "rows_rejected": 2,
        "rows_to_import": 10_248,
        "rows_in_result": 10_250,
        "rows_sent": 10_248,
        "rows_unchanged": 0,
        "rows_cleared": 0,
        "endpoints_imported": 10_247,
        "pinpoint_failures": 1,
    }
    assert partial["rejection_sample"][0]["code"] == "VALUE_TOO_LONG"
    assert "\n" not in partial["query"]

    rejected = notification_for(parsed(SegmentQueryRejected)).body
    assert [r["code"] for r in rejected["reasons"]] == ["MISSING_ID_COLUMN", "SELECT_STAR"]

    failed = notification_for(parsed(SegmentQueryFailed)).body
    assert failed["reason"].startswith("COLUMN_NOT_FOUND")


def test_queries_and_subjects_are_kept_short_and_sns_safe() -> None:
    assert shorten("SELECT\n  a\tFROM   t") == "SELECT a FROM t"
    long = shorten("x" * 2_000)
    assert len(long) == 500
    assert long.endswith("…")
    subject = subject_line("run-1", "dry run — 5 rows\nsecond line " + "y" * 200)
    assert len(subject) == 100
    assert all(32 <= ord(c) < 127 for c in subject)


def test_other_events_are_not_endings() -> None:
    with pytest.raises(TypeError, match="does not end a run"):
        notification_for(parsed(SegmentQueryValidated))


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A topic with an SQS subscriber, an idempotency table, and the notifier's environment."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "notifier",
        "POWERTOOLS_METRICS_NAMESPACE": "pinpoint-lake-tests",
        "EVENT_BUS_NAME": "bus",
        "IDEMPOTENCY_TABLE_NAME": "idempotency",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        sns = boto3.client("sns", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        topic = sns.create_topic(Name="runs")["TopicArn"]
        queue = sqs.create_queue(QueueName="ops")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(
            TopicArn=topic,
            Protocol="sqs",
            Endpoint=queue_arn,
            Attributes={"FilterPolicy": json.dumps({"outcome": ["partial", "import_failed"]})},
        )
        create_template_table(
            boto3.client("dynamodb", region_name="us-east-1"),
            "NotificationIdempotencyTable",
            "idempotency",
        )
        monkeypatch.setenv("NOTIFICATION_TOPIC_ARN", topic)
        yield queue


def test_one_message_per_ended_run_even_when_delivered_twice(deployed: str) -> None:
    partial = example_event(EndpointImportCompleted)
    failed = example_event(EndpointImportFailed)
    rejected = example_event(SegmentQueryRejected)  # filtered out by the subscription

    first = notifier_handler.lambda_handler.fresh()(
        sqs_batch(partial, failed, rejected), FakeLambdaContext()
    )
    again = notifier_handler.lambda_handler.fresh()(sqs_batch(partial, failed), FakeLambdaContext())

    assert first == again == {"batchItemFailures": []}
    sqs = boto3.client("sqs", region_name="us-east-1")
    messages = sqs.receive_message(QueueUrl=deployed, MaxNumberOfMessages=10)["Messages"]
    envelopes = [json.loads(m["Body"]) for m in messages]
    assert sorted(e["MessageAttributes"]["outcome"]["Value"] for e in envelopes) == [
        "import_failed",
        "partial",
    ]
    partial_message = next(e for e in envelopes if "partial" in e["Message"])
    assert partial_message["Subject"].startswith(f"pinpoint-lake run {RUN_ID}:")
    assert json.loads(partial_message["Message"])["outcome"] == ImportOutcome.PARTIAL.value


def test_a_sync_says_what_it_sent_kept_and_cleared() -> None:
    raw = example_event(EndpointImportCompleted)
    data = raw["detail"]["data"]
    data["request"] |= {"sync_key": "vip", "mirror": True}
    data["outcome"] = "complete"
    data["counts"] |= {"rows_sent": 40, "rows_unchanged": 10_208, "rows_cleared": 7}
    summary = notification_for(REGISTRY.parse_as(raw, EndpointImportCompleted).detail).body

    assert summary["summary"] == (
        "10247 endpoints updated (40 sent, 10208 unchanged, 7 cleared), 2 rows rejected"
    )
    assert summary["counts"]["rows_cleared"] == 7

    data["outcome"] = "nothing_to_import"
    data["counts"] |= {"rows_sent": 0, "rows_cleared": 0, "rows_rejected": 0}
    unchanged = notification_for(REGISTRY.parse_as(raw, EndpointImportCompleted).detail).body
    assert unchanged["summary"] == (
        "nothing changed since the last sync (0 sent, 10208 unchanged, 0 cleared)"
    )
