"""ServiceFaults: errors answered at botocore's before-send, for services moto serves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from infra.local.faults import (
    DYNAMODB_THROUGHPUT_EXCEEDED,
    SNS_INTERNAL_ERROR,
    SNS_THROTTLED,
    ServiceError,
    ServiceFaults,
)
from services.common.clients import DEFAULT_CONFIG

# The services' own client configuration: standard retries, 5 retries after the first try.
STANDARD = DEFAULT_CONFIG
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[ServiceFaults]:
    import moto

    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _seconds: None)
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        injector = ServiceFaults().install()  # before the clients below are built
        try:
            yield injector
        finally:
            injector.uninstall()


def _client(service: str, config: Config = STANDARD) -> Any:
    return boto3.session.Session().client(service, config=config)  # type: ignore[call-overload]


def _table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_throttled_writes_are_retried_by_botocore_and_applied_once(faults: ServiceFaults) -> None:
    dynamodb = _client("dynamodb")
    _table(dynamodb, "entries")
    faults.fail("dynamodb", "PutItem", DYNAMODB_THROUGHPUT_EXCEEDED, times=2)

    dynamodb.put_item(TableName="entries", Item={"id": {"S": "a"}, "n": {"N": "1"}})

    assert faults.calls[("dynamodb", "PutItem")] == 3
    assert faults.injected[("dynamodb", "PutItem", DYNAMODB_THROUGHPUT_EXCEEDED.code)] == 2
    assert faults.pending() == 0
    assert dynamodb.scan(TableName="entries")["Count"] == 1


def test_a_faulted_attempt_never_reaches_moto(faults: ServiceFaults) -> None:
    dynamodb = _client("dynamodb", NO_RETRIES)
    _table(dynamodb, "entries")
    faults.fail("dynamodb", "PutItem", DYNAMODB_THROUGHPUT_EXCEEDED)

    with pytest.raises(ClientError) as raised:
        dynamodb.put_item(TableName="entries", Item={"id": {"S": "a"}})

    assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert isinstance(raised.value, dynamodb.exceptions.ProvisionedThroughputExceededException)
    assert dynamodb.scan(TableName="entries")["Count"] == 0


def test_rules_match_on_the_request_parameters(faults: ServiceFaults) -> None:
    dynamodb = _client("dynamodb", NO_RETRIES)
    _table(dynamodb, "hot")
    _table(dynamodb, "cold")
    rule = faults.fail(
        "dynamodb",
        None,
        DYNAMODB_THROUGHPUT_EXCEEDED,
        times=None,
        match=lambda params: params.get("TableName") == "hot",
    )
    dynamodb.put_item(TableName="cold", Item={"id": {"S": "a"}})
    for _ in range(3):
        with pytest.raises(ClientError):
            dynamodb.put_item(TableName="hot", Item={"id": {"S": "a"}})
    assert rule.hits == 3
    assert faults.pending() is None  # stays until removed
    rule.remove()
    dynamodb.put_item(TableName="hot", Item={"id": {"S": "a"}})
    assert dynamodb.scan(TableName="hot")["Count"] == 1


def test_sns_errors_use_the_query_protocol(faults: ServiceFaults) -> None:
    sns = _client("sns")
    topic = sns.create_topic(Name="runs")["TopicArn"]

    faults.fail("sns", "Publish", SNS_INTERNAL_ERROR, times=None)
    with pytest.raises(ClientError) as raised:
        sns.publish(TopicArn=topic, Message="hello")
    assert raised.value.response["Error"]["Code"] == "InternalError"
    assert dict(raised.value.response["Error"]).get("Type") == "Receiver"  # a 5xx: their fault
    assert faults.calls[("sns", "Publish")] == 6  # retried: 5xx is transient
    faults.clear()

    faults.fail("sns", "Publish", SNS_THROTTLED, times=2)
    sns.publish(TopicArn=topic, Message="hello")  # a 429 is throttling: retried too
    assert faults.calls[("sns", "Publish")] == 9

    no_retries = _client("sns", NO_RETRIES)
    faults.fail("sns", "Publish", SNS_THROTTLED)
    with pytest.raises(no_retries.exceptions.ThrottledException):
        no_retries.publish(TopicArn=topic, Message="hello")


def test_s3_errors_use_rest_xml(faults: ServiceFaults) -> None:
    s3 = _client("s3", NO_RETRIES)
    s3.create_bucket(Bucket="lake")
    faults.fail("s3", "PutObject", ServiceError("SlowDown", 503, "Please reduce your rate"))
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket="lake", Key="k", Body=b"x")
    assert raised.value.response["Error"]["Code"] == "SlowDown"
    assert raised.value.response["Error"]["Message"] == "Please reduce your rate"
    s3.put_object(Bucket="lake", Key="k", Body=b"x")


def test_uninstalled_faults_let_every_call_through(faults: ServiceFaults) -> None:
    faults.fail("dynamodb", None, DYNAMODB_THROUGHPUT_EXCEEDED, times=None)
    faults.uninstall()
    dynamodb = _client("dynamodb", NO_RETRIES)
    _table(dynamodb, "entries")
    assert faults.calls == {}


def test_bad_rules_are_refused(faults: ServiceFaults) -> None:
    with pytest.raises(ValueError, match="not among"):
        faults.fail("pinpoint", None, SNS_THROTTLED)
    with pytest.raises(ValueError, match="times"):
        faults.fail("sns", None, SNS_THROTTLED, times=0)
