"""The importer's Connect target end to end on moto S3 and the Customer Profiles emulator.

A result file in Athena's CSV format -> checks against Connect's column mapping ->
`imports/<run>/profiles.csv` -> CreateUploadJob, GetUploadJobPath, the SSE-C PUT (a real
HTTP PUT to the emulator's upload URL), StartUploadJob -> the job runs on the virtual clock
-> the poller ends the run with created/updated/failed counts and defines the segment.
"""

from __future__ import annotations

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
    ImportCounts,
    ImportOutcome,
    SegmentQuerySucceeded,
)
from contracts.examples import example_event
from infra.local.athena.csv_format import csv_line
from infra.local.clock import VirtualClock
from infra.local.customer_profiles import CustomerProfilesEmulator
from services.common.clients import AwsClients
from services.common.run_ledger import RunStatus
from services.importer.bootstrap import bootstrap
from services.importer.logic import (
    ImportInProgressError,
    ImportPlacement,
    Ports,
    Step,
    import_result,
    poll_imports,
)
from services.importer.settings import Settings
from tests.fixtures.tables import create_template_table

from .fakes import CrashError, Published

# The upload is a real HTTP PUT to the emulator's URL on 127.0.0.1.
pytestmark = pytest.mark.loopback

REGION = "us-east-1"
BUCKET = "pinpoint-lake-results"
TABLE = "import-runs"
DOMAIN = "pinpoint-lake-profiles"
ROLE = "arn:aws:iam::123456789012:role/pinpoint-import"
RESULT_KEY = "athena/runs/vip-run/q-1.csv"
HEADER = ["Id", "Address", "User.UserAttributes.Tier", "Metrics.Score", "Location.City"]
ROWS: list[list[str | None]] = [
    ["e1", "ana@example.com", "gold", "9.5", "Lisbon"],
    ["e2", None, "silver", None, None],
    ["e3", "not-an-email", "gold", None, None],  # rejected before upload: INVALID_EMAIL
    ["e4", "eve@example.com", "x" * 256, None, None],  # rejected: VALUE_TOO_LONG
]
SETTINGS = Settings(
    service_name="importer",
    event_bus_name="pinpoint-lake",
    results_bucket=BUCKET,
    import_role_arn=ROLE,
    runs_table=TABLE,
    connect_domain=DOMAIN,
)
PLACEMENT = ImportPlacement(
    results_bucket=BUCKET, role_arn=ROLE, timeout=timedelta(hours=1), connect_domain=DOMAIN
)


@dataclass
class Cloud:
    clock: VirtualClock
    emulator: CustomerProfilesEmulator

    def profiles(self) -> Any:
        return boto3.client("customer-profiles", region_name=REGION)

    def put_result(self, rows: list[list[str | None]], header: list[str] = HEADER) -> str:
        body = csv_line(header) + "".join(csv_line(row) for row in rows)
        boto3.client("s3", region_name=REGION).put_object(
            Bucket=BUCKET, Key=RESULT_KEY, Body=body.encode()
        )
        return f"s3://{BUCKET}/{RESULT_KEY}"

    def jobs(self) -> list[Any]:
        return list(self.emulator.service.domains[DOMAIN].upload_jobs.values())

    def tick(self, seconds: float = 5) -> None:
        self.clock.advance(seconds)
        self.emulator.tick()


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    clock = VirtualClock(datetime.now(UTC).replace(microsecond=0))
    with mock_aws():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
        create_template_table(
            boto3.client("dynamodb", region_name=REGION), "ImportRunsTable", TABLE
        )
        with CustomerProfilesEmulator(clock=clock, region=REGION, seed=5) as emulator:
            boto3.client("customer-profiles", region_name=REGION).create_domain(
                DomainName=DOMAIN, DefaultExpirationDays=366
            )
            yield Cloud(clock, emulator)


def succeeded(cloud: Cloud, result_location: str, **request: Any) -> SegmentQuerySucceeded:
    raw = example_event(SegmentQuerySucceeded)
    data = raw["detail"]["data"]
    data |= {"run_id": "vip-run", "target": "connect", "domain_name": DOMAIN}
    data.pop("application_id")
    data["result_location"] = result_location
    data["request"] |= {"run_id": "vip-run", "target": "connect", "segment_name": "VIPs"}
    data["request"] |= request
    return REGISTRY.parse_as(raw, SegmentQuerySucceeded).detail


