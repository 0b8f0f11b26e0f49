"""Saved segments on the local cloud, black box through plain boto3: the same
`SegmentQueryRequested` with a `sync_key`, published again with fresh run ids, first imports
every row, then sends nothing (no import job) while nothing changed, then only what
changed; `mirror` clears leavers; a segment name keeps one imported segment, refreshed.
Both targets; counts in every completion and one notification per run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from contracts import SegmentQueryRequested, put_events_entry
from infra.local import LocalCloud
from tests.fixtures.lake import write_table
from tests.fixtures.notifications import notifications, sns_inbox

pytestmark = pytest.mark.system

ENDPOINTS = [f"{index:032x}" for index in range(1, 9)]
CUSTOMERS = [f"cust-{index}" for index in range(1, 6)]
PLANS = 'select endpoint_id as "Id", \'EMAIL\' as "ChannelType", email as "Address", '
PLANS += 'plan as "Attributes.Plan" from members'
GOLD = PLANS + " where plan = 'gold'"
CONNECT = 'select customer_id as "Id", plan as "Attributes.Plan" from customers'


def write_members(lake: Path, plans: dict[str, str]) -> None:
    rows = (f"{key},{plan},{key[-4:]}@example.com" for key, plan in plans.items())
    write_table(lake, "members", "endpoint_id,plan,email", rows)


def write_customers(lake: Path, plans: dict[str, str]) -> None:
    write_table(lake, "customers", "customer_id,plan", (f"{k},{p}" for k, p in plans.items()))


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("saved-segments-lake")
    (root / "members").mkdir()
    (root / "customers").mkdir()
    write_members(root, dict.fromkeys(ENDPOINTS, "gold"))
    write_customers(root, dict.fromkeys(CUSTOMERS, "gold"))
    return root


@pytest.fixture(scope="module")
def cloud(lake: Path) -> Iterator[LocalCloud]:
    with LocalCloud(data_lake=lake) as running:
        running.run_until_idle()
        yield running


def request(cloud: LocalCloud, query: str, run_id: str, **fields: Any) -> None:
    event = SegmentQueryRequested.from_user(query, run_id=run_id, **fields)
    entry = put_events_entry(event, event_bus_name=cloud.outputs["EventBusName"])
    assert boto3.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0
    cloud.run_until_idle()


def completion(watch: Any, run_id: str) -> dict[str, Any]:
    (done,) = [
        event["detail"]["data"]
        for event in watch.of_type("EndpointImportCompleted")
        if event["detail"]["data"]["run_id"] == run_id
    ]
    return dict(done)


def counts(done: dict[str, Any]) -> tuple[int, int, int, int]:
    c = done["counts"]
    return c["rows_in_result"], c["rows_sent"], c["rows_unchanged"], c["rows_cleared"]


def import_file_lines(cloud: LocalCloud, run_id: str, name: str) -> list[str]:
    body = boto3.client("s3").get_object(
        Bucket=cloud.outputs["QueryResultsBucketName"], Key=f"imports/{run_id}/{name}"
    )["Body"]
    return body.read().decode().splitlines()


def import_jobs(cloud: LocalCloud) -> list[str]:
    jobs = boto3.client("pinpoint").get_import_jobs(
        ApplicationId=cloud.outputs["PinpointProjectId"], PageSize="100"
    )
    return [job["Id"] for job in jobs["ImportJobsResponse"]["Item"]]


def endpoint(cloud: LocalCloud, endpoint_id: str) -> dict[str, Any]:
    found = boto3.client("pinpoint").get_endpoint(
        ApplicationId=cloud.outputs["PinpointProjectId"], EndpointId=endpoint_id
    )
    return dict(found["EndpointResponse"])


def test_a_mirrored_pinpoint_sync_sends_all_then_nothing_then_the_changes(
    cloud: LocalCloud, lake: Path
) -> None:
    watch = cloud.subscribe("plans-runs")
    sqs, inbox = sns_inbox(cloud, "plans-inbox")
    jobs_before = len(import_jobs(cloud))
    write_members(lake, dict.fromkeys(ENDPOINTS, "gold"))

    request(cloud, PLANS, "plans-1", sync_key="plans", mirror=True)
    first = completion(watch, "plans-1")
    assert first["outcome"] == "complete"
    assert counts(first) == (8, 8, 0, 0)
    assert len(import_file_lines(cloud, "plans-1", "endpoints.json")) == 8
    assert endpoint(cloud, ENDPOINTS[0])["Attributes"] == {"Plan": ["gold"]}

    request(cloud, PLANS, "plans-2", sync_key="plans", mirror=True)
    second = completion(watch, "plans-2")
    assert second["outcome"] == "nothing_to_import"
    assert counts(second) == (8, 0, 8, 0)
    assert second["import_job_id"] is None
    assert len(import_jobs(cloud)) == jobs_before + 1  # no job for the unchanged run

    changed = dict.fromkeys(ENDPOINTS[:-1], "gold") | {ENDPOINTS[2]: "platinum"}
    write_members(lake, changed)  # one plan changed, the last endpoint left
    request(cloud, PLANS, "plans-3", sync_key="plans", mirror=True)
    third = completion(watch, "plans-3")
    assert third["outcome"] == "complete"
    assert counts(third) == (7, 1, 6, 1)
    assert len(import_file_lines(cloud, "plans-3", "endpoints.json")) == 2
    assert endpoint(cloud, ENDPOINTS[2])["Attributes"] == {"Plan": ["platinum"]}
    leaver = endpoint(cloud, ENDPOINTS[-1])
    assert "Attributes" not in leaver  # cleared
    assert leaver["Address"] == f"{ENDPOINTS[-1][-4:]}@example.com"  # its address stays
    assert len(import_jobs(cloud)) == jobs_before + 2

    notes = notifications(sqs, inbox)
    assert sorted(note["MessageAttributes"]["run_id"]["Value"] for note in notes) == [
        "plans-1",
        "plans-2",
        "plans-3",
    ]


def test_a_saved_pinpoint_segment_is_defined_once_and_refreshed(
    cloud: LocalCloud, lake: Path
) -> None:
    watch = cloud.subscribe("gold-runs")
    plans = dict.fromkeys(ENDPOINTS, "gold") | {ENDPOINTS[0]: "silver"}
    write_members(lake, plans)
    request(cloud, GOLD, "gold-1", sync_key="gold", segment_name="Gold members")
    first = completion(watch, "gold-1")
    segment_id = first["segment_id"]
    assert segment_id
    assert counts(first) == (7, 7, 0, 0)

    write_members(lake, plans | {ENDPOINTS[1]: "silver", ENDPOINTS[0]: "gold"})
    request(cloud, GOLD, "gold-2", sync_key="gold", segment_name="Gold members")
    second = completion(watch, "gold-2")
    assert second["segment_id"] == segment_id
    assert counts(second) == (7, 1, 6, 0)  # ENDPOINTS[0] joined; ENDPOINTS[1] left

    pinpoint = boto3.client("pinpoint")
    app = cloud.outputs["PinpointProjectId"]
    segments = pinpoint.get_segments(ApplicationId=app)["SegmentsResponse"]["Item"]
    assert [s["Name"] for s in segments if s["Name"] == "Gold members"] == ["Gold members"]
    segment = pinpoint.get_segment(ApplicationId=app, SegmentId=segment_id)["SegmentResponse"]
    assert segment["Version"] == 2
    # The refreshed version is the seven gold endpoints: the leaver is not among them.
    assert segment["ImportDefinition"]["Size"] == 7


def test_a_mirrored_connect_sync_keeps_its_segment_and_clears_leavers(
    cloud: LocalCloud, lake: Path
) -> None:
    domain = cloud.outputs["CustomerProfilesDomainName"]
    profiles = boto3.client("customer-profiles")
    watch = cloud.subscribe("connect-sync-runs")
    sqs, inbox = sns_inbox(cloud, "connect-sync-inbox")
    fields: dict[str, Any] = {
        "sync_key": "vip-connect",
        "mirror": True,
        "segment_name": "VipConnect",
        "target": "connect",
    }
    write_customers(lake, dict.fromkeys(CUSTOMERS, "gold"))

    request(cloud, CONNECT, "vip-1", **fields)
    assert counts(completion(watch, "vip-1")) == (5, 5, 0, 0)
    request(cloud, CONNECT, "vip-2", **fields)
    second = completion(watch, "vip-2")
    assert second["outcome"] == "nothing_to_import"
    assert counts(second) == (5, 0, 5, 0)
    assert len(profiles.list_upload_jobs(DomainName=domain)["Items"]) == 1  # none for vip-2

    write_customers(lake, dict.fromkeys(CUSTOMERS[:-1], "gold") | {CUSTOMERS[0]: "silver"})
    request(cloud, CONNECT, "vip-3", **fields)
    third = completion(watch, "vip-3")
    assert third["outcome"] == "complete"
    assert counts(third) == (4, 1, 3, 1)
    assert third["segment_definition_name"] == "VipConnect"
    assert len(import_file_lines(cloud, "vip-3", "profiles.csv")) == 1 + 2

    def profile(account: str) -> dict[str, Any]:
        found = profiles.search_profiles(DomainName=domain, KeyName="_account", Values=[account])
        (item,) = found["Items"]
        return dict(item)

    assert profile(CUSTOMERS[0])["Attributes"]["Plan"] == "silver"
    leaver = profile(CUSTOMERS[-1])
    assert "Plan" not in leaver.get("Attributes", {})
    membership = profiles.get_segment_membership(
        DomainName=domain,
        SegmentDefinitionName="VipConnect",
        ProfileIds=[profile(customer)["ProfileId"] for customer in CUSTOMERS],
    )
    present = {m["ProfileId"]: m["QueryResult"] for m in membership["Profiles"]}
    # Unchanged members stay in the segment without being sent; the leaver is out of it.
    assert [present[profile(c)["ProfileId"]] for c in CUSTOMERS] == [
        "PRESENT",
        "PRESENT",
        "PRESENT",
        "PRESENT",
        "ABSENT",
    ]
    notes = notifications(sqs, inbox)
    assert len(notes) == 3
