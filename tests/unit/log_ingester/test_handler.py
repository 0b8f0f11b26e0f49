"""The log-ingester handler end to end on moto: S3 file, API-call event and backfill in, events
out on the bus; corrupt files acknowledged, transient failures retried."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts import (
    BackfillPage,
    BackfillRequest,
    CatalogBackfillRequested,
    ResourceType,
    put_events_entry,
)
from services.common.settings import SettingsError, load_settings
from services.log_ingester import handler
from services.log_ingester.settings import Settings
from tests.fixtures.cloudtrail import (
    APP_ID,
    CAMPAIGN_ID,
    SEGMENT_ID,
    TRAIL_BUCKET,
    api_call_event,
    at,
    campaign_resource,
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
from tests.unit.log_ingester.fakes import FakeLister, FakeLogFiles

BUS = "pinpoint-lake-events"
SECOND_APP = pinpoint_id("second-app")


@pytest.fixture
def bus(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto S3 and EventBridge; the queue a catch-all rule on the bus sends to."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "log-ingester",
        "POWERTOOLS_METRICS_NAMESPACE": "pinpoint-lake-tests",
        "EVENT_BUS_NAME": BUS,
        "MONITORED_PROJECT_IDS": f"{APP_ID}, {SECOND_APP}",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=TRAIL_BUCKET)
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        events.create_event_bus(Name=BUS)
        queue = sqs.create_queue(QueueName="published")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="everything",
            EventBusName=BUS,
            EventPattern=json.dumps({"source": [{"prefix": "pinpoint-lake."}]}),
        )
        events.put_targets(
            Rule="everything", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}]
        )
        yield queue


def published(queue: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    bodies: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def s3_object_created(key: str) -> dict[str, Any]:
    return object_created_event(TRAIL_BUCKET, key)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every log record with its extra fields, as text."""
    return "\n".join(str(vars(record)) for record in caplog.records)


def test_a_log_file_and_the_api_call_of_its_latest_record_publish_one_event_id(
    bus: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    key = log_file_key(at(9, 5), prefix="trail logs")  # a space: URL-encoded in the event
    first = pinpoint_record("CreateCampaign", APP_ID, CAMPAIGN_ID, at(9, 1))
    latest = pinpoint_record("UpdateCampaign", APP_ID, CAMPAIGN_ID, at(9, 2), version=2)
    bad = pinpoint_record("UpdateSegment", APP_ID, SEGMENT_ID)
    bad["requestParameters"]["Dimensions"] = {"Attributes": {"email": {"Values": ["SECRET"]}}}
    bad["requestParameters"]["segment-id"] = "SECRET-SEGMENT"
    body = log_file([latest, noise_record(), bad, first])
    boto3.client("s3", region_name="us-east-1").put_object(Bucket=TRAIL_BUCKET, Key=key, Body=body)

    answer = handler.lambda_handler.fresh()(
        sqs_batch(s3_object_created(key), api_call_event(latest)), FakeLambdaContext()
    )

    assert answer == {"batchItemFailures": []}
    events = published(bus)
    assert [e["detail-type"] for e in events] == ["PinpointResourceChanged"] * 2
    ids = {e["detail"]["metadata"]["event_id"] for e in events}
    assert len(ids) == 1  # the file's change and the live one: consumers keep one
    origins = sorted(e["detail"]["data"]["origin"] for e in events)
    assert origins == ["cloudtrail_event", "cloudtrail_file"]
    metrics, logs = capsys.readouterr().out, logged(caplog)
    assert "SECRET" not in metrics + logs
    assert "invalid_resource_id" in logs  # the rejection is logged...
    assert '"reason":"invalid_resource_id"' in metrics  # ...and counted by reason
    assert '"RecordsRejected"' in metrics


def test_a_corrupt_file_is_acknowledged_and_reported(
    bus: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    key = log_file_key(at(9, 10))
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=TRAIL_BUCKET, Key=key, Body=b"this is not gzip"
    )
    answer = handler.lambda_handler.fresh()(sqs_batch(s3_object_created(key)), FakeLambdaContext())
    assert answer == {"batchItemFailures": []}
    assert published(bus) == []
    assert "CorruptLogFiles" in capsys.readouterr().out
    [error] = [record for record in caplog.records if record.levelname == "ERROR"]
    assert "not valid gzip" in str(vars(error))


def test_digests_and_vanished_files_are_acknowledged(bus: str) -> None:
    digest = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/22/digest.json.gz"
    vanished = log_file_key(at(9, 15))
    answer = handler.lambda_handler.fresh()(
        sqs_batch(s3_object_created(digest), s3_object_created(vanished)), FakeLambdaContext()
    )
    assert answer == {"batchItemFailures": []}
    assert published(bus) == []


def test_a_transient_read_failure_fails_the_message_for_a_retry(
    bus: str,
) -> None:
    files = FakeLogFiles()
    files.error = ConnectionResetError("connection reset by peer")
    digest = "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/22/digest.json.gz"
    answer = service_function(handler, log_files=files)(
        sqs_batch(s3_object_created(log_file_key()), s3_object_created(digest)), FakeLambdaContext()
    )
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}]}


