"""Every resource type the local cloud knows, created in moto and inspected there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from contracts import PROJECT_EVENTS
from infra.local import LocalCloud
from infra.local.resources import (
    RESOURCE_HANDLERS,
    ResourceCreationError,
    bucket_notification_configuration,
    dynamodb_table_kwargs,
    queue_attributes,
)
from infra.local.template import load_stack_template

HERE = Path(__file__).parent
ALL_TYPES = HERE / "all-types-template.yaml"
TEMPLATES = [HERE.parents[2] / "infra" / "template.yaml", HERE / "toy-template.yaml", ALL_TYPES]


def write_template(tmp_path: Path, resources: dict[str, Any]) -> Path:
    path = tmp_path / "template.json"
    path.write_text(json.dumps({"Resources": resources}))
    return path


def test_every_type_used_by_the_templates_has_a_handler() -> None:
    used = {
        resource["Type"]
        for path in TEMPLATES
        for resource in load_stack_template(path, region="us-east-1")
        .resources_template["Resources"]
        .values()
    }
    assert {t for t in used if not t.startswith("Custom::")} <= set(RESOURCE_HANDLERS)


def test_all_types_are_created_in_moto() -> None:
    with LocalCloud(template=ALL_TYPES, emulators=[]) as cloud:
        ids = cloud.resources
        assert set(ids) == set(cloud.stack.resources)
        _check_storage(cloud, ids)
        _check_messaging(cloud, ids)
        _check_the_rest(cloud, ids)


def _check_storage(cloud: LocalCloud, ids: dict[str, str]) -> None:
    s3 = boto3.client("s3")
    assert s3.get_bucket_versioning(Bucket=ids["Bucket"])["Status"] == "Enabled"
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=ids["Bucket"])["Rules"]
    assert rule["Expiration"] == {"Days": 7}
    notification = s3.get_bucket_notification_configuration(Bucket=ids["Bucket"])
    assert notification["QueueConfigurations"][0]["QueueArn"] == cloud.stack.attribute(
        "Queue", "Arn"
    )
    # moto would apply a conditional Deny unconditionally, so the local cloud leaves it out.
    assert "SecureTransport" not in s3.get_bucket_policy(Bucket=ids["Bucket"])["Policy"]
    assert "conditional Deny" in cloud.notes["BucketPolicy"]

    table = boto3.client("dynamodb").describe_table(TableName=ids["Table"])["Table"]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "by-name"
    assert table["LatestStreamArn"] == cloud.stack.attribute("Table", "StreamArn")
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=ids["Table"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    backups = boto3.client("dynamodb").describe_continuous_backups(TableName=ids["Table"])
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"

    kms = boto3.client("kms")
    assert kms.describe_key(KeyId=ids["Key"])["KeyMetadata"]["Arn"] == cloud.stack.attribute(
        "Key", "Arn"
    )
    assert kms.get_key_rotation_status(KeyId=ids["Key"])["KeyRotationEnabled"]
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases["alias/all-types"] == ids["Key"]


def _check_messaging(cloud: LocalCloud, ids: dict[str, str]) -> None:
    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=ids["Queue"], AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["KmsMasterKeyId"] == ids["Key"]
    assert "s3.amazonaws.com" in attributes["Policy"]

    sns = boto3.client("sns")
    assert (
        "events.amazonaws.com"
        in sns.get_topic_attributes(TopicArn=ids["Topic"])["Attributes"]["Policy"]
    )
    subscription = sns.get_subscription_attributes(SubscriptionArn=ids["Subscription"])[
        "Attributes"
    ]
    assert subscription["RawMessageDelivery"] == "true"
    assert json.loads(subscription["FilterPolicy"]) == {"kind": ["wanted"]}

    events = boto3.client("events")
    rule_name = cloud.stack.physical_name("Rule")
    targets = events.list_targets_by_rule(Rule=rule_name, EventBusName="all-types")["Targets"]
    assert [t["Id"] for t in targets] == ["queue", "logs"]
    assert events.describe_archive(ArchiveName=ids["Archive"])["RetentionDays"] == 1
    assert set(cloud.dead_letters()) == {"RuleDeadLetters"}


def _check_the_rest(cloud: LocalCloud, ids: dict[str, str]) -> None:
    iam = boto3.client("iam")
    assert iam.get_role_policy(RoleName=ids["Role"], PolicyName="put-events")
    attached = iam.list_attached_role_policies(RoleName=ids["Role"])["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [ids["ManagedPolicy"]]

    (group,) = boto3.client("logs").describe_log_groups(logGroupNamePrefix=ids["LogGroup"])[
        "logGroups"
    ]
    assert group["retentionInDays"] == 3

    glue = boto3.client("glue")
    assert (
        glue.get_table(DatabaseName="all_types", Name="customers")["Table"]["Name"] == "customers"
    )
    work_group = boto3.client("athena").get_work_group(WorkGroup="all-types")["WorkGroup"]
    assert work_group["Configuration"]["ResultConfiguration"]["OutputLocation"].endswith("/athena/")

    trail = boto3.client("cloudtrail").get_trail_status(Name=ids["Trail"])
    assert trail["IsLogging"]

    schedule = boto3.client("scheduler").get_schedule(Name=ids["Schedule"], GroupName="all-types")
    assert schedule["ScheduleExpression"] == "rate(1 hour)"

    assert cloud.outputs["Greeting"] == "greeting-lake"
    tags = boto3.client("sqs").list_queue_tags(QueueUrl=ids["GreetingUser"])["Tags"]
    assert tags == {"greeting": "hello lake"}
    assert {"XRayGroup", "Registry", "Schema"} <= set(cloud.notes)


def test_a_scheduler_schedule_puts_events_on_the_virtual_clock() -> None:
    with LocalCloud(template=ALL_TYPES, emulators=[]) as cloud:
        cloud.advance(3600)
        messages = (
            boto3.client("sqs")
            .receive_message(QueueUrl=cloud.resources["Queue"], MaxNumberOfMessages=10)
            .get("Messages", [])
        )
        bodies = [json.loads(message["Body"]) for message in messages]
        events = [body for body in bodies if "source" in body]  # not S3's s3:TestEvent
        # A Scheduler rate fires at once, then every period: at deploy and an hour later.
        assert len(events) == 2
        schedule_arn = boto3.client("scheduler").get_schedule(
            Name=cloud.resources["Schedule"], GroupName="all-types"
        )["Arn"]
        for event in events:
            assert (event["source"], event["detail-type"], event["detail"]) == (
                "all.scheduler",
                "Hourly",
                {"n": 1},
            )
            assert event["resources"] == [schedule_arn]


def test_an_unknown_type_stops_the_deployment_naming_it(tmp_path: Path) -> None:
    template = write_template(
        tmp_path,
        {"Queue": {"Type": "AWS::SQS::Queue"}, "Thing": {"Type": "AWS::Foo::Bar"}},
    )
    with (
        pytest.raises(ResourceCreationError, match=r"cannot create.*Thing \(AWS::Foo::Bar\)"),
        LocalCloud(template=template, emulators=[]),
    ):
        pass


def test_a_rule_targeting_a_function_directly_is_refused(tmp_path: Path) -> None:
    template = write_template(
        tmp_path,
        {
            "Rule": {
                "Type": "AWS::Events::Rule",
                "Properties": {
                    "EventPattern": {"source": ["x"]},
                    "Targets": [
                        {"Id": "f", "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f"}
                    ],
                },
            }
        },
    )
    with (
        pytest.raises(
            ResourceCreationError, match=r"Rule \(AWS::Events::Rule\).*SQS queue between"
        ),
        LocalCloud(template=template, emulators=[]),
    ):
        pass


def test_queue_attributes_become_sqs_strings() -> None:
    assert queue_attributes(
        {
            "VisibilityTimeout": 60,
            "SqsManagedSseEnabled": True,
            "RedrivePolicy": {"deadLetterTargetArn": "arn", "maxReceiveCount": 5},
            "Tags": [],
        }
    ) == {
        "VisibilityTimeout": "60",
        "SqsManagedSseEnabled": "true",
        "RedrivePolicy": '{"deadLetterTargetArn": "arn", "maxReceiveCount": 5}',
    }


def test_s3_notifications_convert_and_refuse_lambda() -> None:
    assert bucket_notification_configuration(
        {"NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}}
    ) == {"EventBridgeConfiguration": {}}
    with pytest.raises(ResourceCreationError, match="EventBridgeConfiguration"):
        bucket_notification_configuration(
            {"NotificationConfiguration": {"LambdaConfigurations": [{"Function": "f"}]}}
        )


def test_provisioned_tables_keep_their_throughput() -> None:
    throughput = {"ReadCapacityUnits": "5", "WriteCapacityUnits": 1}
    kwargs = dynamodb_table_kwargs(
        "t",
        {
            "KeySchema": [],
            "AttributeDefinitions": [],
            "ProvisionedThroughput": throughput,
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "i",
                    "KeySchema": [],
                    "Projection": {},
                    "ProvisionedThroughput": throughput,
                }
            ],
        },
    )
    assert kwargs["BillingMode"] == "PROVISIONED"
    assert kwargs["ProvisionedThroughput"] == {"ReadCapacityUnits": 5, "WriteCapacityUnits": 1}
    assert kwargs["GlobalSecondaryIndexes"][0]["ProvisionedThroughput"]["ReadCapacityUnits"] == 5


def test_deletion_policies_are_accepted_and_noted(tmp_path: Path) -> None:
    template = write_template(
        tmp_path,
        {
            "Kept": {
                "Type": "AWS::SQS::Queue",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
            },
            "Gone": {"Type": "AWS::SQS::Queue", "DeletionPolicy": "Delete"},
        },
    )
    with LocalCloud(template=template, emulators=[]) as cloud:
        assert set(cloud.resources) == {"Kept", "Gone"}
        assert "DeletionPolicy Retain, UpdateReplacePolicy Retain" in cloud.notes["Kept"]
        assert "Gone" not in cloud.notes


@pytest.mark.parametrize(
    ("attributes", "problem"),
    [
        ({"DeletionPolicy": "Keep"}, "DeletionPolicy 'Keep' is not one of"),
        ({"UpdateReplacePolicy": "RetainExceptOnCreate"}, "UpdateReplacePolicy"),
        ({"DeletionPolicy": "Snapshot"}, "DeletionPolicy Snapshot, but AWS::SQS::Queue has none"),
        ({"DeletonPolicy": "Retain"}, "unknown resource attribute DeletonPolicy"),
    ],
)
def test_resource_attributes_cloudformation_refuses_stop_the_deployment(
    tmp_path: Path, attributes: dict[str, str], problem: str
) -> None:
    template = write_template(tmp_path, {"Queue": {"Type": "AWS::SQS::Queue", **attributes}})
    with (
        pytest.raises(ResourceCreationError, match=f"Queue: {problem}"),
        LocalCloud(template=template, emulators=[]),
    ):
        pass


def test_the_template_deploys_retention_access_logs_scan_cap_and_schemas() -> None:
    with LocalCloud(template=TEMPLATES[0], emulators=[]) as cloud:
        ids = cloud.resources
        for table in ("CampaignJourneyTable", "SegmentTable", "QueryRunsTable", "ImportRunsTable"):
            assert "DeletionPolicy Retain" in cloud.notes[table]
        logging = boto3.client("s3").get_bucket_logging(Bucket=ids["QueryResultsBucket"])
        assert logging["LoggingEnabled"] == {
            "TargetBucket": ids["AccessLogsBucket"],
            "TargetPrefix": "query-results/",
        }
        workgroup = boto3.client("athena").get_work_group(WorkGroup=ids["AthenaQueryWorkGroup"])
        assert workgroup["WorkGroup"]["Configuration"]["BytesScannedCutoffPerQuery"] == (
            100 * 1024**3
        )
        assert "not enforced" in cloud.notes["AthenaQueryWorkGroup"]
        # moto has no schema registry: skipped knowingly, each one noted.
        schema_ids = [
            lid
            for lid in cloud.stack.resources
            if cloud.stack.resource_type(lid).startswith("AWS::EventSchemas::")
        ]
        assert len(schema_ids) == 1 + len(PROJECT_EVENTS)  # the registry, one per event
        for logical_id in schema_ids:
            assert cloud.notes[logical_id] == "moto has no EventBridge schema registry"
