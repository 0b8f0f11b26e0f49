"""EventBridge Scheduler on the local cloud: schedules created with plain boto3 fire on the
virtual clock with Scheduler's expressions, states, dates, context attributes and roles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local import LocalCloud
from infra.local.clock import VirtualClock

# A Wednesday, in the future so moto's own StartDate check (against the real clock) agrees.
START = datetime(2027, 1, 6, 12, 0, tzinfo=UTC)
GROUP = "segments"
INPUT = json.dumps(
    {
        "data": {
            "query": "SELECT 1",
            "schedule_arn": "<aws.scheduler.schedule-arn>",
            "scheduled_time": "<aws.scheduler.scheduled-time>",
            "execution": "<aws.scheduler.execution-id>",
            "attempt": "<aws.scheduler.attempt-number>",
        }
    }
)

TEMPLATE = {
    "Resources": {
        "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "lake-bus"}},
        "Seen": {"Type": "AWS::SQS::Queue"},
        "Everything": {
            "Type": "AWS::Events::Rule",
            "Properties": {
                "EventBusName": {"Ref": "Bus"},
                "EventPattern": {"source": [{"prefix": ""}]},
                "Targets": [{"Id": "seen", "Arn": {"Fn::GetAtt": ["Seen", "Arn"]}}],
            },
        },
        "Group": {"Type": "AWS::Scheduler::ScheduleGroup", "Properties": {"Name": GROUP}},
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "scheduler.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                                "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["Group", "Arn"]}},
                            },
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "put",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "events:PutEvents",
                                    "Resource": {"Fn::GetAtt": ["Bus", "Arn"]},
                                }
                            ],
                        },
                    }
                ],
            },
        },
    },
    "Outputs": {
        "RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}},
        "BusArn": {"Value": {"Fn::GetAtt": ["Bus", "Arn"]}},
        "QueueUrl": {"Value": {"Ref": "Seen"}},
    },
}


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(TEMPLATE))
    with LocalCloud(template=path, emulators=[], clock=VirtualClock(START)) as running:
        yield running


def create(cloud: LocalCloud, name: str, expression: str, **extra: Any) -> str:
    target = {
        "Arn": cloud.outputs["BusArn"],
        "RoleArn": extra.pop("role_arn", cloud.outputs["RoleArn"]),
        "Input": INPUT,
        "EventBridgeParameters": {"Source": "pinpoint-lake.user", "DetailType": "Asked"},
    }
    scheduler: Any = boto3.client("scheduler")
    return str(
        scheduler.create_schedule(
            Name=name,
            GroupName=extra.pop("group", GROUP),
            ScheduleExpression=expression,
            FlexibleTimeWindow=extra.pop("window", {"Mode": "OFF"}),
            Target=target,
            **extra,
        )["ScheduleArn"]
    )


def delivered(cloud: LocalCloud) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    events = []
    while messages := sqs.receive_message(
        QueueUrl=cloud.outputs["QueueUrl"], MaxNumberOfMessages=10
    ).get("Messages", []):
        for message in messages:
            events.append(json.loads(message["Body"]))
            sqs.delete_message(
                QueueUrl=cloud.outputs["QueueUrl"], ReceiptHandle=message["ReceiptHandle"]
            )
    return sorted(events, key=lambda event: event["detail"]["data"]["scheduled_time"])


def times(events: list[dict[str, Any]]) -> list[str]:
    return [event["detail"]["data"]["scheduled_time"] for event in events]


def test_a_rate_schedule_fires_every_period_with_its_context_substituted(
    cloud: LocalCloud,
) -> None:
    arn = create(cloud, "every-10", "rate(10 minutes)")

    cloud.advance(35 * 60)

    events = delivered(cloud)
    # Without a StartDate a rate fires at once, then every period.
    assert times(events) == [
        "2027-01-06T12:00:00Z",
        "2027-01-06T12:10:00Z",
        "2027-01-06T12:20:00Z",
        "2027-01-06T12:30:00Z",
    ]
    first = events[0]
    assert (first["source"], first["detail-type"], first["resources"]) == (
        "pinpoint-lake.user",
        "Asked",
        [arn],
    )
    data = [event["detail"]["data"] for event in events]
    assert {item["schedule_arn"] for item in data} == {arn}
    assert {item["attempt"] for item in data} == {"1"}
    executions = {item["execution"] for item in data}
    assert len(executions) == 4
    assert all(len(execution) == 16 for execution in executions)


def test_a_cron_schedule_keeps_local_time_across_a_daylight_saving_change(
    tmp_path: Path,
) -> None:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(TEMPLATE))
    # Paris moves from UTC+1 to UTC+2 on Sunday 2027-03-28.
    friday = datetime(2027, 3, 26, 0, 0, tzinfo=UTC)
    with LocalCloud(template=path, emulators=[], clock=VirtualClock(friday)) as cloud:
        create(
            cloud, "nine-in-paris", "cron(0 9 * * ? *)", ScheduleExpressionTimezone="Europe/Paris"
        )
        cloud.advance(4 * 86400)

        assert times(delivered(cloud)) == [
            "2027-03-26T08:00:00Z",
            "2027-03-27T08:00:00Z",
            "2027-03-28T07:00:00Z",
            "2027-03-29T07:00:00Z",
        ]


def test_an_at_schedule_fires_once_in_its_timezone_and_delete_removes_it(
    cloud: LocalCloud,
) -> None:
    scheduler = boto3.client("scheduler")
    create(
        cloud,
        "once-deleted",
        "at(2027-01-06T14:30:00)",
        ScheduleExpressionTimezone="Europe/Paris",
        ActionAfterCompletion="DELETE",
    )
    create(cloud, "once-kept", "at(2027-01-06T13:45:00)")

    cloud.advance(86400)

    assert times(delivered(cloud)) == ["2027-01-06T13:30:00Z", "2027-01-06T13:45:00Z"]
    names = {item["Name"] for item in scheduler.list_schedules(GroupName=GROUP)["Schedules"]}
    assert names == {"once-kept"}


def test_a_disabled_schedule_fires_only_while_enabled(cloud: LocalCloud) -> None:
    scheduler: Any = boto3.client("scheduler")
    create(cloud, "paused", "rate(1 hour)", State="DISABLED")
    cloud.advance(2 * 3600)
    assert delivered(cloud) == []

    current = scheduler.get_schedule(Name="paused", GroupName=GROUP)
    keep = ("ScheduleExpression", "FlexibleTimeWindow", "Target", "GroupName")
    scheduler.update_schedule(Name="paused", State="ENABLED", **{key: current[key] for key in keep})
    cloud.advance(2 * 3600 + 60)
    scheduler.update_schedule(
        Name="paused", State="DISABLED", **{key: current[key] for key in keep}
    )
    cloud.advance(5 * 3600)

    # Resumed at 14:00: fires then, at 15:00 and 16:00, then nothing while paused again.
    assert times(delivered(cloud)) == [
        "2027-01-06T14:00:00Z",
        "2027-01-06T15:00:00Z",
        "2027-01-06T16:00:00Z",
    ]


def test_nothing_fires_before_the_start_date_or_after_the_end_date(cloud: LocalCloud) -> None:
    create(
        cloud,
        "bounded",
        "cron(0 * * * ? *)",
        StartDate=START + timedelta(hours=3),
        EndDate=START + timedelta(hours=5, minutes=30),
    )
    cloud.advance(86400)

    assert times(delivered(cloud)) == [
        "2027-01-06T15:00:00Z",
        "2027-01-06T16:00:00Z",
        "2027-01-06T17:00:00Z",
    ]


def test_a_flexible_window_fires_at_its_start(cloud: LocalCloud) -> None:
    create(
        cloud,
        "flexible",
        "rate(1 hour)",
        window={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
    )
    cloud.advance(3600)

    assert times(delivered(cloud)) == ["2027-01-06T12:00:00Z", "2027-01-06T13:00:00Z"]


def test_a_role_that_may_not_put_on_the_bus_delivers_nothing(cloud: LocalCloud) -> None:
    iam = boto3.client("iam")
    trust = iam.get_role(RoleName=cloud.outputs["RoleArn"].rsplit("/", 1)[-1])["Role"][
        "AssumeRolePolicyDocument"
    ]
    other = iam.create_role(RoleName="no-put", AssumeRolePolicyDocument=json.dumps(trust))
    lambda_only = iam.create_role(
        RoleName="lambda-only",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    create(cloud, "no-put", "rate(1 hour)", role_arn=other["Role"]["Arn"])
    create(cloud, "untrusted", "rate(1 hour)", role_arn=lambda_only["Role"]["Arn"])
    # The role trusts Scheduler only for its own group.
    boto3.client("scheduler").create_schedule_group(Name="elsewhere")
    create(cloud, "other-group", "rate(1 hour)", group="elsewhere")

    cloud.advance(3600)

    assert delivered(cloud) == []
    reasons = {
        fire.schedule_arn.rsplit("/", 1)[-1]: str(fire.error) for fire in cloud.scheduler.failures
    }
    assert set(reasons) == {"no-put", "untrusted", "other-group"}
    assert "may not events:PutEvents on" in reasons["no-put"]
    assert "does not let scheduler.amazonaws.com assume it" in reasons["untrusted"]
    assert reasons["other-group"].endswith("schedule-group/elsewhere")


def test_a_redelivered_fire_is_the_same_moment_as_another_attempt(cloud: LocalCloud) -> None:
    create(cloud, "hourly", "rate(1 hour)")
    cloud.advance(3600)

    again = cloud.scheduler.redeliver("hourly", START + timedelta(hours=1), group=GROUP)

    at_one = [
        event["detail"]["data"]
        for event in delivered(cloud)
        if event["detail"]["data"]["scheduled_time"] == "2027-01-06T13:00:00Z"
    ]
    first, second = sorted(at_one, key=lambda data: data["attempt"])
    assert (first["attempt"], second["attempt"]) == ("1", "2")
    assert first["execution"] != second["execution"] == again.execution_id


def test_a_schedule_deleted_with_boto3_stops_firing(cloud: LocalCloud) -> None:
    create(cloud, "short-lived", "rate(1 hour)")
    cloud.advance(3600)
    boto3.client("scheduler").delete_schedule(Name="short-lived", GroupName=GROUP)
    cloud.advance(5 * 3600)

    assert times(delivered(cloud)) == ["2027-01-06T12:00:00Z", "2027-01-06T13:00:00Z"]


def test_a_rate_with_a_start_date_fires_first_at_it(cloud: LocalCloud) -> None:
    create(cloud, "later", "rate(2 hours)", StartDate=START + timedelta(minutes=90))
    cloud.advance(6 * 3600)

    assert times(delivered(cloud)) == [
        "2027-01-06T13:30:00Z",
        "2027-01-06T15:30:00Z",
        "2027-01-06T17:30:00Z",
    ]


@pytest.mark.parametrize(
    ("expression", "extra"),
    [
        ("rate(5 weeks)", {}),
        ("rate(0 minutes)", {}),
        ("cron(0 9 * * * *)", {}),
        ("at(2027-01-06 14:30)", {}),
        ("cron(0 9 * * ? *)", {"ScheduleExpressionTimezone": "Mars/Olympus"}),
        ("rate(1 hour)", {"StartDate": START + timedelta(hours=2), "EndDate": START}),
    ],
)
def test_scheduler_refuses_a_schedule_it_could_not_run(
    cloud: LocalCloud, expression: str, extra: dict[str, Any]
) -> None:
    scheduler: Any = boto3.client("scheduler")
    with pytest.raises(scheduler.exceptions.ValidationException):
        create(cloud, "refused", expression, **extra)
    assert scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []
