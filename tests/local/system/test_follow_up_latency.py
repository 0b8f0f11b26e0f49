"""A small run's import is followed within seconds of its end, not by the minute poll.

Measured in the local cloud's virtual time, black box: when the request and the completion
reached a subscriber's queue (SQS SentTimestamp, on the virtual clock), minus the time
Athena's emulator took for the query and Pinpoint's for the import job, as each records it.
What remains is the system's own overhead: batching windows, hops and the follow-up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from contracts import SegmentQueryRequested, put_events_entry
from infra.local import LocalCloud
from tests.fixtures.lake import write_table

pytestmark = pytest.mark.system

MOST_OVERHEAD_SECONDS = 5.0


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    rows = (f"{index:032x},gold,user{index}@example.com" for index in range(1, 4))
    write_table(root, "crm_customers", "endpoint_id,plan,email", rows)
    return root


@pytest.fixture
def cloud(lake: Path) -> Iterator[LocalCloud]:
    with LocalCloud(data_lake=lake) as running:
        running.run_until_idle()
        yield running


def sent_at(sqs: Any, queue_url: str) -> dict[str, tuple[datetime, dict[str, Any]]]:
    """Each detail-type's first event in the queue, with when SQS took it in."""
    seen: dict[str, tuple[datetime, dict[str, Any]]] = {}
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["SentTimestamp"]
    ).get("Messages", []):
        for message in messages:
            event = json.loads(message["Body"])
            millis = int(message["Attributes"]["SentTimestamp"])
            seen.setdefault(
                event["detail-type"], (datetime.fromtimestamp(millis / 1000, UTC), event)
            )
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return seen


def test_a_small_run_completes_within_seconds_of_its_query_and_its_import_job(
    cloud: LocalCloud,
) -> None:
    watch = cloud.subscribe("latency")
    request = SegmentQueryRequested.from_user(
        """select endpoint_id as "Id", 'EMAIL' as "ChannelType", email as "Address",
                  plan as "Attributes.Plan" from crm_customers""",
        run_id="latency-run",
    )
    entry = put_events_entry(request, event_bus_name=cloud.outputs["EventBusName"])
    assert boto3.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0
    cloud.run_until_idle()

    seen = sent_at(boto3.client("sqs"), watch.queue_url)
    requested_at, _ = seen["SegmentQueryRequested"]
    completed_at, completed = seen["EndpointImportCompleted"]
    _, succeeded = seen["SegmentQuerySucceeded"]

    execution = boto3.client("athena").get_query_execution(
        QueryExecutionId=succeeded["detail"]["data"]["query_execution_id"]
    )["QueryExecution"]["Status"]
    athena = execution["CompletionDateTime"] - execution["SubmissionDateTime"]
    job = boto3.client("pinpoint").get_import_job(
        ApplicationId=cloud.outputs["PinpointProjectId"],
        JobId=completed["detail"]["data"]["import_job_id"],
    )["ImportJobResponse"]
    import_job = datetime.fromisoformat(job["CompletionDate"]) - datetime.fromisoformat(
        job["CreationDate"]
    )

    overhead = (completed_at - requested_at - athena - import_job).total_seconds()
    assert athena.total_seconds() >= 0  # the emulator may answer at its first tick
    assert import_job.total_seconds() > 0
    assert 0 <= overhead <= MOST_OVERHEAD_SECONDS, (completed_at - requested_at, athena, import_job)
