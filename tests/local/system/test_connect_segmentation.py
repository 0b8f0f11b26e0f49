"""Segmentation on Amazon Connect, black box on the local cloud through plain boto3: a
request with `target: "connect"` becomes profile attributes (found with SearchProfiles),
reports its counts, defines the named segment and is notified once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from contracts import SegmentQueryRequested, put_events_entry
from infra.local import LocalCloud
from tests.fixtures.lake import write_table
from tests.fixtures.notifications import notifications, sns_inbox

pytestmark = pytest.mark.system

CUSTOMERS = [f"cust-{index}" for index in range(1, 7)]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    rows = []
    for index, customer in enumerate(CUSTOMERS):
        plan = "gold" if index % 2 == 0 else "silver"
        email = "not an email" if index == 4 else f"user{index}@example.com"
        rows.append(f"{customer},{plan},{100 + index * 10},{email}")
    write_table(root, "crm_customers", "customer_id,plan,lifetime_value,email", rows)
    return root


@pytest.fixture(scope="module")
def cloud(lake: Path) -> Iterator[LocalCloud]:
    with LocalCloud(data_lake=lake) as running:
        running.run_until_idle()
        yield running


def test_a_connect_request_updates_profiles_and_defines_its_segment(cloud: LocalCloud) -> None:
    domain = cloud.outputs["CustomerProfilesDomainName"]
    assert domain
    profiles = boto3.client("customer-profiles")
    # A customer Connect already knows: the upload updates it rather than making another.
    profiles.create_profile(DomainName=domain, AccountNumber=CUSTOMERS[0], FirstName="Ana")
    watch = cloud.subscribe("connect-runs")
    sqs, inbox = sns_inbox(cloud, "connect-notifications")
    request = SegmentQueryRequested.from_user(
        """
        select customer_id as "Id", email as "Address", plan as "User.UserAttributes.Plan",
               lifetime_value as "Metrics.LifetimeValue"
        from crm_customers where plan = 'gold'
        """,
        run_id="gold-connect",
        segment_name="GoldCustomers",
        target="connect",
    )
    entry = put_events_entry(request, event_bus_name=cloud.outputs["EventBusName"])
    assert boto3.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0
    cloud.run_until_idle()

    (completed,) = watch.of_type("EndpointImportCompleted")
    data = completed["detail"]["data"]
    assert (data["target"], data["domain_name"], data["application_id"]) == (
        "connect",
        domain,
        None,
    )
    assert data["outcome"] == "complete"
    # Three gold rows; the one with a malformed email is refused before the upload.
    assert data["counts"] == {
        "rows_read": 3,
        "rows_rejected": 1,
        "rows_to_import": 2,
        "rows_in_result": 3,
        "rows_sent": 2,
        "rows_unchanged": 0,
        "rows_cleared": 0,
    }
    assert [r["code"] for r in data["rejection_sample"]] == ["INVALID_EMAIL"]
    assert (data["profiles_created"], data["profiles_updated"], data["profiles_failed"]) == (
        1,
        1,
        0,
    )
    assert data["segment_definition_name"] == "GoldCustomers"

    found = profiles.search_profiles(DomainName=domain, KeyName="_account", Values=[CUSTOMERS[0]])
    (ana,) = found["Items"]
    assert ana["FirstName"] == "Ana"
    assert ana["EmailAddress"] == "user0@example.com"
    assert ana["Attributes"]["Plan"] == "gold"
    assert ana["Attributes"]["LifetimeValue"] == "100"
    (other,) = profiles.search_profiles(
        DomainName=domain, KeyName="_account", Values=[CUSTOMERS[2]]
    )["Items"]
    assert other["Attributes"]["Plan"] == "gold"
    silver = profiles.search_profiles(DomainName=domain, KeyName="_account", Values=[CUSTOMERS[1]])
    assert silver["Items"] == []

    definition = profiles.get_segment_definition(
        DomainName=domain, SegmentDefinitionName="GoldCustomers"
    )
    assert definition["SegmentType"] == "CLASSIC"
    membership = profiles.get_segment_membership(
        DomainName=domain,
        SegmentDefinitionName="GoldCustomers",
        ProfileIds=[ana["ProfileId"], other["ProfileId"]],
    )
    assert {m["QueryResult"] for m in membership["Profiles"]} == {"PRESENT"}

    jobs = profiles.list_upload_jobs(DomainName=domain)["Items"]
    assert [job["DisplayName"] for job in jobs] == ["pinpoint-lake gold-connect"]

    notes = notifications(sqs, inbox)
    assert len(notes) == 1
    assert "gold-connect" in notes[0]["Message"]


def test_a_column_connect_cannot_take_is_rejected_naming_connect(cloud: LocalCloud) -> None:
    watch = cloud.subscribe("connect-rejections", {"detail-type": ["SegmentQueryRejected"]})
    request = SegmentQueryRequested.from_user(
        """select customer_id as "Id", 'EMAIL' as "ChannelType" from crm_customers""",
        run_id="channel-connect",
        target="connect",
    )
    entry = put_events_entry(request, event_bus_name=cloud.outputs["EventBusName"])
    boto3.client("events").put_events(Entries=[entry])
    cloud.run_until_idle()

    (rejected,) = watch.of_type("SegmentQueryRejected")
    (reason,) = rejected["detail"]["data"]["reasons"]
    assert reason["code"] == "UNKNOWN_COLUMN"
    assert "cannot be imported into Connect" in reason["message"]


def test_a_duplicate_connect_request_makes_one_upload_job(cloud: LocalCloud) -> None:
    domain = cloud.outputs["CustomerProfilesDomainName"]
    watch = cloud.subscribe("connect-dupes", {"detail-type": ["EndpointImportStarted"]})
    request = SegmentQueryRequested.from_user(
        'select customer_id as "Id", plan as "Attributes.Plan" from crm_customers',
        run_id="twice-connect",
        target="connect",
    )
    entry = put_events_entry(request, event_bus_name=cloud.outputs["EventBusName"])
    boto3.client("events").put_events(Entries=[entry])
    boto3.client("events").put_events(Entries=[entry])
    cloud.run_until_idle()

    started = watch.of_type("EndpointImportStarted")
    assert len({e["detail"]["data"]["import_job_id"] for e in started}) == 1
    jobs = boto3.client("customer-profiles").list_upload_jobs(DomainName=domain)["Items"]
    assert [job["DisplayName"] for job in jobs].count("pinpoint-lake twice-connect") == 1
