"""A dead-lettered message, or a failure that needs a person, pages an operator.

Over the SAM translation: every DLQ has an alarm on its visible messages, every alarm acts
on the alarm topic, and the topic is encrypted with a customer-managed key CloudWatch of
this account may use (CloudWatch cannot publish to a topic under alias/aws/sns). On the
local cloud: the alarms exist in CloudWatch after a deploy.
"""

from __future__ import annotations

from typing import Any

import boto3

from infra.local import LocalCloud
from tests.security.test_template_security import of_type, stack


def _alarms() -> dict[str, dict[str, Any]]:
    model = stack("defaults")
    return {lid: model.properties(lid) for lid in of_type(model, "AWS::CloudWatch::Alarm")}


def test_every_dead_letter_queue_has_an_alarm() -> None:
    model = stack("defaults")
    queues = {lid for lid in of_type(model, "AWS::SQS::Queue") if lid.endswith("DeadLetterQueue")}
    watched = {
        dimension["Value"]
        for alarm in _alarms().values()
        if alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        for dimension in alarm["Dimensions"]
    }
    assert queues
    assert watched == {model.attribute(queue, "QueueName") for queue in queues}


def test_every_alarm_pages_the_alarm_topic() -> None:
    topic = stack("defaults").physical_id("AlarmTopic")
    for name, alarm in _alarms().items():
        assert alarm["AlarmActions"] == [topic], name
        assert alarm["TreatMissingData"] == "notBreaching", name


def test_the_alarm_topic_key_lets_only_this_accounts_cloudwatch_use_it() -> None:
    model = stack("defaults")
    topic = model.properties("AlarmTopic")
    assert topic["KmsMasterKeyId"] == model.physical_id("AlarmTopicKey")  # not alias/aws/sns
    key = model.properties("AlarmTopicKey")
    assert key["EnableKeyRotation"] is True
    [cloudwatch] = [
        statement
        for statement in key["KeyPolicy"]["Statement"]
        if statement["Principal"].get("Service") == "cloudwatch.amazonaws.com"
    ]
    assert sorted(cloudwatch["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey*"]
    assert cloudwatch["Condition"] == {
        "StringEquals": {"aws:SourceAccount": model.settings.account_id}
    }
    [publish] = model.properties("AlarmTopicPolicy")["PolicyDocument"]["Statement"]
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert publish["Condition"]["ArnLike"]["aws:SourceArn"].endswith(
        f":alarm:{model.settings.stack_name}-*"
    )


def test_the_local_cloud_creates_the_alarms() -> None:
    with LocalCloud() as cloud:
        alarms = boto3.client("cloudwatch").describe_alarms()["MetricAlarms"]
        topic = cloud.outputs["AlarmTopicArn"]
    assert len(alarms) == len(_alarms())
    assert all(alarm["AlarmActions"] == [topic] for alarm in alarms)