def backfill_event(data: BackfillRequest) -> dict[str, Any]:
    request = CatalogBackfillRequested.new(data, correlation_id="backfill-1", event_id="b-1")
    entry = put_events_entry(request, event_bus_name=BUS)
    return eventbridge_event(entry["Source"], entry["DetailType"], json.loads(entry["Detail"]))


def test_a_backfill_page_publishes_its_resources_and_the_next_page(
    bus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKFILL_PAGE_SIZE", "2")
    items = [campaign_resource(APP_ID, pinpoint_id(f"c{n}")) for n in range(3)]
    lister = FakeLister({(ResourceType.CAMPAIGN, APP_ID): items})
    page = BackfillPage(application_id=APP_ID, resource_type=ResourceType.CAMPAIGN)

    answer = service_function(handler, lister=lister)(
        sqs_batch(backfill_event(BackfillRequest(page=page))), FakeLambdaContext()
    )

    assert answer == {"batchItemFailures": []}
    assert lister.calls == [(ResourceType.CAMPAIGN, APP_ID, None, 2)]
    kinds = sorted(e["detail-type"] for e in published(bus))
    assert kinds == [
        "CatalogBackfillRequested",
        "PinpointResourceChanged",
        "PinpointResourceChanged",
    ]


def test_a_backfill_request_fans_out_over_the_monitored_projects(bus: str) -> None:
    answer = handler.lambda_handler.fresh()(
        sqs_batch(backfill_event(BackfillRequest())), FakeLambdaContext()
    )
    assert answer == {"batchItemFailures": []}
    pages = [e["detail"]["data"]["page"] for e in published(bus)]
    assert sorted((p["application_id"], p["resource_type"]) for p in pages) == sorted(
        (app, kind.value) for app in (APP_ID, SECOND_APP) for kind in ResourceType
    )


def test_a_backfill_request_with_data_only_is_answered_the_same_on_redelivery(bus: str) -> None:
    # Like SegmentQueryRequested, a requester may leave out `metadata`.
    event = eventbridge_event(
        "my-team.tools", "CatalogBackfillRequested", {"data": {"requested_by": "ops"}}
    )
    function = handler.lambda_handler.fresh()
    first = function(sqs_batch(event), FakeLambdaContext())
    pages = published(bus)
    again = function(sqs_batch(event), FakeLambdaContext())
    repeated = published(bus)

    assert first == again == {"batchItemFailures": []}
    assert len(pages) == 2 * len(ResourceType)
    assert {e["detail"]["metadata"]["producer"] for e in pages} == {"log-ingester"}
    assert sorted(e["detail"]["metadata"]["event_id"] for e in repeated) == sorted(
        e["detail"]["metadata"]["event_id"] for e in pages
    )


def environment(**variables: str) -> dict[str, str]:
    return {"POWERTOOLS_SERVICE_NAME": "log-ingester", "EVENT_BUS_NAME": BUS, **variables}


def test_settings_read_the_monitored_projects() -> None:
    settings = load_settings(
        Settings, environment(MONITORED_PROJECT_IDS=f" {SECOND_APP},{APP_ID},,{SECOND_APP} ")
    )
    assert settings.monitored_project_ids == (SECOND_APP, APP_ID)
    assert settings.default_project_id == SECOND_APP
    assert settings.backfill_page_size == 100


@pytest.mark.parametrize("value", ["", " , ", "not-an-id", f"{APP_ID},{APP_ID.upper()}"])
def test_bad_monitored_projects_are_named_in_the_error(value: str) -> None:
    with pytest.raises(SettingsError, match="MONITORED_PROJECT_IDS"):
        load_settings(Settings, environment(MONITORED_PROJECT_IDS=value))
