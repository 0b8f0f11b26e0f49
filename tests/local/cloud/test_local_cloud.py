"""LocalCloud end to end with the toy stack: bus -> rule -> queue -> handler, DLQs, time."""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from contracts import utc_now
from infra.local import LocalCloud
from infra.local.cloud import EmulatorSetup
from infra.local.runtime import FunctionSpec, NotSettledError
from tests.local.cloud.toy_service import composed

HERE = Path(__file__).parent
TOY_TEMPLATE = HERE / "toy-template.yaml"


class FakeEmulator:
    """Stands in for the Pinpoint/Athena emulators: busy for a number of ticks."""

    def __init__(self, busy_ticks: float = 0) -> None:
        self.remaining = busy_ticks
        self.installed = False
        self.ticks = 0
        self.setup: EmulatorSetup | None = None

    def install(self) -> None:
        self.installed = True

    def uninstall(self) -> None:
        self.installed = False

    def tick(self) -> None:
        self.ticks += 1
        self.remaining = max(0, self.remaining - 1)

    def busy(self) -> bool:
        return self.remaining > 0

    def factory(self, setup: EmulatorSetup) -> FakeEmulator:
        self.setup = setup
        return self


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(template=TOY_TEMPLATE, emulators=[]) as running:
        yield running


def put(cloud: LocalCloud, *behaviours: str) -> None:
    boto3.client("events").put_events(
        Entries=[
            {
                "EventBusName": cloud.outputs["EventBusName"],
                "Source": "toy.producer",
                "DetailType": "Toy Happened",
                "Detail": json.dumps({"behaviour": behaviour}),
            }
            for behaviour in behaviours
        ]
    )


def probes(cloud: LocalCloud) -> list[dict[str, Any]]:
    """What the toy handler saw, one entry per invocation."""
    s3 = boto3.client("s3")
    bucket = cloud.outputs["ProbeBucketName"]
    listing = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return [
        json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()) for item in listing
    ]


def bodies(invocation_event: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(record["body"]) for record in invocation_event["Records"]]


def behaviours_seen(cloud: LocalCloud) -> list[str]:
    # Retries wait for the queue's visibility timeout (virtual minutes), so the stack's
    # rate(5 minutes) rule fires meanwhile: only the producer's events are counted.
    return sorted(
        body["detail"]["behaviour"]
        for invocation in producer_invocations(cloud)
        for body in bodies(invocation.event)
    )


def producer_invocations(cloud: LocalCloud) -> list[Any]:
    return [
        invocation
        for invocation in cloud.invocations
        if any(body.get("source") == "toy.producer" for body in bodies(invocation.event))
    ]


def test_an_event_on_the_bus_reaches_the_handler_as_lambda_would_deliver_it(
    cloud: LocalCloud,
) -> None:
    put(cloud, "ok")
    cloud.run_until_idle()

    (probe,) = probes(cloud)
    (record,) = probe["event"]["Records"]
    function_name = cloud.stack.physical_name("ToyFunction")
    queue_arn = cloud.stack.attribute("ToyQueue", "Arn")
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queue_arn
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"messageId", "receiptHandle", "md5OfBody", "messageAttributes"} <= set(record)
    event = json.loads(record["body"])
    assert (event["source"], event["detail-type"], event["detail"]) == (
        "toy.producer",
        "Toy Happened",
        {"behaviour": "ok"},
    )
    assert event["account"] == "123456789012"  # moto leaves it out; the pump restores it
    # As in Lambda with active tracing: the function segment the runtime wrote is the parent.
    trace_header = probe["environment"].pop("_X_AMZN_TRACE_ID")
    assert re.fullmatch(
        r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1", trace_header
    )
    (segment,) = [d for d in cloud.xray.documents if d["name"] == function_name]
    assert trace_header.endswith(f"Parent={segment['id']};Sampled=1")
    assert probe["environment"] == {
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_REGION": "us-east-1",
        "EVENT_BUS_NAME": cloud.outputs["EventBusName"],
        "POWERTOOLS_SERVICE_NAME": "toy",
        "POWERTOOLS_METRICS_NAMESPACE": "pinpoint-lake",
        "PROBE_BUCKET": cloud.outputs["ProbeBucketName"],
    }
    context = probe["context"]
    assert context["function_name"] == function_name
    assert context["memory_limit_in_mb"] == 256
    assert context["invoked_function_arn"] == cloud.stack.attribute("ToyFunction", "Arn")
    assert 0 < context["remaining_ms"] <= 10_000
    # the function's environment is gone once the call returns
    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ  # noqa: TID251
    assert cloud.dead_letters() == {"ToyDeadLetterQueue": []}