def real_ports(published: Published) -> Ports:
    return bootstrap(SETTINGS, publish=published).ports


def run_until_ended(cloud: Cloud, ports: Ports) -> dict[str, RunStatus]:
    for _ in range(20):
        cloud.tick()
        report = poll_imports(cloud.clock.now(), ports, PLACEMENT)
        if report.ended:
            return report.ended
    raise AssertionError("the upload never ended")


def test_rows_become_profile_attributes_and_a_segment_definition(cloud: Cloud) -> None:
    event = succeeded(cloud, cloud.put_result(ROWS))
    profiles = cloud.profiles()
    profiles.create_profile(DomainName=DOMAIN, AccountNumber="e2", FirstName="Bob")
    published = Published()
    ports = real_ports(published)

    assert import_result(event, ports, PLACEMENT, cloud.clock.now()) is Step.STARTED
    assert import_result(event, ports, PLACEMENT, cloud.clock.now()) is Step.DUPLICATE
    assert run_until_ended(cloud, ports) == {"vip-run": RunStatus.COMPLETE}

    (job,) = cloud.jobs()
    assert job.display_name == "pinpoint-lake vip-run"
    assert job.unique_key == "AccountNumber"
    assert job.fields["EmailAddress"]["ContentType"] == "EMAIL_ADDRESS"
    assert job.fields["Attributes.Score"]["ContentType"] == "NUMBER"
    started, completed = published
    assert isinstance(started, EndpointImportStarted)
    assert started.data.import_file == f"s3://{BUCKET}/imports/vip-run/profiles.csv"
    assert isinstance(completed, EndpointImportCompleted)
    data = completed.data
    assert (data.target, data.domain_name, data.application_id) == ("connect", DOMAIN, None)
    assert data.import_job_id == job.id
    assert data.outcome is ImportOutcome.COMPLETE
    assert data.counts == ImportCounts(
        rows_read=4,
        rows_rejected=2,
        rows_to_import=2,
        rows_in_result=4,
        rows_sent=2,
        rows_unchanged=0,
        rows_cleared=0,
    )
    assert [(r.row_number, r.code) for r in data.rejection_sample] == [
        (3, "INVALID_EMAIL"),
        (4, "VALUE_TOO_LONG"),
    ]
    assert (data.profiles_created, data.profiles_updated, data.profiles_failed) == (1, 1, 0)
    assert data.endpoints_imported == 2
    assert data.segment_definition_name == "VIPs"

    (e1,) = profiles.search_profiles(DomainName=DOMAIN, KeyName="_account", Values=["e1"])["Items"]
    assert e1["EmailAddress"] == "ana@example.com"
    assert e1["Address"] == {"City": "Lisbon"}
    assert e1["Attributes"] == {
        "Tier": "gold",
        "Score": "9.5",
        "pinpoint_lake.segment.VIPs": "vip-run",
    }
    (e2,) = profiles.search_profiles(DomainName=DOMAIN, KeyName="_account", Values=["e2"])["Items"]
    assert e2["FirstName"] == "Bob"  # updated, not replaced
    assert e2["Attributes"]["Tier"] == "silver"
    members = cloud.emulator.service.members(DOMAIN, "VIPs")
    assert members == {e1["ProfileId"], e2["ProfileId"]}


def test_a_redelivery_after_a_crash_finishes_the_one_upload_job(
    cloud: Cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = succeeded(cloud, cloud.put_result(ROWS), segment_name=None)
    published = Published()
    ports = real_ports(published)
    connect = ports.connect
    assert connect is not None
    real_create = connect.create

    def create_then_die(*args: Any) -> str:
        real_create(*args)
        raise CrashError("after CreateUploadJob")

    monkeypatch.setattr(connect, "create", create_then_die)
    with pytest.raises(CrashError):
        import_result(event, ports, PLACEMENT, cloud.clock.now())
    monkeypatch.setattr(connect, "create", real_create)
    with pytest.raises(ImportInProgressError):  # the claim is young: another delivery's
        import_result(event, ports, PLACEMENT, cloud.clock.now())

    cloud.clock.advance(timedelta(minutes=16).total_seconds())
    assert import_result(event, ports, PLACEMENT, cloud.clock.now()) is Step.RESUMED
    assert run_until_ended(cloud, ports) == {"vip-run": RunStatus.COMPLETE}
    (job,) = cloud.jobs()  # one job: the one the crashed delivery created
    assert job.status == "SUCCEEDED"
    assert [type(e) for e in published] == [EndpointImportStarted, EndpointImportCompleted]


def test_rows_the_upload_job_fails_make_a_partial_run(cloud: Cloud) -> None:
    # An Id past what the row checks see: Customer Profiles fails it (e.g. a name rule).
    event = succeeded(cloud, cloud.put_result(ROWS[:2]), segment_name=None)
    published = Published()
    ports = real_ports(published)
    assert import_result(event, ports, PLACEMENT, cloud.clock.now()) is Step.STARTED
    (job,) = cloud.jobs()
    job.rules["EmailAddress"] = replace(job.rules["EmailAddress"], content_type="PHONE_NUMBER")

    assert run_until_ended(cloud, ports) == {"vip-run": RunStatus.PARTIAL}
    completed = published[-1]
    assert isinstance(completed, EndpointImportCompleted)
    assert completed.data.outcome is ImportOutcome.PARTIAL
    assert (completed.data.profiles_created, completed.data.profiles_failed) == (1, 1)


def test_a_failed_upload_job_ends_the_run_failed_with_its_reason(cloud: Cloud) -> None:
    event = succeeded(cloud, cloud.put_result(ROWS[:1]), segment_name=None)
    published = Published()
    ports = real_ports(published)
    assert import_result(event, ports, PLACEMENT, cloud.clock.now()) is Step.STARTED
    (job,) = cloud.jobs()
    job.rules["EmailAddress"] = replace(job.rules["EmailAddress"], content_type="PHONE_NUMBER")

    assert run_until_ended(cloud, ports) == {"vip-run": RunStatus.FAILED}
    failed = published[-1]
    assert isinstance(failed, EndpointImportFailed)
    assert "Connect upload job" in failed.data.reason
    assert "VALIDATION_FAILURE" in failed.data.reason
    assert failed.data.profiles_failed == 1


def test_a_throttled_upload_waits_for_the_tick_and_a_throttled_segment_is_asked_again(
    cloud: Cloud,
) -> None:
    event = succeeded(cloud, cloud.put_result(ROWS[:1]))
    published = Published()
    no_retries = AwsClients(config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    ports = bootstrap(SETTINGS, aws=no_retries, publish=published).ports
    cloud.emulator.faults.throttle("CreateUploadJob", times=1)  # the client does not retry

    # Throttled for capacity: the run waits (its message is acknowledged), no job yet.
    assert import_result(event, ports, PLACEMENT, cloud.clock.now()) is Step.WAITING
    assert cloud.jobs() == []
    assert published == []
    cloud.emulator.faults.clear()
    report = poll_imports(cloud.clock.now(), ports, PLACEMENT)
    assert report.started == ["vip-run"]
    assert import_result(event, ports, PLACEMENT, cloud.clock.now()) is Step.DUPLICATE

    cloud.emulator.faults.throttle("CreateSegmentDefinition", times=1)
    cloud.tick()
    report = poll_imports(cloud.clock.now(), ports, PLACEMENT)
    assert report.unreadable == ["vip-run"]
    assert not report.ended
    cloud.emulator.faults.clear()
    assert run_until_ended(cloud, ports) == {"vip-run": RunStatus.COMPLETE}
    assert len(cloud.jobs()) == 1


def test_a_connect_run_is_not_imported_where_connect_is_off(cloud: Cloud) -> None:
    event = succeeded(cloud, cloud.put_result(ROWS[:1]))
    published = Published()
    off = SETTINGS.model_copy(update={"connect_domain": None})
    ports = bootstrap(off, publish=published).ports

    assert import_result(event, ports, PLACEMENT, cloud.clock.now()) is Step.ENDED
    (failed,) = published
    assert isinstance(failed, EndpointImportFailed)
    assert "connect target is off" in failed.data.reason
    assert cloud.jobs() == []
