"""Create a resolved stack's resources in moto, in dependency order.

`RESOURCE_HANDLERS` is the explicit list of what the local cloud can build: one function
per CloudFormation type. A type missing from it stops the deployment with its name and
logical id, never silently. The CloudFormation -> boto3 shape conversions are pure
functions (`*_kwargs`, `*_attributes`) so they can be read and tested on their own.

Lambda functions and their SQS event source mappings go to the local runtime instead of
moto (moto's Lambda needs Docker). Rule targets must be SQS queues, event buses or log
groups: moto's `put_events` raises on Lambda/SNS/Step Functions/Kinesis targets, which is
why every service puts a queue between its rule and its function.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infra.local.response_url import ResponseUrl
from infra.local.runtime import (
    AwsClients,
    FunctionSpec,
    LocalRuntime,
    QueueSource,
    ScheduledJob,
    Target,
)
from infra.local.schedule import parse_schedule
from infra.local.template.naming import event_bus_name_of
from infra.local.template.stack import StackModel
from infra.local.template.translation import TranslatedTemplate

JsonDict = dict[str, Any]

# moto serves CloudWatch Logs on a host that a bucket named "logs" shadows in process.
_RESERVED_BUCKET_NAMES = frozenset({"logs"})
_RULE_TARGET_SERVICES = frozenset({"sqs", "events", "logs"})
_SCHEDULE_TARGET_SERVICES = frozenset({"sqs", "lambda", "events", "scheduler"})


class ResourceCreationError(RuntimeError):
    """A resource could not be created; the message names its logical id and type."""


@dataclass
class Deployment:
    """What `deploy` did: physical ids, and resources accepted without a moto counterpart."""

    physical_ids: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    custom_resource_responses: dict[str, JsonDict] = field(default_factory=dict)


@dataclass
class _Context:
    model: StackModel
    translated: TranslatedTemplate
    runtime: LocalRuntime
    clients: AwsClients
    deployment: Deployment

    def client(self, service: str) -> Any:
        return self.clients.client(service)


Handler = Callable[[_Context, str, JsonDict], None]


# The resource attributes CloudFormation knows besides Type and Properties, and the values
# of the two deletion policies (Snapshot only for types that take a snapshot).
_RESOURCE_ATTRIBUTES = frozenset(
    {
        "Type",
        "Properties",
        "DependsOn",
        "Condition",
        "Metadata",
        "DeletionPolicy",
        "UpdateReplacePolicy",
        "UpdatePolicy",
        "CreationPolicy",
    }
)
_DELETION_POLICIES = frozenset({"Delete", "Retain", "RetainExceptOnCreate", "Snapshot"})
_SNAPSHOT_TYPES = frozenset(
    {
        "AWS::EC2::Volume",
        "AWS::ElastiCache::CacheCluster",
        "AWS::ElastiCache::ReplicationGroup",
        "AWS::Neptune::DBCluster",
        "AWS::RDS::DBCluster",
        "AWS::RDS::DBInstance",
        "AWS::Redshift::Cluster",
        "AWS::DocDB::DBCluster",
    }
)


def resource_attribute_problems(logical_id: str, resource: JsonDict) -> list[str]:
    """What CloudFormation would refuse in a resource's attributes (not its properties)."""
    problems = [
        f"{logical_id}: unknown resource attribute {key}"
        for key in sorted(set(resource) - _RESOURCE_ATTRIBUTES)
    ]
    for attribute in ("DeletionPolicy", "UpdateReplacePolicy"):
        if attribute not in resource:
            continue
        value = resource[attribute]
        allowed = (
            _DELETION_POLICIES
            if attribute == "DeletionPolicy"
            else _DELETION_POLICIES - {"RetainExceptOnCreate"}
        )
        if value not in allowed:
            problems.append(f"{logical_id}: {attribute} {value!r} is not one of {sorted(allowed)}")
        elif value == "Snapshot" and resource.get("Type") not in _SNAPSHOT_TYPES:
            kind = resource.get("Type")
            problems.append(f"{logical_id}: {attribute} Snapshot, but {kind} has none")
    return problems


def _retention_note(resource: JsonDict) -> str | None:
    kept = [
        attribute
        for attribute in ("DeletionPolicy", "UpdateReplacePolicy")
        if resource.get(attribute) in ("Retain", "RetainExceptOnCreate", "Snapshot")
    ]
    if not kept:
        return None
    policies = ", ".join(f"{attribute} {resource[attribute]}" for attribute in kept)
    return f"{policies}: kept by CloudFormation; locally it ends with the cloud"


def deploy(
    model: StackModel, translated: TranslatedTemplate, runtime: LocalRuntime, clients: AwsClients
) -> Deployment:
    """Create every resource of `model`; fail fast, naming the resource, on the first error."""
    model.require_all_parameters()
    problems = [
        problem
        for logical_id, resource in model.resources.items()
        for problem in resource_attribute_problems(logical_id, resource)
    ]
    if problems:
        raise ResourceCreationError("; ".join(problems))
    order = model.creation_order()
    unsupported = [
        f"{logical_id} ({model.resource_type(logical_id)})"
        for logical_id in order
        if handler_for(model.resource_type(logical_id)) is None
    ]
    if unsupported:
        raise ResourceCreationError(
            "the local cloud cannot create these resource types: " + ", ".join(unsupported)
        )
    context = _Context(model, translated, runtime, clients, Deployment())
    for logical_id in order:
        resource_type = model.resource_type(logical_id)
        handler = handler_for(resource_type) or _unreachable
        try:
            handler(context, logical_id, model.properties(logical_id))
        except Exception as error:
            raise ResourceCreationError(f"{logical_id} ({resource_type}): {error}") from error
        context.deployment.physical_ids[logical_id] = model.physical_id(logical_id)
        note = _retention_note(model.resources[logical_id])
        if note is not None and logical_id not in context.deployment.notes:
            context.deployment.notes[logical_id] = note
    return context.deployment


def _unreachable(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    raise AssertionError(f"{logical_id}: no handler (checked before deploying)")


def handler_for(resource_type: str) -> Handler | None:
    if resource_type.startswith("Custom::"):
        return _custom_resource
    return RESOURCE_HANDLERS.get(resource_type)


# --------------------------------------------------------------------------- helpers


def _tags_list(properties: JsonDict) -> list[JsonDict]:
    tags = properties.get("Tags") or []
    if isinstance(tags, dict):
        return [{"Key": key, "Value": str(value)} for key, value in tags.items()]
    return [{"Key": tag["Key"], "Value": str(tag["Value"])} for tag in tags]


def _tags_map(properties: JsonDict) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in _tags_list(properties)}