def test_reported_failures_are_retried_then_dead_lettered(cloud: LocalCloud) -> None:
    put(cloud, "ok", "fail")
    cloud.run_until_idle()

    # the batch carried both; after that only the failed record came back, 5 receives in all
    assert behaviours_seen(cloud) == ["fail"] * 5 + ["ok"]
    dead = cloud.dead_letters()
    assert [json.loads(m["Body"])["detail"] for m in dead["ToyDeadLetterQueue"]] == [
        {"behaviour": "fail"}
    ]
    again = cloud.dead_letters()  # looking does not consume them
    assert [m["MessageId"] for m in again["ToyDeadLetterQueue"]] == [
        m["MessageId"] for m in dead["ToyDeadLetterQueue"]
    ]


def test_an_exception_fails_and_retries_the_whole_batch(cloud: LocalCloud) -> None:
    put(cloud, "ok", "raise")
    cloud.run_until_idle()

    assert behaviours_seen(cloud) == ["ok"] * 5 + ["raise"] * 5
    assert all(invocation.error for invocation in producer_invocations(cloud))
    assert len(cloud.dead_letters()["ToyDeadLetterQueue"]) == 2


def test_a_rate_rule_fires_on_the_virtual_clock(cloud: LocalCloud) -> None:
    start = cloud.clock.now()
    cloud.advance(299)
    assert cloud.invocations == []

    cloud.advance(301)
    cloud.run_until_idle()

    events = [body for invocation in cloud.invocations for body in bodies(invocation.event)]
    assert [(e["source"], e["detail-type"]) for e in events] == [
        ("aws.events", "Scheduled Event")
    ] * 2
    assert [e["resources"] for e in events] == [[cloud.stack.attribute("TickRule", "Arn")]] * 2
    # The second event was delivered when the mapping's 1 s batching window closed.
    assert (cloud.clock.now() - start).total_seconds() == 601


def test_a_disabled_condition_removes_the_scheduled_rule() -> None:
    with LocalCloud(
        template=TOY_TEMPLATE, emulators=[], parameters={"UseSchedule": "false"}
    ) as cloud:
        assert "TickRule" not in cloud.resources
        cloud.advance(3600)
        assert cloud.invocations == []


def test_an_s3_upload_reaches_the_handler_through_eventbridge(cloud: LocalCloud) -> None:
    bucket = cloud.outputs["UploadBucketName"]
    boto3.client("s3").put_object(Bucket=bucket, Key="in/file one.csv", Body=b"a,b\n")
    cloud.run_until_idle()

    (invocation,) = cloud.invocations
    (event,) = bodies(invocation.event)
    assert event["source"] == "aws.s3"
    assert event["detail-type"] == "Object Created"
    assert event["detail"]["bucket"]["name"] == bucket
    assert event["detail"]["object"]["key"] == "in/file one.csv"


def test_emulators_are_installed_ticked_and_given_the_stack() -> None:
    emulator = FakeEmulator(busy_ticks=3)
    with LocalCloud(template=TOY_TEMPLATE, emulators=[emulator.factory]) as cloud:
        assert emulator.installed
        assert emulator.setup is not None
        assert emulator.setup.data_lake.is_dir()
        assert emulator.setup.parameter("LogRetentionDays", "x") == "7"
        assert emulator.setup.parameter("GlueDatabase", "due_eventdb") == "due_eventdb"
        start = cloud.clock.now()
        cloud.run_until_idle()
        assert not emulator.busy()
        # busy but nothing queued: time moves on to the next scheduled firing (5 minutes)
        assert (cloud.clock.now() - start).total_seconds() >= 300
    assert not emulator.installed


def test_run_until_idle_names_what_never_settles() -> None:
    never_idle = FakeEmulator(busy_ticks=math.inf)
    with LocalCloud(template=TOY_TEMPLATE, emulators=[never_idle.factory]) as cloud:
        expected = r"did not settle in 5 rounds.*emulator FakeEmulator"
        with pytest.raises(NotSettledError, match=expected):
            cloud.run_until_idle(max_rounds=5)


def test_the_environment_and_moto_are_restored_on_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "a-real-account")
    before = dict(os.environ)  # noqa: TID251
    with LocalCloud(template=TOY_TEMPLATE, emulators=[], region="eu-west-1") as cloud:
        assert "AWS_PROFILE" not in os.environ  # noqa: TID251
        assert os.environ["AWS_DEFAULT_REGION"] == "eu-west-1"  # noqa: TID251
        bus = cloud.outputs["EventBusName"]
    assert dict(os.environ) == before  # noqa: TID251
    with LocalCloud(template=TOY_TEMPLATE, emulators=[]):
        names = [b["Name"] for b in boto3.client("events").list_event_buses()["EventBuses"]]
        assert names.count(bus) == 1  # a fresh moto each time


