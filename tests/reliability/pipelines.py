"""The two pipelines on the local cloud, driven the way the reliability suites need them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from contracts import SegmentQueryRequested, put_events_entry
from infra.local import LocalCloud
from infra.local.cloud import EmulatorSetup
from infra.local.delivery import Redelivery
from infra.local.pinpoint import CloudTrailRecorder, PinpointEmulator
from tests.fixtures.lake import write_table

_deserialize = TypeDeserializer().deserialize


def seeded_pinpoint(setup: EmulatorSetup) -> PinpointEmulator:
    """Pinpoint with repeatable ids and CloudTrail event ids, so two runs can be compared."""
    recorder = None
    if setup.cloudtrail_bucket is not None:
        recorder = CloudTrailRecorder(
            clock=setup.clock,
            bucket=setup.cloudtrail_bucket,
            prefix=setup.cloudtrail_prefix,
            region=setup.region,
            account_id=setup.account_id,
            seed=11,
        )
    return PinpointEmulator(
        clock=setup.clock,
        region=setup.region,
        account_id=setup.account_id,
        recorder=recorder,
        seed=7,
    )


CATALOG_FUNCTIONS = ("LogIngesterFunction", "NameResolverFunction", "CatalogWriterFunction")
SEGMENTATION_FUNCTIONS = (
    "QueryValidatorFunction",
    "QueryRunnerFunction",
    "ImporterFunction",
    "NotifierFunction",
)


def only_pipeline(
    cloud: LocalCloud, functions: tuple[str, ...], *, keep_schedules: bool = False
) -> None:
    """Pump only these functions' queues (and drop the schedules, which only the segmentation
    pipeline has): the other pipeline's empty queues and polls would only cost time."""
    names = {cloud.stack.physical_name(logical_id) for logical_id in functions}
    cloud.runtime.sources[:] = [s for s in cloud.runtime.sources if s.function_name in names]
    if not keep_schedules:
        cloud.runtime.jobs.clear()


def redeliver(cloud: LocalCloud, seed: int, **options: Any) -> Redelivery:
    return Redelivery(seed=seed, **options).install(cloud.runtime, boto3.client("sqs"))


def sns_inbox(cloud: LocalCloud, name: str = "notifications-inbox") -> Callable[[], list[Any]]:
    """An SQS queue subscribed to the notification topic; the function reads it all so far."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns").subscribe(
        TopicArn=cloud.outputs["NotificationTopicArn"], Protocol="sqs", Endpoint=arn
    )
    received: list[dict[str, Any]] = []

    def read() -> list[dict[str, Any]]:
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            received.extend(json.loads(message["Body"]) for message in messages)
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(messages)
                ],
            )
        return list(received)

    return read


def request_run(cloud: LocalCloud, query: str, **fields: Any) -> None:
    event = SegmentQueryRequested.from_user(query, **fields)
    response = boto3.client("events").put_events(
        Entries=[put_events_entry(event, event_bus_name=cloud.outputs["EventBusName"])]
    )
    assert response["FailedEntryCount"] == 0


def import_jobs(cloud: LocalCloud) -> list[dict[str, Any]]:
    response = boto3.client("pinpoint").get_import_jobs(
        ApplicationId=cloud.outputs["PinpointProjectId"], PageSize="100"
    )
    return [dict(job) for job in response["ImportJobsResponse"]["Item"]]


def scan(cloud: LocalCloud, output: str) -> list[dict[str, Any]]:
    dynamodb = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=cloud.outputs[output]):
        items += [{k: _deserialize(v) for k, v in item.items()} for item in page["Items"]]
    return items


def no_dead_letters(cloud: LocalCloud) -> bool:
    return all(not messages for messages in cloud.dead_letters().values())


ENDPOINTS = [f"{index:032x}" for index in range(1, 9)]
PLANS = ("gold", "silver", "bronze", "gold")
IMPORT_QUERY = """
select endpoint_id as "Id", 'EMAIL' as "ChannelType", email as "Address",
       plan as "Attributes.Plan" from crm_customers where plan = '{plan}'
"""


def write_lake(root: Path) -> Path:
    """A data lake with one table, crm_customers: endpoints on the plans in PLANS."""
    write_table(
        root,
        "crm_customers",
        "endpoint_id,plan,email",
        (
            f"{endpoint},{PLANS[index % len(PLANS)]},user{index}@example.com"
            for index, endpoint in enumerate(ENDPOINTS)
        ),
    )
    return root