def _flag(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _only(properties: JsonDict, *names: str) -> JsonDict:
    return {name: properties[name] for name in names if name in properties}


# --------------------------------------------------------------------------- SQS


_QUEUE_ATTRIBUTES = [
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "RedrivePolicy",
    "RedriveAllowPolicy",
]


def queue_attributes(properties: JsonDict) -> dict[str, str]:
    """CloudFormation queue properties -> SQS attribute strings."""
    attributes: dict[str, str] = {}
    for name in _QUEUE_ATTRIBUTES:
        if name in properties:
            value = properties[name]
            attributes[name] = json.dumps(value) if isinstance(value, dict) else _flag(value)
    return attributes


def _sqs_queue(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    ctx.client("sqs").create_queue(
        QueueName=ctx.model.physical_name(logical_id),
        Attributes=queue_attributes(properties),
        tags=_tags_map(properties),
    )


def _sqs_queue_policy(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    for queue_url in properties["Queues"]:
        ctx.client("sqs").set_queue_attributes(
            QueueUrl=queue_url, Attributes={"Policy": _json_text(properties["PolicyDocument"])}
        )


# --------------------------------------------------------------------------- SNS


def subscription_attributes(properties: JsonDict) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for name in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy", "ReplayPolicy"):
        if name in properties:
            attributes[name] = _json_text(properties[name])
    for name in ("FilterPolicyScope", "RawMessageDelivery", "SubscriptionRoleArn"):
        if name in properties:
            attributes[name] = _flag(properties[name])
    return attributes


def _sns_topic(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    sns = ctx.client("sns")
    attributes = {
        name: _flag(properties[name])
        for name in (
            "DisplayName",
            "KmsMasterKeyId",
            "FifoTopic",
            "ContentBasedDeduplication",
            "TracingConfig",
            "SignatureVersion",
        )
        if name in properties
    }
    topic_arn = sns.create_topic(
        Name=ctx.model.physical_name(logical_id), Attributes=attributes, Tags=_tags_list(properties)
    )["TopicArn"]
    for subscription in properties.get("Subscription") or []:
        _check_sns_protocol(subscription["Protocol"])
        sns.subscribe(
            TopicArn=topic_arn, Protocol=subscription["Protocol"], Endpoint=subscription["Endpoint"]
        )


def _check_sns_protocol(protocol: str) -> None:
    if protocol == "lambda":
        raise ResourceCreationError(
            "SNS -> Lambda subscriptions need Docker in moto; subscribe an SQS queue that "
            "feeds the function instead"
        )


def _sns_subscription(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    _check_sns_protocol(properties["Protocol"])
    arn = ctx.client("sns").subscribe(
        TopicArn=properties["TopicArn"],
        Protocol=properties["Protocol"],
        Endpoint=properties["Endpoint"],
        Attributes=subscription_attributes(properties),
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    ctx.model.record_identity(logical_id, ref=arn)


def _sns_topic_policy(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    for topic_arn in properties["Topics"]:
        ctx.client("sns").set_topic_attributes(
            TopicArn=topic_arn,
            AttributeName="Policy",
            AttributeValue=_json_text(properties["PolicyDocument"]),
        )


# --------------------------------------------------------------------------- S3


def bucket_notification_configuration(properties: JsonDict) -> JsonDict:
    """CloudFormation NotificationConfiguration -> put_bucket_notification_configuration."""
    source = properties.get("NotificationConfiguration") or {}
    result: JsonDict = {}
    if (source.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled") in (True, "true"):
        result["EventBridgeConfiguration"] = {}
    for cfn_key, boto_key, arn_key in (
        ("QueueConfigurations", "QueueConfigurations", "Queue"),
        ("TopicConfigurations", "TopicConfigurations", "Topic"),
    ):
        configurations = []
        for item in source.get(cfn_key) or []:
            configuration: JsonDict = {f"{arn_key}Arn": item[arn_key], "Events": [item["Event"]]}
            rules = ((item.get("Filter") or {}).get("S3Key") or {}).get("Rules")
            if rules:
                configuration["Filter"] = {"Key": {"FilterRules": rules}}
            configurations.append(configuration)
        if configurations:
            result[boto_key] = configurations
    if source.get("LambdaConfigurations"):
        raise ResourceCreationError(
            "S3 -> Lambda notifications need Docker in moto; use EventBridgeConfiguration "
            "and a rule -> queue -> function instead"
        )
    return result


def bucket_encryption(properties: JsonDict) -> JsonDict:
    """CloudFormation BucketEncryption -> put_bucket_encryption's configuration."""
    rules = []
    for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]:
        converted = _only(rule, "BucketKeyEnabled")
        if "ServerSideEncryptionByDefault" in rule:
            converted["ApplyServerSideEncryptionByDefault"] = rule["ServerSideEncryptionByDefault"]
        rules.append(converted)
    return {"Rules": rules}


def lifecycle_rules(properties: JsonDict) -> list[JsonDict]:
    """CloudFormation LifecycleConfiguration rules -> the S3 API's rule shape."""
    rules = []
    for rule in (properties.get("LifecycleConfiguration") or {}).get("Rules") or []:
        converted: JsonDict = {
            "Status": rule["Status"],
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "Id" in rule:
            converted["ID"] = rule["Id"]
        if "ExpirationInDays" in rule:
            converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
        if "AbortIncompleteMultipartUpload" in rule:
            converted["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        if "NoncurrentVersionExpirationInDays" in rule:
            days = int(rule["NoncurrentVersionExpirationInDays"])
            converted["NoncurrentVersionExpiration"] = {"NoncurrentDays": days}
        if "NoncurrentVersionExpiration" in rule:
            converted["NoncurrentVersionExpiration"] = rule["NoncurrentVersionExpiration"]
        if "Transitions" in rule:
            converted["Transitions"] = [
                {"StorageClass": item["StorageClass"], "Days": int(item["TransitionInDays"])}
                for item in rule["Transitions"]
            ]
        rules.append(converted)
    return rules


def bucket_logging_status(properties: JsonDict) -> JsonDict:
    """CloudFormation LoggingConfiguration -> put_bucket_logging's BucketLoggingStatus."""
    source = properties["LoggingConfiguration"]
    if "DestinationBucketName" not in source:
        return {}  # CloudFormation logs to the bucket itself; not worth emulating
    return {
        "LoggingEnabled": {
            "TargetBucket": source["DestinationBucketName"],
            "TargetPrefix": source.get("LogFilePrefix", ""),
        }
    }


def _s3_bucket(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    s3 = ctx.client("s3")
    name = ctx.model.physical_name(logical_id)
    if name in _RESERVED_BUCKET_NAMES:
        raise ResourceCreationError(f"bucket name {name!r} clashes with moto's in-process hosts")
    location = (
        {}
        if ctx.model.settings.region == "us-east-1"
        else {"CreateBucketConfiguration": {"LocationConstraint": ctx.model.settings.region}}
    )
    s3.create_bucket(Bucket=name, **location)
    if "BucketEncryption" in properties:
        s3.put_bucket_encryption(
            Bucket=name, ServerSideEncryptionConfiguration=bucket_encryption(properties)
        )
    if "PublicAccessBlockConfiguration" in properties:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
        )
    if "VersioningConfiguration" in properties:
        s3.put_bucket_versioning(
            Bucket=name, VersioningConfiguration=properties["VersioningConfiguration"]
        )
    if "LoggingConfiguration" in properties:
        s3.put_bucket_logging(Bucket=name, BucketLoggingStatus=bucket_logging_status(properties))
    if rules := lifecycle_rules(properties):
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    if notification := bucket_notification_configuration(properties):
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration=notification
        )
    if tags := _tags_list(properties):
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})


def enforceable_bucket_policy(document: JsonDict) -> tuple[JsonDict, int]:
    """The policy without its conditional Deny statements, and how many were dropped.

    moto enforces a bucket policy's Deny statements but ignores their Conditions, so a
    "deny unless TLS" statement would deny every request. Those statements are checked by
    the template's security tests instead of locally.
    """
    statements = document.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    kept = [s for s in statements if not (s.get("Effect") == "Deny" and s.get("Condition"))]
    return {**document, "Statement": kept}, len(statements) - len(kept)


def _s3_bucket_policy(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    document, dropped = enforceable_bucket_policy(properties["PolicyDocument"])
    if dropped:
        ctx.deployment.notes[logical_id] = (
            f"{dropped} conditional Deny statement(s) not applied: moto ignores conditions"
        )
    ctx.client("s3").put_bucket_policy(Bucket=properties["Bucket"], Policy=_json_text(document))


# --------------------------------------------------------------------------- DynamoDB


def dynamodb_table_kwargs(name: str, properties: JsonDict) -> JsonDict:
    """CloudFormation table properties -> create_table arguments."""
    billing = properties.get("BillingMode", "PROVISIONED")
    kwargs: JsonDict = {
        "TableName": name,
        "KeySchema": properties["KeySchema"],
        "AttributeDefinitions": properties["AttributeDefinitions"],
        "BillingMode": billing,
    }
    if billing == "PROVISIONED":
        kwargs["ProvisionedThroughput"] = _throughput(properties["ProvisionedThroughput"])
    indexes = []
    for index in properties.get("GlobalSecondaryIndexes") or []:
        converted = _only(index, "IndexName", "KeySchema", "Projection")
        if billing == "PROVISIONED":
            converted["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
        indexes.append(converted)
    if indexes:
        kwargs["GlobalSecondaryIndexes"] = indexes
    if "LocalSecondaryIndexes" in properties:
        kwargs["LocalSecondaryIndexes"] = properties["LocalSecondaryIndexes"]
    if "StreamSpecification" in properties:
        view = properties["StreamSpecification"]["StreamViewType"]
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    if "SSESpecification" in properties:
        sse = properties["SSESpecification"]
        kwargs["SSESpecification"] = {
            "Enabled": sse.get("SSEEnabled") in (True, "true"),
            **_only(sse, "SSEType", "KMSMasterKeyId"),
        }
    if "TableClass" in properties:
        kwargs["TableClass"] = properties["TableClass"]
    if "DeletionProtectionEnabled" in properties:
        kwargs["DeletionProtectionEnabled"] = properties["DeletionProtectionEnabled"] in (
            True,
            "true",
        )
    if tags := _tags_list(properties):
        kwargs["Tags"] = tags
    return kwargs


def _throughput(value: JsonDict) -> JsonDict:
    return {key: int(value[key]) for key in ("ReadCapacityUnits", "WriteCapacityUnits")}


def _dynamodb_table(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    dynamodb = ctx.client("dynamodb")
    name = ctx.model.physical_name(logical_id)
    table = dynamodb.create_table(**dynamodb_table_kwargs(name, properties))["TableDescription"]
    if "LatestStreamArn" in table:
        ctx.model.record_identity(logical_id, attributes={"StreamArn": table["LatestStreamArn"]})
    pitr = properties.get("PointInTimeRecoverySpecification") or {}
    if pitr.get("PointInTimeRecoveryEnabled") in (True, "true"):
        dynamodb.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
    ttl = properties.get("TimeToLiveSpecification") or {}
    if ttl.get("Enabled") in (True, "true"):
        dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )


# --------------------------------------------------------------------------- EventBridge


def _event_bus(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    ctx.client("events").create_event_bus(
        Name=ctx.model.physical_name(logical_id),
        **_only(properties, "Description", "KmsKeyIdentifier", "DeadLetterConfig"),
        Tags=_tags_list(properties),
    )


def rule_target(target: JsonDict) -> Target:
    transformer = target.get("InputTransformer")
    return Target(
        arn=target["Arn"],
        input=target.get("Input"),
        input_path=target.get("InputPath"),
        input_transformer=transformer,
        message_group_id=(target.get("SqsParameters") or {}).get("MessageGroupId"),
    )


def _target_service(arn: str) -> str:
    return arn.split(":", 3)[2]


def _event_rule(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    events = ctx.client("events")
    name = ctx.model.physical_name(logical_id)
    bus = event_bus_name_of(properties.get("EventBusName"))
    rule_arn = ctx.model.attribute(logical_id, "Arn")
    state = properties.get("State", "ENABLED")
    rule_kwargs = _only(properties, "Description", "ScheduleExpression", "RoleArn")
    if "EventPattern" in properties:
        rule_kwargs["EventPattern"] = _json_text(properties["EventPattern"])
    events.put_rule(Name=name, EventBusName=bus, State=state, **rule_kwargs)
    targets = properties.get("Targets") or []
    if "ScheduleExpression" in properties:
        # moto treats a rule without a pattern as matching every event on its bus, so a
        # scheduled rule's targets stay with the runtime, which fires them on the clock.
        _check_targets(targets, _SCHEDULE_TARGET_SERVICES, "scheduled rule")
        if state == "ENABLED":
            ctx.runtime.register_job(
                ScheduledJob(
                    name=name,
                    arn=rule_arn,
                    schedule=parse_schedule(
                        properties["ScheduleExpression"], start=ctx.runtime.clock.now()
                    ),
                    targets=[rule_target(target) for target in targets],
                )
            )
        return
    _check_targets(targets, _RULE_TARGET_SERVICES, "rule")
    if targets:
        events.put_targets(
            Rule=name, EventBusName=bus, Targets=[_without_log_stream_wildcard(t) for t in targets]
        )


def _without_log_stream_wildcard(target: JsonDict) -> JsonDict:
    # A log group's GetAtt Arn ends in ":*", which AWS accepts as a target and moto does not.
    arn = str(target["Arn"])
    if _target_service(arn) == "logs" and arn.endswith(":*"):
        return {**target, "Arn": arn.removesuffix(":*")}
    return target


def _check_targets(targets: list[JsonDict], allowed: frozenset[str], what: str) -> None:
    for target in targets:
        service = _target_service(target["Arn"])
        if service not in allowed:
            raise ResourceCreationError(
                f"{what} target {target['Arn']}: the local cloud delivers only to "
                f"{', '.join(sorted(allowed))} targets (moto's put_events raises on the others); "
                "put an SQS queue between the rule and a function"
            )


def _event_archive(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    kwargs = _only(properties, "Description", "RetentionDays")
    if "EventPattern" in properties:
        kwargs["EventPattern"] = _json_text(properties["EventPattern"])
    ctx.client("events").create_archive(
        ArchiveName=ctx.model.physical_name(logical_id),
        EventSourceArn=properties["SourceArn"],
        **kwargs,
    )


# --------------------------------------------------------------------------- Lambda


def _lambda_function(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    code_path = ctx.translated.code_paths.get(logical_id)
    if code_path is None:
        raise ResourceCreationError(
            "the local cloud runs functions from a local CodeUri only (not S3 or inline code)"
        )
    name = ctx.model.physical_name(logical_id)
    log_group = (properties.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}"
    ctx.runtime.register_function(
        FunctionSpec(
            logical_id=logical_id,
            name=name,
            arn=ctx.model.attribute(logical_id, "Arn"),
            handler=properties["Handler"],
            code_path=code_path,
            environment={
                key: str(value)
                for key, value in (
                    (properties.get("Environment") or {}).get("Variables") or {}
                ).items()
            },
            timeout_seconds=int(properties.get("Timeout", 3)),
            memory_mb=int(properties.get("MemorySize", 128)),
            log_group_name=log_group,
        )
    )


def _event_source_mapping(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    source_arn = str(properties.get("EventSourceArn", ""))
    if _target_service(source_arn) != "sqs":
        raise ResourceCreationError(
            f"event source {source_arn}: the local runtime pumps SQS queues only"
        )
    _, _, _, region, account, queue_name = source_arn.split(":", 5)
    ctx.runtime.register_queue_source(
        QueueSource(
            logical_id=logical_id,
            queue_arn=source_arn,
            queue_url=f"https://sqs.{region}.amazonaws.com/{account}/{queue_name}",
            function_name=str(properties["FunctionName"]),
            batch_size=int(properties.get("BatchSize", 10)),
            batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures"
            in (properties.get("FunctionResponseTypes") or []),
            enabled=properties.get("Enabled", True) in (True, "true"),
        )
    )


def _custom_resource(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    """Send the backing function a CloudFormation Create request and keep its answer.

    The answer is what the function PUTs to the request's ResponseURL (a receiver on
    localhost, see `infra.local.response_url`), or else the handler's return value.
    """
    with ResponseUrl() as receiver:
        request = {
            "RequestType": "Create",
            "ServiceToken": properties["ServiceToken"],
            "ResponseURL": receiver.url,
            "StackId": ctx.model.resolve({"Ref": "AWS::StackId"}),
            "RequestId": f"{logical_id}-create",
            "LogicalResourceId": logical_id,
            "ResourceType": ctx.model.resource_type(logical_id),
            "ResourceProperties": properties,
        }
        returned = ctx.runtime.invoke(properties["ServiceToken"], request)
        response = receiver.response() or returned
    if not isinstance(response, dict) or "Status" not in response:
        raise ResourceCreationError("the custom resource's function sent no response")
    if response["Status"] != "SUCCESS":
        raise ResourceCreationError(f"custom resource failed: {response.get('Reason')}")
    ctx.deployment.custom_resource_responses[logical_id] = response
    ctx.model.record_identity(
        logical_id,
        ref=str(response.get("PhysicalResourceId") or f"{logical_id}-local"),
        attributes=response.get("Data") or {},
    )


def _lambda_permission(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    ctx.deployment.notes[logical_id] = "Lambda permissions are not enforced locally"


# --------------------------------------------------------------------------- IAM


def policy_text(document: Any) -> str:
    """IAM accepts a policy without Version (SAM's policy templates have none); moto does
    not, so the current version is filled in."""
    if isinstance(document, dict) and "Version" not in document:
        document = {"Version": "2012-10-17", **document}
    return _json_text(document)


def _iam_role(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    iam = ctx.client("iam")
    name = ctx.model.physical_name(logical_id)
    role = iam.create_role(
        RoleName=name,
        Path=properties.get("Path", "/"),
        AssumeRolePolicyDocument=policy_text(properties["AssumeRolePolicyDocument"]),
        **_only(properties, "Description", "MaxSessionDuration"),
        Tags=_tags_list(properties),
    )["Role"]
    ctx.model.record_identity(logical_id, attributes={"Arn": role["Arn"], "RoleId": role["RoleId"]})
    for policy in properties.get("Policies") or []:
        iam.put_role_policy(
            RoleName=name,
            PolicyName=policy["PolicyName"],
            PolicyDocument=policy_text(policy["PolicyDocument"]),
        )
    skipped = []
    for policy_arn in properties.get("ManagedPolicyArns") or []:
        try:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        except iam.exceptions.NoSuchEntityException:
            if ":iam::aws:policy/" not in policy_arn:
                raise
            skipped.append(policy_arn.rsplit("/", 1)[-1])
    if skipped:
        # moto knows AWS managed policies only with MOTO_IAM_LOAD_MANAGED_POLICIES=true,
        # which costs over a second per local cloud; the names are kept here instead.
        ctx.deployment.notes[logical_id] = "AWS managed policies not attached: " + ", ".join(
            skipped
        )


def _iam_policy(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    for role in properties.get("Roles") or []:
        ctx.client("iam").put_role_policy(
            RoleName=role,
            PolicyName=properties["PolicyName"],
            PolicyDocument=policy_text(properties["PolicyDocument"]),
        )


def _iam_managed_policy(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    iam = ctx.client("iam")
    arn = iam.create_policy(
        PolicyName=ctx.model.physical_name(logical_id),
        Path=properties.get("Path", "/"),
        PolicyDocument=policy_text(properties["PolicyDocument"]),
        **_only(properties, "Description"),
    )["Policy"]["Arn"]
    for role in properties.get("Roles") or []:
        iam.attach_role_policy(RoleName=role, PolicyArn=arn)


# --------------------------------------------------------------------------- the rest


def _log_group(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    logs = ctx.client("logs")
    name = ctx.model.physical_name(logical_id)
    logs.create_log_group(
        logGroupName=name,
        tags=_tags_map(properties),
        **({"kmsKeyId": properties["KmsKeyId"]} if "KmsKeyId" in properties else {}),
    )
    if "RetentionInDays" in properties:
        logs.put_retention_policy(
            logGroupName=name, retentionInDays=int(properties["RetentionInDays"])
        )


def _glue_database(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    database_input = {**properties["DatabaseInput"], "Name": ctx.model.physical_name(logical_id)}
    ctx.client("glue").create_database(
        CatalogId=str(properties.get("CatalogId", ctx.model.settings.account_id)),
        DatabaseInput=database_input,
    )


def _glue_table(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    table_input = {**properties["TableInput"], "Name": ctx.model.physical_name(logical_id)}
    ctx.client("glue").create_table(
        CatalogId=str(properties.get("CatalogId", ctx.model.settings.account_id)),
        DatabaseName=properties["DatabaseName"],
        TableInput=table_input,
    )


def work_group_configuration(properties: JsonDict) -> JsonDict:
    """CloudFormation WorkGroupConfiguration -> create_work_group's Configuration."""
    configuration = dict(properties.get("WorkGroupConfiguration") or {})
    if "BytesScannedCutoffPerQuery" in configuration:
        # A Number parameter resolves to text; the API takes an integer.
        configuration["BytesScannedCutoffPerQuery"] = int(
            configuration["BytesScannedCutoffPerQuery"]
        )
    return configuration


def _athena_work_group(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    configuration = work_group_configuration(properties)
    ctx.client("athena").create_work_group(
        Name=ctx.model.physical_name(logical_id),
        Configuration=configuration,
        **_only(properties, "Description"),
        Tags=_tags_list(properties),
    )
    if "BytesScannedCutoffPerQuery" in configuration:
        ctx.deployment.notes[logical_id] = (
            "BytesScannedCutoffPerQuery stored, not enforced: DuckDB reports no bytes scanned"
        )


def _cloudtrail_trail(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    cloudtrail = ctx.client("cloudtrail")
    name = ctx.model.physical_name(logical_id)
    cloudtrail.create_trail(
        Name=name,
        **_only(
            properties,
            "S3BucketName",
            "S3KeyPrefix",
            "SnsTopicName",
            "IncludeGlobalServiceEvents",
            "IsMultiRegionTrail",
            "EnableLogFileValidation",
            "CloudWatchLogsLogGroupArn",
            "CloudWatchLogsRoleArn",
            "KmsKeyId",
            "IsOrganizationTrail",
        ),
        TagsList=_tags_list(properties),
    )
    selectors = _only(properties, "EventSelectors", "AdvancedEventSelectors")
    if selectors:
        cloudtrail.put_event_selectors(TrailName=name, **selectors)
    if properties.get("IsLogging") in (True, "true"):
        cloudtrail.start_logging(Name=name)


def _scheduler_schedule_group(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    ctx.client("scheduler").create_schedule_group(
        Name=ctx.model.physical_name(logical_id), Tags=_tags_list(properties)
    )


def _scheduler_schedule(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    """Stored in moto's Scheduler; `infra/local/scheduler.py` fires what moto holds."""
    target = properties["Target"]
    _check_targets([target], _SCHEDULE_TARGET_SERVICES, "schedule")
    dates = {
        key: datetime.fromisoformat(str(properties[key]).replace("Z", "+00:00"))
        for key in ("StartDate", "EndDate")
        if key in properties
    }
    ctx.client("scheduler").create_schedule(
        Name=ctx.model.physical_name(logical_id),
        ScheduleExpression=properties["ScheduleExpression"],
        FlexibleTimeWindow=properties["FlexibleTimeWindow"],
        Target=target,
        **_only(
            properties,
            "GroupName",
            "ScheduleExpressionTimezone",
            "State",
            "Description",
            "ActionAfterCompletion",
            "KmsKeyArn",
        ),
        **dates,
    )


def _kms_key(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    kms = ctx.client("kms")
    kwargs = _only(properties, "Description", "KeyUsage", "KeySpec", "MultiRegion")
    if "KeyPolicy" in properties:
        kwargs["Policy"] = _json_text(properties["KeyPolicy"])
    tags = [{"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in _tags_list(properties)]
    key = kms.create_key(**kwargs, Tags=tags)["KeyMetadata"]
    ctx.model.record_identity(
        logical_id, ref=key["KeyId"], attributes={"Arn": key["Arn"], "KeyId": key["KeyId"]}
    )
    if properties.get("EnableKeyRotation") in (True, "true"):
        kms.enable_key_rotation(KeyId=key["KeyId"])


def _cloudwatch_alarm(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    """Stored in moto's CloudWatch (which keeps alarms but never evaluates them), so a test
    can read what would page an operator."""
    name = properties.get("AlarmName") or ctx.model.physical_name(logical_id)
    kwargs = _only(
        properties,
        "AlarmDescription",
        "Namespace",
        "MetricName",
        "Dimensions",
        "Statistic",
        "Period",
        "EvaluationPeriods",
        "Threshold",
        "ComparisonOperator",
        "TreatMissingData",
        "AlarmActions",
        "OKActions",
    )
    for number in ("Period", "EvaluationPeriods"):
        if number in kwargs:
            kwargs[number] = int(kwargs[number])
    if "Threshold" in kwargs:
        kwargs["Threshold"] = float(kwargs["Threshold"])
    cloudwatch = ctx.client("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName=name, **kwargs)
    alarm = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    ctx.model.record_identity(logical_id, ref=name, attributes={"Arn": alarm["AlarmArn"]})


def _kms_alias(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
    ctx.client("kms").create_alias(
        AliasName=ctx.model.physical_name(logical_id), TargetKeyId=properties["TargetKeyId"]
    )


def _noted(note: str) -> Handler:
    def accept(ctx: _Context, logical_id: str, properties: JsonDict) -> None:
        ctx.deployment.notes[logical_id] = note

    return accept


RESOURCE_HANDLERS: Mapping[str, Handler] = {
    "AWS::S3::Bucket": _s3_bucket,
    "AWS::S3::BucketPolicy": _s3_bucket_policy,
    "AWS::DynamoDB::Table": _dynamodb_table,
    "AWS::SQS::Queue": _sqs_queue,
    "AWS::SQS::QueuePolicy": _sqs_queue_policy,
    "AWS::SNS::Topic": _sns_topic,
    "AWS::SNS::Subscription": _sns_subscription,
    "AWS::SNS::TopicPolicy": _sns_topic_policy,
    "AWS::Events::EventBus": _event_bus,
    "AWS::Events::Rule": _event_rule,
    "AWS::Events::Archive": _event_archive,
    "AWS::Events::EventBusPolicy": _noted(
        "moto does not evaluate EventBridge bus policies: the Deny on internal sources and "
        "detail-types is not enforced locally; consumers still refuse a fact whose source is "
        "not its producer's"
    ),
    "AWS::Lambda::Function": _lambda_function,
    "AWS::Lambda::EventSourceMapping": _event_source_mapping,
    "AWS::Lambda::Permission": _lambda_permission,
    "AWS::IAM::Role": _iam_role,
    "AWS::IAM::Policy": _iam_policy,
    "AWS::IAM::ManagedPolicy": _iam_managed_policy,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::Glue::Database": _glue_database,
    "AWS::Glue::Table": _glue_table,
    "AWS::Athena::WorkGroup": _athena_work_group,
    "AWS::CloudTrail::Trail": _cloudtrail_trail,
    "AWS::Scheduler::ScheduleGroup": _scheduler_schedule_group,
    "AWS::Scheduler::Schedule": _scheduler_schedule,
    "AWS::KMS::Key": _kms_key,
    "AWS::CloudWatch::Alarm": _cloudwatch_alarm,
    "AWS::KMS::Alias": _kms_alias,
    "AWS::CloudFormation::CustomResource": _custom_resource,
    # X-Ray groups and sampling rules only shape what the X-Ray console shows.
    "AWS::XRay::Group": _noted("X-Ray groups are not needed to record traces locally"),
    "AWS::XRay::SamplingRule": _noted("X-Ray sampling rules are not applied locally"),
    "AWS::XRay::ResourcePolicy": _noted("X-Ray resource policies are not enforced locally"),
    # moto has no schema registry; the committed JSON Schemas are the local source of truth.
    "AWS::EventSchemas::Registry": _noted("moto has no EventBridge schema registry"),
    "AWS::EventSchemas::Schema": _noted("moto has no EventBridge schema registry"),
    "AWS::EventSchemas::Discoverer": _noted("moto has no EventBridge schema registry"),
    "AWS::EventSchemas::RegistryPolicy": _noted("moto has no EventBridge schema registry"),
}
