"""The query-validator Lambda on moto: requests in through SQS, outcomes out on the bus."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts import MAX_QUERY_LENGTH, REGISTRY, SegmentQueryRejected, SegmentQueryValidated
from services.common.settings import SettingsError, load_settings
from services.query_validator import handler
from services.query_validator.settings import Settings
from tests.fixtures.lambda_events import FakeLambdaContext, sqs_batch
from tests.fixtures.tables import create_template_table

PRIMARY = "8b2f6a1c9d3e4f5a6b7c8d9e0f1a2b3c"
SECOND = "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
GOOD_QUERY = "SELECT endpoint_id AS Id, 'Yes' AS \"Attributes.Clicked\" FROM email_click"
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "query-validator",
    "POWERTOOLS_METRICS_NAMESPACE": "pinpoint-lake-tests",
    "EVENT_BUS_NAME": "pinpoint-lake",
    "GLUE_CATALOG": "AwsDataCatalog",
    "GLUE_DATABASE": "due_eventdb",
    "ALLOWED_DATABASES": "due_eventdb, crm",
    "MONITORED_PROJECT_IDS": f"{PRIMARY},{SECOND}",
}


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The project bus with a rule sending the validator's events to a queue; its URL."""
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DEFAULT_PROJECT_ID", raising=False)
    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        events.create_event_bus(Name="pinpoint-lake")
        queue = sqs.create_queue(QueueName="outcomes")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="outcomes",
            EventBusName="pinpoint-lake",
            EventPattern=json.dumps({"source": ["pinpoint-lake.query-validator"]}),
        )
        events.put_targets(
            Rule="outcomes", EventBusName="pinpoint-lake", Targets=[{"Id": "q", "Arn": queue_arn}]
        )
        yield queue


def _published(queue: str) -> list[Any]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    found = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in messages:
            found.append(REGISTRY.parse(json.loads(message["Body"])).detail)
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return found


def _request(envelope_id: str, data: dict[str, Any]) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": envelope_id,
            "detail-type": "SegmentQueryRequested",
            "source": "analytics.scheduler",
            "time": "2026-11-22T09:59:58Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {"data": data},
        }
    )


def test_every_request_is_answered_and_only_non_requests_fail(bus: str) -> None:
    good = _request("e-good", {"Query": GOOD_QUERY, "run_id": "clicked-1"})
    response = handler.lambda_handler.fresh()(
        sqs_batch(
            good,
            _request("e-star", {"query": "SELECT * FROM email_click"}),
            _request("e-long", {"query": "x" * (MAX_QUERY_LENGTH + 1), "run_id": "long-1"}),
            "not json at all",
            _request("e-other", {"query": GOOD_QUERY, "application_id": "f" * 32}),
        ),
        FakeLambdaContext(),
    )

    assert response == {"batchItemFailures": [{"itemIdentifier": "m3"}]}
    published = _published(bus)
    assert len(published) == 4  # one answer per request, the non-JSON body aside
    outcomes = {event.data.run_id: event for event in published}
    validated = outcomes["clicked-1"]
    assert isinstance(validated, SegmentQueryValidated)
    assert validated.data.application_id == PRIMARY
    assert validated.data.columns == ["Id", "Attributes.Clicked"]
    too_long = outcomes["long-1"]
    assert isinstance(too_long, SegmentQueryRejected)
    assert too_long.data.request is None
    assert [r.code for r in too_long.data.reasons] == ["QUERY_TOO_LONG"]
    rejected_codes = sorted(
        r.code
        for event in outcomes.values()
        if isinstance(event, SegmentQueryRejected) and event.data.request is not None
        for r in event.data.reasons
    )
    assert rejected_codes == ["APPLICATION_NOT_MONITORED", "MISSING_ID_COLUMN", "SELECT_STAR"]


def test_a_redelivered_request_is_answered_with_the_same_event(bus: str) -> None:
    body = _request("e-1", {"query": GOOD_QUERY})

    handler.lambda_handler.fresh()(sqs_batch(body), FakeLambdaContext())
    handler.lambda_handler.fresh()(sqs_batch(body), FakeLambdaContext())

    first, again = _published(bus)
    assert isinstance(first, SegmentQueryValidated)
    assert (first.event_id, first.data.run_id) == (again.event_id, again.data.run_id)


def test_rejections_are_recorded_once_for_the_requester_s_tools(
    bus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    create_template_table(dynamodb, "RejectedRunsTable", "rejected-runs")
    monkeypatch.setenv("REJECTED_RUNS_TABLE_NAME", "rejected-runs")
    star = _request("e-star", {"query": "SELECT * FROM email_click", "run_id": "starry"})
    fixed = _request("e-fixed", {"query": GOOD_QUERY, "run_id": "starry"})
    good = _request("e-good", {"query": GOOD_QUERY, "run_id": "fine"})
    function = handler.lambda_handler.fresh()

    for batch in (sqs_batch(star, good), sqs_batch(star), sqs_batch(fixed)):
        assert function(batch, FakeLambdaContext()) == {"batchItemFailures": []}

    items = dynamodb.scan(TableName="rejected-runs")["Items"]
    assert [item["run_id"]["S"] for item in items] == ["starry"]  # the accepted run: nothing
    reasons = json.loads(items[0]["reasons"]["S"])
    assert {reason["code"] for reason in reasons} == {"SELECT_STAR", "MISSING_ID_COLUMN"}
    assert "query" not in items[0]
    assert int(items[0]["expires_at"]["N"]) > 0


def test_settings_read_lists_and_default_the_allow_list_and_target() -> None:
    settings = load_settings(
        Settings,
        {
            "POWERTOOLS_SERVICE_NAME": "query-validator",
            "EVENT_BUS_NAME": "bus",
            "GLUE_DATABASE": "events",
            "ALLOWED_DATABASES": "",
            "MONITORED_PROJECT_IDS": f" {PRIMARY} ,{SECOND},",
            "DEFAULT_PROJECT_ID": "",
        },
    )
    deployment = settings.deployment()

    assert deployment.policy.allowed_databases == frozenset({"events"})
    assert deployment.policy.default_database == "events"
    assert deployment.policy.catalog == "AwsDataCatalog"
    assert deployment.targets.monitored == (PRIMARY, SECOND)
    assert deployment.targets.default_application == PRIMARY


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"MONITORED_PROJECT_IDS": ""}, "MONITORED_PROJECT_IDS"),
        ({"MONITORED_PROJECT_IDS": "not-a-project"}, "MONITORED_PROJECT_IDS"),
        ({"DEFAULT_PROJECT_ID": "f" * 32}, "DEFAULT_PROJECT_ID must be one of"),
    ],
)
def test_settings_refuse_a_broken_deployment(overrides: dict[str, str], problem: str) -> None:
    environ = {
        "POWERTOOLS_SERVICE_NAME": "query-validator",
        "EVENT_BUS_NAME": "bus",
        "MONITORED_PROJECT_IDS": PRIMARY,
        **overrides,
    }
    with pytest.raises(SettingsError, match=problem):
        load_settings(Settings, environ)


def test_the_validator_imports_without_aws_sdks() -> None:
    # The CLI's `query check` runs the validator with no AWS account and no clients.
    code = (
        "import sys; import services.query_validator.logic as logic; "
        "assert logic.validate('SELECT 1 AS Id').accepted; "
        "print(sorted(m for m in ('boto3', 'botocore', 'aws_lambda_powertools') "
        "if m in sys.modules))"
    )
    result = subprocess.run(  # noqa: S603 - the test's own interpreter and code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert result.stdout.strip() == "[]"
