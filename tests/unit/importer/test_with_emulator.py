"""The importer end to end on moto and the Pinpoint emulator.

A result file in Athena's CSV format in (moto) S3 -> checks -> import file -> a real
CreateImportJob on the emulator -> the job advances on the virtual clock -> the poller ends
the run -> the endpoints are there (GetEndpoint).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from contracts import (
    REGISTRY,
    EndpointImportCompleted,
    EndpointImportFailed,
    EndpointImportStarted,
    Event,
    ImportCounts,
    ImportOutcome,
    ScheduledEvent,
    SegmentQuerySucceeded,
)
from contracts.examples import eventbridge_event, example_event
from infra.local.athena.csv_format import csv_line
from infra.local.clock import VirtualClock
from infra.local.pinpoint import PinpointEmulator
from services.common.clients import AwsClients
from services.common.run_ledger import RunStatus
from services.importer import handler as importer_handler
from services.importer.bootstrap import bootstrap
from services.importer.logic import (
    ImportPlacement,
    Ports,
    Step,
    import_result,
    poll_imports,
)
from services.importer.settings import Settings
from tests.fixtures.lambda_events import FakeLambdaContext, sqs_batch
from tests.fixtures.tables import create_template_table

from .fakes import Published

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "pinpoint-lake-results"
TABLE = "import-runs"
BUS = "pinpoint-lake-events"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/pinpoint-import"
RESULT_KEY = "athena/runs/vip-run/q-1.csv"
HEADER = [
    "Id",
    "Address",
    "ChannelType",
    "Attributes.tier",
    "Attributes.interests",
    "Attributes.interests",
    "Metrics.score",
    "User.UserId",
]
ROWS: list[list[str | None]] = [
    ["e1", "ana@example.com", "EMAIL", "gold", "hiking", "books", "9.5", "u1"],
    ["e2", "bob,jr@example.com", "EMAIL", 'say "hi"', None, None, "1.0E2", "u2"],
    ["e3", "+351910000000", "SMS", "silver", "chess", "", None, None],
    [None, "no-id@example.com", "EMAIL", "gold", None, None, "1", None],  # rejected: no Id
    ["e5", "eve@example.com", "EMAIL", "gold", None, None, "lots", None],  # rejected: metric
    ["e6", "fay@example.com", "FAX", "gold", None, None, "2", None],  # rejected: channel
]


@dataclass
class Cloud:
    clock: VirtualClock
    emulator: PinpointEmulator
    app_id: str

    def pinpoint(self) -> Any:
        return boto3.client("pinpoint", region_name=REGION)

    def put_result(self, rows: list[list[str | None]], header: list[str] = HEADER) -> str:
        s3 = boto3.client("s3", region_name=REGION)
        body = csv_line(header) + "".join(csv_line(row) for row in rows)
        s3.put_object(Bucket=BUCKET, Key=RESULT_KEY, Body=body.encode())
        # Athena writes its metadata beside the result: it must never be imported.
        s3.put_object(Bucket=BUCKET, Key=RESULT_KEY + ".metadata", Body=b"\x00\x01binary")
        return f"s3://{BUCKET}/{RESULT_KEY}"

    def jobs(self) -> list[Any]:
        return list(self.emulator.service.projects[self.app_id].import_jobs.values())

    def tick(self, seconds: float = 5) -> None:
        self.clock.advance(seconds)
        self.emulator.tick()


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    clock = VirtualClock(datetime.now(UTC).replace(microsecond=0))
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        _create_ledger_table()
        with PinpointEmulator(clock=clock, region=REGION, account_id=ACCOUNT, seed=7) as emulator:
            app = boto3.client("pinpoint", region_name=REGION).create_app(
                CreateApplicationRequest={"Name": "marketing"}
            )
            yield Cloud(clock, emulator, app["ApplicationResponse"]["Id"])


def _create_ledger_table() -> None:
    create_template_table(boto3.client("dynamodb", region_name=REGION), "ImportRunsTable", TABLE)


def succeeded_event(cloud: Cloud, result_location: str, **request: Any) -> dict[str, Any]:
    raw = example_event(SegmentQuerySucceeded)
    data = raw["detail"]["data"]
    data |= {"run_id": "vip-run", "application_id": cloud.app_id}
    data["result_location"] = result_location
    data["request"] |= {"run_id": "vip-run", "segment_name": "VIPs"} | request
    return raw


PLACEMENT = ImportPlacement(results_bucket=BUCKET, role_arn=ROLE, timeout=timedelta(hours=1))


SETTINGS = Settings(
    service_name="importer",
    event_bus_name="pinpoint-lake",
    results_bucket=BUCKET,
    import_role_arn=ROLE,
    runs_table=TABLE,
)


def real_ports(published: Published) -> Ports:
    """The importer's own ports (its composition root), publishing to `published`."""
    return bootstrap(SETTINGS, publish=published).ports


def run_until_ended(cloud: Cloud, ports: Ports) -> dict[str, RunStatus]:
    for _ in range(20):
        cloud.tick()
        report = poll_imports(cloud.clock.now(), ports, PLACEMENT)
        if report.ended:
            return report.ended
    raise AssertionError("the import never ended")


def test_result_rows_become_endpoints_and_an_imported_segment(cloud: Cloud) -> None:
    event = REGISTRY.parse_as(
        succeeded_event(cloud, cloud.put_result(ROWS)), SegmentQuerySucceeded
    ).detail
    published = Published()
    ports = real_ports(published)

    assert import_result(event, ports, PLACEMENT, cloud.clock.now()) is Step.STARTED
    assert import_result(event, ports, PLACEMENT, cloud.clock.now()) is Step.DUPLICATE
    assert run_until_ended(cloud, ports) == {"vip-run": RunStatus.COMPLETE}

    (job,) = cloud.jobs()
    assert job.definition["S3Url"] == f"s3://{BUCKET}/imports/vip-run/endpoints.csv"
    assert job.definition["RoleArn"] == ROLE
    assert job.definition["RegisterEndpoints"] is True
    started, completed = published
    assert isinstance(started, EndpointImportStarted)
    assert isinstance(completed, EndpointImportCompleted)
    assert started.data.import_job_id == completed.data.import_job_id == job.id
    data = completed.data
    assert data.outcome is ImportOutcome.COMPLETE
    assert data.counts == ImportCounts(
        rows_read=6,
        rows_rejected=3,
        rows_to_import=3,
        rows_in_result=6,
        rows_sent=3,
        rows_unchanged=0,
        rows_cleared=0,
    )
    assert [(r.row_number, r.code) for r in data.rejection_sample] == [
        (4, "MISSING_ID"),
        (5, "NOT_A_NUMBER"),
        (6, "INVALID_CHANNEL_TYPE"),
    ]
    assert (data.endpoints_imported, data.pinpoint_failures) == (3, 0)

    pinpoint = cloud.pinpoint()
    e1 = pinpoint.get_endpoint(ApplicationId=cloud.app_id, EndpointId="e1")["EndpointResponse"]
    assert e1["Attributes"] == {"tier": ["gold"], "interests": ["hiking", "books"]}
    assert e1["Metrics"] == {"score": 9.5}
    assert e1["User"]["UserId"] == "u1"
    e2 = pinpoint.get_endpoint(ApplicationId=cloud.app_id, EndpointId="e2")["EndpointResponse"]
    assert e2["Address"] == "bob,jr@example.com"
    assert e2["Attributes"] == {"tier": ['say "hi"']}
    assert e2["Metrics"] == {"score": 100.0}
    e3 = pinpoint.get_endpoint(ApplicationId=cloud.app_id, EndpointId="e3")["EndpointResponse"]
    assert e3["ChannelType"] == "SMS"
    assert e3["Attributes"] == {"tier": ["silver"], "interests": ["chess"]}
    for rejected in ("e5", "e6"):
        with pytest.raises(pinpoint.exceptions.NotFoundException):
            pinpoint.get_endpoint(ApplicationId=cloud.app_id, EndpointId=rejected)

    segment = pinpoint.get_segment(ApplicationId=cloud.app_id, SegmentId=data.segment_id)
    assert segment["SegmentResponse"]["SegmentType"] == "IMPORT"
    assert segment["SegmentResponse"]["Name"] == "VIPs"


