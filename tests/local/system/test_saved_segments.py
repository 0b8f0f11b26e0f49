"""Saved segments on the local cloud, black box: a schedule created with plain boto3 in the
stack's schedule group, through the stack's Scheduler role, asks for one run per fire; a
fire delivered twice (Scheduler delivers at least once) is still one run. The schedule's
sync key makes each fire a sync: the first sends every row, an unchanged second none (no
import job), a third only the row that changed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local import LocalCloud
from infra.local.athena import AthenaEmulator
from tests.fixtures.lake import write_table
from tests.fixtures.notifications import notifications, sns_inbox

pytestmark = pytest.mark.system

ENDPOINTS = [f"{index:032x}" for index in range(1, 5)]
QUERY = """
select endpoint_id as "Id", 'EMAIL' as "ChannelType", email as "Address",
       plan as "Attributes.Plan"
from crm_customers
"""


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("saved-segments-lake")
    _write_customers(root, {})
    return root


@pytest.fixture(scope="module")
def cloud(lake: Path) -> Iterator[LocalCloud]:
    with LocalCloud(data_lake=lake) as running:
        running.run_until_idle()
        yield running


def _create_schedule(cloud: LocalCloud, name: str, expression: str) -> str:
    """What a team would write with plain boto3: the stack's group, role and bus."""
    bus_arn = boto3.client("events").describe_event_bus(Name=cloud.outputs["EventBusName"])["Arn"]
    detail = {
        "data": {
            "query": QUERY,
            "sync_key": name,
            "schedule_arn": "<aws.scheduler.schedule-arn>",
            "scheduled_time": "<aws.scheduler.scheduled-time>",
        }
    }
    scheduler: Any = boto3.client("scheduler")
    response = scheduler.create_schedule(
        Name=name,
        GroupName=cloud.outputs["ScheduleGroupName"],
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": bus_arn,
            "RoleArn": cloud.outputs["SchedulerRoleArn"],
            "Input": json.dumps(detail),
            "EventBridgeParameters": {
                "Source": "pinpoint-lake.user",
                "DetailType": "SegmentQueryRequested",
            },
        },
    )
    return str(response["ScheduleArn"])


def _write_customers(lake: Path, plans: dict[str, str]) -> None:
    rows = (
        f"{endpoint},{plans.get(endpoint, 'gold')},user{n}@example.com"
        for n, endpoint in enumerate(ENDPOINTS)
    )
    write_table(lake, "crm_customers", "endpoint_id,plan,email", rows)


def test_each_fire_is_one_run_and_a_duplicate_fire_is_the_same_run(
    cloud: LocalCloud, lake: Path
) -> None:
    watch = cloud.subscribe("saved-segment-runs")
    sqs, inbox = sns_inbox(cloud)
    athena = cloud.emulator(AthenaEmulator)
    executions_before = len(athena.executions())
    arn = _create_schedule(cloud, "gold-hourly", "rate(1 hour)")
    created = cloud.clock.now()

    group = cloud.outputs["ScheduleGroupName"]
    # A rate schedule fires at once, then every hour.
    for fire in range(3):
        cloud.advance((created + timedelta(hours=fire) - cloud.clock.now()).total_seconds())
        if fire == 2:  # one member changed plan since the second fire
            _write_customers(lake, {ENDPOINTS[1]: "silver"})
        if fire == 2:  # delivered again while its run is under way
            cloud.scheduler.redeliver("gold-hourly", created + timedelta(hours=2), group=group)
        cloud.run_until_idle()
    # ... and the first fire again, long after its run ended.
    cloud.scheduler.redeliver("gold-hourly", created, group=group)
    cloud.run_until_idle()

    requests = watch.of_type("SegmentQueryRequested")
    assert len(requests) == 5  # three fires, two of them delivered twice
    assert {tuple(event["resources"]) for event in requests} == {(arn,)}
    validated_runs = [
        event["detail"]["data"]["run_id"] for event in watch.of_type("SegmentQueryValidated")
    ]
    assert len(validated_runs) == 5
    assert len(set(validated_runs)) == 3
    completed = watch.of_type("EndpointImportCompleted")
    completed_runs = [event["detail"]["data"]["run_id"] for event in completed]
    assert sorted(completed_runs) == sorted(set(validated_runs))
    # In fire order: every row, then nothing (no import job), then the one changed row.
    by_run = {event["detail"]["data"]["run_id"]: event["detail"]["data"] for event in completed}
    in_fire_order = [by_run[run_id] for run_id in dict.fromkeys(validated_runs)]
    assert [(data["outcome"], data["counts"]["rows_sent"]) for data in in_fire_order] == [
        ("complete", 4),
        ("nothing_to_import", 0),
        ("complete", 1),
    ]
    assert [data["counts"]["rows_unchanged"] for data in in_fire_order] == [0, 4, 3]
    assert in_fire_order[1].get("import_job_id") is None
    assert len(athena.executions()) - executions_before == 3
    assert not cloud.scheduler.failures
    assert len(notifications(sqs, inbox)) == 3
    assert not any(cloud.dead_letters().values())
