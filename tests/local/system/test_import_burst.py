"""A burst of runs waits for import slots: 25 requests at once on the local cloud, on each
target, all complete with at most 10 import jobs running at any moment (read from the
emulator's own job records), nothing dead-lettered and one notification per run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from contracts import SegmentQueryRequested, put_events_entry
from infra.local import LocalCloud
from tests.fixtures.lake import write_table

pytestmark = [pytest.mark.system, pytest.mark.slow]

RUNS = 25
MOST_JOBS = 10  # Pinpoint's limit of concurrent import jobs; the importer's per domain
QUERIES = {
    "pinpoint": """
        select customer_id as "Id", 'EMAIL' as "ChannelType", email as "Address",
               plan as "Attributes.Plan" from crm_customers where plan = '{plan}'
    """,
    "connect": """
        select customer_id as "Id", email as "Address", plan as "User.UserAttributes.Plan"
        from crm_customers where plan = '{plan}'
    """,
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    rows = (f"{index:032x},plan{index % 5},user{index}@example.com" for index in range(1, 11))
    write_table(root, "crm_customers", "customer_id,plan,email", rows)
    return root


@pytest.fixture
def cloud(lake: Path) -> Iterator[LocalCloud]:
    with LocalCloud(data_lake=lake) as running:
        running.run_until_idle()
        yield running


def most_at_once(intervals: list[tuple[datetime, datetime]]) -> int:
    """The most intervals open at one moment (an interval ends before one starting then)."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def job_intervals(cloud: LocalCloud, target: str) -> list[tuple[datetime, datetime]]:
    """When each import job of the target existed unfinished, as its emulator records it."""
    if target == "pinpoint":
        jobs = boto3.client("pinpoint").get_import_jobs(
            ApplicationId=cloud.outputs["PinpointProjectId"], PageSize="100"
        )["ImportJobsResponse"]["Item"]
        return [
            (
                datetime.fromisoformat(job["CreationDate"]),
                datetime.fromisoformat(job["CompletionDate"]),
            )
            for job in jobs
        ]
    uploads = boto3.client("customer-profiles").list_upload_jobs(
        DomainName=cloud.outputs["CustomerProfilesDomainName"], MaxResults=100
    )["Items"]
    return [(job["CreatedAt"], job["CompletedAt"]) for job in uploads]


def read_inbox(cloud: LocalCloud) -> Any:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="burst-notifications")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns").subscribe(
        TopicArn=cloud.outputs["NotificationTopicArn"], Protocol="sqs", Endpoint=arn
    )

    def read() -> list[str]:
        messages: list[str] = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            messages += [json.loads(message["Body"])["Message"] for message in batch]
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)
                ],
            )
        return messages

    return read


@pytest.mark.parametrize("target", ["pinpoint", "connect"])
def test_a_burst_of_runs_waits_for_import_slots_and_every_run_completes(
    cloud: LocalCloud, target: str
) -> None:
    watch = cloud.subscribe(f"burst-{target}")
    inbox = read_inbox(cloud)
    run_ids = [f"burst-{target}-{n:02}" for n in range(RUNS)]
    entries = [
        put_events_entry(
            SegmentQueryRequested.from_user(
                QUERIES[target].format(plan=f"plan{n % 5}"), run_id=run_id, target=target
            ),
            event_bus_name=cloud.outputs["EventBusName"],
        )
        for n, run_id in enumerate(run_ids)
    ]
    events = boto3.client("events")
    for start in range(0, RUNS, 10):
        assert events.put_events(Entries=entries[start : start + 10])["FailedEntryCount"] == 0

    cloud.run_until_idle(max_rounds=400)

    completed = watch.of_type("EndpointImportCompleted")
    assert sorted(event["detail"]["data"]["run_id"] for event in completed) == run_ids
    assert {event["detail"]["data"]["outcome"] for event in completed} == {"complete"}
    assert watch.of_type("EndpointImportFailed") == []

    intervals = job_intervals(cloud, target)
    assert len(intervals) == RUNS  # one job per run: none started twice
    assert most_at_once(intervals) == MOST_JOBS  # the burst filled the slots, never more

    assert all(not messages for messages in cloud.dead_letters().values())
    notes = inbox()
    assert len(notes) == RUNS
    assert all(sum(run_id in note for note in notes) == 1 for run_id in run_ids)