def test_cloudtrail_without_a_trail_bucket_output_warns() -> None:
    with (
        pytest.warns(RuntimeWarning, match="no CloudTrailBucketName output"),
        LocalCloud(template=TOY_TEMPLATE, emulators=[], cloudtrail=True),
    ):
        pass


def test_the_real_template_deploys_with_a_local_pinpoint_project() -> None:
    with LocalCloud(emulators=[]) as cloud:
        project_id = cloud.stack.parameter("PinpointProjectId")
        apps = boto3.client("pinpoint").get_apps()["ApplicationsResponse"]["Item"]
        assert [app["Id"] for app in apps] == [project_id]
        bus = cloud.outputs["EventBusName"]
        assert bus == "pinpoint-lake-events"
        archive = boto3.client("events").describe_archive(
            ArchiveName=cloud.resources["EventArchive"]
        )
        assert archive["EventSourceArn"].endswith(f":event-bus/{bus}")
        assert archive["RetentionDays"] == 90


def test_each_local_cloud_builds_its_services_in_an_environment_of_its_own() -> None:
    """The runtime asks a service's function for a fresh copy (a cold start) once per cloud:
    the service is built on the first call from that cloud's environment, reused while the
    cloud runs, and nothing is re-imported or reached into."""
    module_name = "tests.local.cloud.toy_service.composed"
    composed.BUILT.clear()
    answers = []
    for setting in ("first", "second"):
        with LocalCloud(template=TOY_TEMPLATE, emulators=[]) as cloud:
            spec = FunctionSpec(
                logical_id="Composed",
                name=f"composed-{setting}",
                arn=f"arn:aws:lambda:us-east-1:123456789012:function:composed-{setting}",
                handler=f"{module_name}.lambda_handler",
                code_path=Path(__file__).resolve().parents[3],
                environment={"TOY_SETTING": setting, "POWERTOOLS_SERVICE_NAME": "composed"},
            )
            cloud.runtime.register_function(spec)
            answers += [cloud.runtime.invoke(spec.name, {"n": n}) for n in range(2)]
        assert sys.modules[module_name] is composed  # imported once, never dropped
    assert composed.BUILT == ["first", "second"]  # once per cloud, from its environment
    assert [answer["setting"] for answer in answers] == ["first", "first", "second", "second"]


def test_functions_read_the_local_clouds_virtual_clock() -> None:
    """What a function stamps and later compares (claims, deadlines, event times) is on the
    cloud's clock, as every emulator's and schedule's time is."""
    with LocalCloud(template=TOY_TEMPLATE, emulators=[]) as cloud:
        spec = FunctionSpec(
            logical_id="Composed",
            name="composed-clock",
            arn="arn:aws:lambda:us-east-1:123456789012:function:composed-clock",
            handler="tests.local.cloud.toy_service.composed.lambda_handler",
            code_path=Path(__file__).resolve().parents[3],
            environment={"TOY_SETTING": "clock", "POWERTOOLS_SERVICE_NAME": "composed"},
        )
        cloud.runtime.register_function(spec)
        cloud.advance(6 * 3600)
        answer = cloud.runtime.invoke(spec.name, {})
        assert answer["now"] == cloud.clock.now()
        # Outside an invocation the system's clock: hours behind the advanced virtual one.
        assert cloud.clock.now() - utc_now() > timedelta(hours=5)


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_the_real_templates_functions_log_to_their_own_groups_with_their_own_roles() -> None:
    # The template declares each function's role (no managed policy) and names its log
    # group in LoggingConfig; the local cloud must build both as CloudFormation would.
    with LocalCloud(emulators=[]) as cloud:
        iam, logs = boto3.client("iam"), boto3.client("logs")
        groups = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
        functions = list(cloud.runtime.functions.values())
        assert functions
        for spec in functions:
            assert spec.log_group_name != f"/aws/lambda/{spec.name}", spec.logical_id
            group = groups[spec.log_group_name]  # created by the stack, before the function
            assert group["retentionInDays"] == 30
            role_name = str(cloud.stack.properties(spec.logical_id)["Role"]).rsplit("/", 1)[-1]
            assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
            documents: list[Any] = [
                iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
                for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
            ]
            statements: list[dict[str, Any]] = [s for d in documents for s in d["Statement"]]
            log_grants = [s for s in statements if "logs:PutLogEvents" in _actions(s)]
            assert [s["Resource"] for s in log_grants] == [group["arn"]], spec.logical_id
        assert not [note for note in cloud.notes.values() if "managed policies" in note]