def test_rows_pinpoint_fails_make_the_run_partial(cloud: Cloud) -> None:
    # A new endpoint needs Address and ChannelType: only Pinpoint knows e9 is new.
    rows = [*ROWS[:2], ["e9", None, None, "gold", None, None, "1", None]]
    event = REGISTRY.parse_as(
        succeeded_event(cloud, cloud.put_result(rows)), SegmentQuerySucceeded
    ).detail
    published = Published()
    ports = real_ports(published)

    import_result(event, ports, PLACEMENT, cloud.clock.now())

    assert run_until_ended(cloud, ports) == {"vip-run": RunStatus.PARTIAL}
    completed = published[-1]
    assert isinstance(completed, EndpointImportCompleted)
    assert (completed.data.endpoints_imported, completed.data.pinpoint_failures) == (2, 1)
    assert "Address and ChannelType are required" in completed.data.pinpoint_failure_sample[0]


def test_a_job_that_fails_in_pinpoint_fails_the_run(cloud: Cloud) -> None:
    event = REGISTRY.parse_as(
        succeeded_event(cloud, cloud.put_result(ROWS)), SegmentQuerySucceeded
    ).detail
    published = Published()
    ports = real_ports(published)
    import_result(event, ports, PLACEMENT, cloud.clock.now())
    # The file disappears before Pinpoint reads it.
    boto3.client("s3", region_name=REGION).delete_object(
        Bucket=BUCKET, Key="imports/vip-run/endpoints.csv"
    )

    assert run_until_ended(cloud, ports) == {"vip-run": RunStatus.FAILED}
    failed = published[-1]
    assert isinstance(failed, EndpointImportFailed)
    assert failed.data.import_job_id == cloud.jobs()[0].id
    assert "No CSV files found" in failed.data.pinpoint_failure_sample[0]


def test_a_delivery_that_died_after_creating_the_job_is_resumed_with_that_job(
    cloud: Cloud,
) -> None:
    event = REGISTRY.parse_as(
        succeeded_event(cloud, cloud.put_result(ROWS)), SegmentQuerySucceeded
    ).detail
    published = Published()
    ports = real_ports(published)

    def dies(events: Any, *, trace_header: str | None = None) -> None:
        raise RuntimeError("the function timed out")

    with pytest.raises(RuntimeError, match="timed out"):
        import_result(event, replace(ports, publish=dies), PLACEMENT, cloud.clock.now())
    redelivered_at = cloud.clock.now() + timedelta(minutes=30)
    assert import_result(event, ports, PLACEMENT, redelivered_at) is Step.RESUMED

    (job,) = cloud.jobs()  # found again through GetImportJobs by its file, not made twice
    (started,) = published
    assert isinstance(started, EndpointImportStarted)
    assert started.data.import_job_id == job.id


def test_refreshing_a_segment_that_is_not_imported_fails_the_run(cloud: Cloud) -> None:
    dimensional = cloud.pinpoint().create_segment(
        ApplicationId=cloud.app_id,
        WriteSegmentRequest={
            "Name": "gold",
            "Dimensions": {
                "Attributes": {"tier": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}
            },
        },
    )["SegmentResponse"]["Id"]
    raw = succeeded_event(cloud, cloud.put_result(ROWS), segment_name=None, segment_id=dimensional)
    event = REGISTRY.parse_as(raw, SegmentQuerySucceeded).detail
    published = Published()

    step = import_result(event, real_ports(published), PLACEMENT, cloud.clock.now())

    assert step is Step.ENDED
    assert cloud.jobs() == []
    (failed,) = published
    assert isinstance(failed, EndpointImportFailed)
    assert "BadRequestException" in failed.data.reason
    assert "not an imported segment" in failed.data.reason


# ------------------------------------------------------------------ through the handler


@pytest.fixture
def deployed(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> str:
    """The handler's environment, and a queue that receives everything it publishes."""
    for name, value in {
        "POWERTOOLS_SERVICE_NAME": "importer",
        "EVENT_BUS_NAME": BUS,
        "RESULTS_BUCKET_NAME": BUCKET,
        "IMPORT_ROLE_ARN": ROLE,
        "IMPORT_RUNS_TABLE_NAME": TABLE,
    }.items():
        monkeypatch.setenv(name, value)
    events = boto3.client("events", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    events.create_event_bus(Name=BUS)
    queue = sqs.create_queue(QueueName="seen")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="all", EventBusName=BUS, EventPattern=json.dumps({"source": [{"prefix": ""}]})
    )
    events.put_targets(Rule="all", EventBusName=BUS, Targets=[{"Id": "seen", "Arn": arn}])
    return queue


def received(queue: str) -> list[Event]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    events = []
    for message in messages.get("Messages", []):
        detail = REGISTRY.parse(json.loads(message["Body"])).detail
        assert isinstance(detail, Event)
        events.append(detail)
    return events


def tick_event(moment: datetime) -> dict[str, Any]:
    raw = eventbridge_event(ScheduledEvent.DETAIL_TYPE, ScheduledEvent.SOURCE, {})
    raw["time"] = moment.isoformat().replace("+00:00", "Z")
    return raw


def test_the_handler_imports_once_and_the_scheduled_poll_ends_the_run(
    cloud: Cloud, deployed: str
) -> None:
    request = succeeded_event(cloud, cloud.put_result(ROWS))

    first = importer_handler.lambda_handler.fresh()(
        sqs_batch(request, request), FakeLambdaContext()
    )
    assert first == {"batchItemFailures": []}
    cloud.tick(60)
    late_tick = tick_event(cloud.clock.now())
    second = importer_handler.lambda_handler.fresh()(
        sqs_batch(late_tick, late_tick), FakeLambdaContext()
    )
    assert second == {"batchItemFailures": []}

    assert len(cloud.jobs()) == 1
    seen = received(deployed)
    assert [type(e) for e in seen] == [EndpointImportStarted, EndpointImportCompleted]
    assert len({e.event_id for e in seen}) == 2
    assert all(e.metadata.correlation_id == "vip-run" for e in seen)
    completed = seen[1]
    assert isinstance(completed, EndpointImportCompleted)
    assert completed.data.endpoints_imported == 3


def test_an_event_the_importer_does_not_take_fails_only_its_message(
    cloud: Cloud, deployed: str
) -> None:
    other = example_event(EndpointImportStarted)

    response = importer_handler.lambda_handler.fresh()(
        sqs_batch(tick_event(cloud.clock.now()), other), FakeLambdaContext()
    )

    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_pinpoint_full_of_other_import_jobs_makes_the_run_wait_until_one_ends(
    cloud: Cloud,
) -> None:
    # Ten jobs another tool started fill Pinpoint's limit; the importer's slots are free.
    s3 = boto3.client("s3", region_name=REGION)
    for n in range(10):
        s3.put_object(Bucket=BUCKET, Key=f"other/{n}.csv", Body=b"Id,ChannelType,Address\n")
        cloud.pinpoint().create_import_job(
            ApplicationId=cloud.app_id,
            ImportJobRequest={
                "Format": "CSV",
                "S3Url": f"s3://{BUCKET}/other/{n}.csv",
                "RoleArn": ROLE,
                "RegisterEndpoints": True,
            },
        )
    event = REGISTRY.parse_as(
        succeeded_event(cloud, cloud.put_result(ROWS[:1]), segment_name=None),
        SegmentQuerySucceeded,
    ).detail
    published = Published()
    no_retries = AwsClients(config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    ports = bootstrap(SETTINGS, aws=no_retries, publish=published).ports

    # 429 TooManyRequestsException: the run waits, its message is acknowledged.
    assert import_result(event, ports, PLACEMENT, cloud.clock.now()) is Step.WAITING
    assert published == []
    assert len(cloud.jobs()) == 10
    assert poll_imports(cloud.clock.now(), ports, PLACEMENT).queued == ["vip-run"]

    cloud.tick(30)  # the other jobs end
    report = poll_imports(cloud.clock.now(), ports, PLACEMENT)
    assert report.started == ["vip-run"]
    assert run_until_ended(cloud, ports) == {"vip-run": RunStatus.COMPLETE}
    assert len(cloud.jobs()) == 11
