"""The segmentation pipeline on the local cloud: a query in, endpoint attributes out."""

from __future__ import annotations

import json
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

ENDPOINTS = [f"{index:032x}" for index in range(1, 7)]


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    rows = (
        f"{endpoint_id},{'gold' if index % 2 == 0 else 'silver'},{100 + index * 10},"
        f"user{index}@example.com"
        for index, endpoint_id in enumerate(ENDPOINTS)
    )
    write_table(root, "crm_customers", "endpoint_id,plan,lifetime_value,email", rows)
    return root


@pytest.fixture(scope="module")
def cloud(lake: Path) -> Iterator[LocalCloud]:
    with LocalCloud(data_lake=lake) as running:
        running.run_until_idle()
        yield running


def _request(cloud: LocalCloud, query: str, **fields: Any) -> None:
    event = SegmentQueryRequested.from_user(query, **fields)
    response = boto3.client("events").put_events(
        Entries=[put_events_entry(event, event_bus_name=cloud.outputs["EventBusName"])]
    )
    assert response["FailedEntryCount"] == 0


def test_a_query_becomes_endpoint_attributes(cloud: LocalCloud) -> None:
    watch = cloud.subscribe("runs")
    sqs, inbox = sns_inbox(cloud)
    _request(
        cloud,
        """
        select endpoint_id as "Id", 'EMAIL' as "ChannelType", email as "Address",
               plan as "Attributes.Plan", lifetime_value as "Metrics.LifetimeValue"
        from crm_customers where plan = 'gold'
        """,
        run_id="gold-run",
        segment_name="Gold customers",
    )
    cloud.run_until_idle()

    types = [event["detail-type"] for event in watch.received()]
    for expected in (
        "SegmentQueryValidated",
        "SegmentQueryStarted",
        "SegmentQuerySucceeded",
        "EndpointImportStarted",
        "EndpointImportCompleted",
    ):
        assert expected in types, types
    completed = watch.of_type("EndpointImportCompleted")[0]["detail"]["data"]
    assert completed["outcome"] == "complete"
    assert completed["counts"]["rows_read"] == 3
    assert completed["segment_id"]

    pinpoint = boto3.client("pinpoint")
    endpoint = pinpoint.get_endpoint(
        ApplicationId=cloud.outputs["PinpointProjectId"], EndpointId=ENDPOINTS[0]
    )["EndpointResponse"]
    assert endpoint["Attributes"]["Plan"] == ["gold"]
    assert endpoint["Metrics"]["LifetimeValue"] == 100.0

    notes = notifications(sqs, inbox)
    assert len(notes) == 1
    assert "gold-run" in notes[0]["Message"]

    # One run is one trace across the services.
    traced = [doc for doc in cloud.xray.documents if doc.get("origin") == "AWS::Lambda::Function"]
    by_trace: dict[str, set[str]] = {}
    for doc in traced:
        by_trace.setdefault(doc["trace_id"], set()).add(doc["name"])
    assert any(len(names) >= 4 for names in by_trace.values()), by_trace


def test_a_rejected_query_is_announced_and_notified(cloud: LocalCloud) -> None:
    watch = cloud.subscribe("rejections", {"detail-type": ["SegmentQueryRejected"]})
    _request(cloud, "insert into crm_customers select * from crm_customers", run_id="bad-run")
    cloud.run_until_idle()
    rejected = watch.of_type("SegmentQueryRejected")
    assert len(rejected) == 1
    assert rejected[0]["detail"]["data"]["reasons"]


def test_a_query_failing_in_athena_ends_the_run(cloud: LocalCloud) -> None:
    watch = cloud.subscribe("failures", {"detail-type": ["SegmentQueryFailed"]})
    _request(
        cloud,
        'select endpoint_id as "Id" from no_such_table',
        run_id="athena-fails",
    )
    cloud.run_until_idle()
    failed = watch.of_type("SegmentQueryFailed")
    assert len(failed) == 1
    assert failed[0]["detail"]["data"]["state"] == "FAILED"


def test_a_query_failing_on_a_value_in_the_lake_never_repeats_the_value(cloud: LocalCloud) -> None:
    # Athena (and the local Athena) quote the value a cast failed on; it is a row of the lake.
    watch = cloud.subscribe("data-errors", {"detail-type": ["SegmentQueryFailed"]})
    sqs, inbox = sns_inbox(cloud)
    _request(
        cloud,
        'select endpoint_id as "Id", cast(email as integer) as "Metrics.Score" from crm_customers',
        run_id="bad-cast",
    )
    cloud.run_until_idle()
    failed = watch.of_type("SegmentQueryFailed")
    assert len(failed) == 1
    reason = failed[0]["detail"]["data"]["reason"]
    assert reason.startswith("INVALID_CAST_ARGUMENT: a value in the data lake does not fit")
    notes = [note for note in notifications(sqs, inbox) if "bad-cast" in note["Message"]]
    assert len(notes) == 1
    for text in (json.dumps(failed[0]), notes[0]["Message"]):
        assert "@example.com" not in text


def test_a_duplicate_request_imports_once(cloud: LocalCloud) -> None:
    watch = cloud.subscribe("dupes", {"detail-type": ["EndpointImportStarted"]})
    event = SegmentQueryRequested.from_user(
        'select endpoint_id as "Id", plan as "Attributes.Plan" from crm_customers',
        run_id="twice",
    )
    entry = put_events_entry(event, event_bus_name=cloud.outputs["EventBusName"])
    boto3.client("events").put_events(Entries=[entry])
    boto3.client("events").put_events(Entries=[entry])
    cloud.run_until_idle()
    started = watch.of_type("EndpointImportStarted")
    assert len({e["detail"]["data"]["import_job_id"] for e in started}) == 1
