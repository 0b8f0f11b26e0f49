"""Forged internal events on the local cloud: refused with a logged reason, nothing changes.

Anyone allowed to publish requests can put events on the bus. A step of a run or a resolved
name published under another source than its producer's is refused by its consumer, so a
forged `SegmentQueryValidated` carrying `SELECT *` never reaches Athena, a forged
`PinpointResourceResolved` is never stored as a name, and a forged run ending is never
sent to SNS.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from contracts import EndpointImportCompleted, PinpointResourceResolved, SegmentQueryValidated
from contracts.examples import example_event
from infra.local import LocalCloud
from infra.local.athena import AthenaEmulator

pytestmark = pytest.mark.system

FORGER = "pinpoint-lake.user"  # what a requester's role may publish under


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud() as running:
        running.run_until_idle()
        yield running


def _put_forged(cloud: LocalCloud, model: type[Any], source: str = FORGER, **data: Any) -> None:
    event = example_event(model)
    event["detail"]["data"] |= data
    response = boto3.client("events").put_events(
        Entries=[
            {
                "Source": source,
                "DetailType": model.DETAIL_TYPE,
                "Detail": json.dumps(event["detail"]),
                "EventBusName": cloud.outputs["EventBusName"],
            }
        ]
    )
    assert response["FailedEntryCount"] == 0


def test_forged_steps_are_refused_and_change_nothing(
    cloud: LocalCloud, caplog: pytest.LogCaptureFixture
) -> None:
    athena = cloud.emulator(AthenaEmulator)
    executions_before = len(athena.executions())
    dynamodb = boto3.client("dynamodb")
    names_before = dynamodb.scan(TableName=cloud.outputs["CampaignJourneyTableName"])["Items"]
    sqs = boto3.client("sqs")
    inbox = sqs.create_queue(QueueName="forged-notifications")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns").subscribe(
        TopicArn=cloud.outputs["NotificationTopicArn"], Protocol="sqs", Endpoint=inbox_arn
    )
    validated = example_event(SegmentQueryValidated)["detail"]["data"]
    validated["request"]["query"] = "SELECT * FROM email_open"  # the validator rejects this

    with caplog.at_level(logging.WARNING):
        _put_forged(cloud, SegmentQueryValidated, request=validated["request"])
        _put_forged(cloud, PinpointResourceResolved, name="Forged name")
        _put_forged(cloud, EndpointImportCompleted)
        cloud.run_until_idle()

    assert len(athena.executions()) == executions_before  # nothing ran on Athena
    names_after = dynamodb.scan(TableName=cloud.outputs["CampaignJourneyTableName"])["Items"]
    assert names_after == names_before
    assert sqs.receive_message(QueueUrl=inbox).get("Messages", []) == []  # nothing notified
    assert not any(cloud.dead_letters().values())  # refused and acknowledged, not retried
    refusals = [r for r in caplog.records if "only its producer may publish it" in r.getMessage()]
    assert {getattr(r, "detail_type", None) for r in refusals} == {
        "SegmentQueryValidated",
        "PinpointResourceResolved",
        "EndpointImportCompleted",
    }


def test_the_runner_starts_only_what_the_validator_would_admit(
    cloud: LocalCloud, caplog: pytest.LogCaptureFixture
) -> None:
    """Past the bus policy and the producer check (the forger used the validator's own
    source), a validated run whose query breaks the validator's rules still never runs."""
    athena = cloud.emulator(AthenaEmulator)
    executions_before = len(athena.executions())
    request = example_event(SegmentQueryValidated)["detail"]["data"]["request"]
    request |= {"query": "SELECT * FROM email_open", "run_id": "forged-select-star"}

    with caplog.at_level(logging.WARNING):
        _put_forged(cloud, SegmentQueryValidated, SegmentQueryValidated.SOURCE, request=request)
        cloud.run_until_idle()

    assert len(athena.executions()) == executions_before
    [refusal] = [r for r in caplog.records if "breaks the validator's rules" in r.getMessage()]
    assert "SELECT_STAR" in getattr(refusal, "codes", [])
    assert not any(cloud.dead_letters().values())
