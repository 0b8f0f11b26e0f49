"""Physical names, ARNs and what `Ref` and `Fn::GetAtt` return, per resource type.

CloudFormation names a resource the template leaves unnamed `<stack>-<LogicalId>-<SUFFIX>`
and gives each type its own Ref value (a queue's URL, a topic's ARN, a bucket's name...).
These rules are pure: given the stack's account and region (`StackSettings`), a name and
the resource's resolved properties, they compute the identity before anything exists.
The suffix is a stable hash, so reruns produce the same names.
"""

from __future__ import annotations

import hashlib
import string
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StackSettings:
    """The stack's name and the account, region and partition it is deployed in."""

    stack_name: str = "pinpoint-lake"
    region: str = "us-east-1"
    account_id: str = "123456789012"
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"


def stable_suffix(*parts: str, length: int = 13) -> str:
    """CloudFormation's random name suffix, made repeatable from a hash of `parts`."""
    alphabet = string.ascii_uppercase + string.digits
    number = int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest(), "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)


def stable_uuid(*parts: str) -> str:
    return str(uuid.UUID(bytes=hashlib.sha256("/".join(parts).encode()).digest()[:16], version=4))


def generated_name(
    stack_name: str, logical_id: str, *, max_length: int, lowercase: bool = False, suffix: str = ""
) -> str:
    """`<stack>-<LogicalId>-<SUFFIX>` trimmed to the type's length limit, like CloudFormation."""
    random_part = stable_suffix(stack_name, logical_id)
    room = max_length - len(random_part) - len(suffix) - 1
    name = f"{stack_name}-{logical_id}"[:room] + "-" + random_part + suffix
    return name.lower() if lowercase else name


@dataclass(frozen=True)
class Identity:
    """What `Ref` and `Fn::GetAtt` return for one resource."""

    ref: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IdentityInputs:
    """What a naming rule is given about one resource."""

    logical_id: str
    name: str
    region: str
    account_id: str
    partition: str
    url_suffix: str
    prop: Callable[[str], Any]  # resolved property value (None when absent)

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account_id if account else ''}:{resource}"
        )


@dataclass(frozen=True)
class NamingRule:
    """How a resource type is named and what its Ref and GetAtt return."""

    name_property: tuple[str, ...] | None  # property path of a template-chosen name
    max_length: int = 64
    lowercase: bool = False
    identity: Callable[[IdentityInputs], Identity] = lambda i: Identity(i.name)
    name_suffix: Callable[[IdentityInputs], str] = lambda _: ""


def _queue(i: IdentityInputs) -> Identity:
    url = f"https://sqs.{i.region}.{i.url_suffix}/{i.account_id}/{i.name}"
    arn = i.arn("sqs", i.name)
    return Identity(url, {"Arn": arn, "QueueName": i.name, "QueueUrl": url})


def _topic(i: IdentityInputs) -> Identity:
    arn = i.arn("sns", i.name)
    return Identity(arn, {"TopicArn": arn, "TopicName": i.name})


def _bucket(i: IdentityInputs) -> Identity:
    return Identity(
        i.name,
        {
            "Arn": i.arn("s3", i.name, region=False, account=False),
            "DomainName": f"{i.name}.s3.{i.url_suffix}",
            "RegionalDomainName": f"{i.name}.s3.{i.region}.{i.url_suffix}",
            "DualStackDomainName": f"{i.name}.s3.dualstack.{i.region}.{i.url_suffix}",
            "WebsiteURL": f"http://{i.name}.s3-website-{i.region}.{i.url_suffix}",
        },
    )


def _table(i: IdentityInputs) -> Identity:
    arn = i.arn("dynamodb", f"table/{i.name}")
    # The real stream label is a timestamp known after creation; resources.py records it.
    return Identity(i.name, {"Arn": arn, "StreamArn": f"{arn}/stream/local"})


def event_bus_name_of(bus: Any) -> str:
    """EventBusName properties take a name or an ARN."""
    if not bus:
        return "default"
    return str(bus).rsplit("event-bus/", 1)[-1]


def _rule(i: IdentityInputs) -> Identity:
    bus = event_bus_name_of(i.prop("EventBusName"))
    if bus == "default":
        return Identity(i.name, {"Arn": i.arn("events", f"rule/{i.name}")})
    # On a custom bus CloudFormation's Ref is "<bus>|<rule>".
    return Identity(f"{bus}|{i.name}", {"Arn": i.arn("events", f"rule/{bus}/{i.name}")})


def _arn_identity(service: str, prefix: str, *attribute_names: str) -> Callable[..., Identity]:
    def identity(i: IdentityInputs) -> Identity:
        arn = i.arn(service, f"{prefix}{i.name}")
        return Identity(i.name, dict.fromkeys(attribute_names or ("Arn",), arn))

    return identity


def _arn_ref(
    service: str, prefix: str, arn_attribute: str, name_attribute: str
) -> Callable[..., Identity]:
    def identity(i: IdentityInputs) -> Identity:
        arn = i.arn(service, f"{prefix}{i.name}")
        return Identity(arn, {arn_attribute: arn, name_attribute: i.name})

    return identity


def _bus(i: IdentityInputs) -> Identity:
    return Identity(i.name, {"Arn": i.arn("events", f"event-bus/{i.name}"), "Name": i.name})


def _role(i: IdentityInputs) -> Identity:
    path = i.prop("Path") or "/"
    return Identity(
        i.name,
        {
            "Arn": i.arn("iam", f"role{path}{i.name}", region=False),
            "RoleId": "AROA" + stable_suffix(i.logical_id, i.name, length=17),
        },
    )


def _managed_policy(i: IdentityInputs) -> Identity:
    arn = i.arn("iam", f"policy{i.prop('Path') or '/'}{i.name}", region=False)
    return Identity(arn, {"PolicyArn": arn})


def _log_group(i: IdentityInputs) -> Identity:
    return Identity(i.name, {"Arn": i.arn("logs", f"log-group:{i.name}:*")})


def _event_source_mapping(i: IdentityInputs) -> Identity:
    mapping_id = stable_uuid(i.logical_id, i.name)
    arn = i.arn("lambda", f"event-source-mapping:{mapping_id}")
    return Identity(mapping_id, {"Id": mapping_id, "EventSourceMappingArn": arn})


def _kms_key(i: IdentityInputs) -> Identity:
    key_id = stable_uuid(i.logical_id, i.name)  # moto's real id is recorded after creation
    return Identity(key_id, {"Arn": i.arn("kms", f"key/{key_id}"), "KeyId": key_id})


def _schedule(i: IdentityInputs) -> Identity:
    group = i.prop("GroupName") or "default"
    return Identity(i.name, {"Arn": i.arn("scheduler", f"schedule/{group}/{i.name}")})


def _schema(i: IdentityInputs) -> Identity:
    arn = i.arn("schemas", f"schema/{i.prop('RegistryName')}/{i.name}")
    return Identity(arn, {"SchemaArn": arn, "SchemaName": i.name, "SchemaVersion": "1"})


def _fifo(property_name: str, suffix: str) -> Callable[[IdentityInputs], str]:
    return lambda i: suffix if str(i.prop(property_name)).lower() == "true" else ""


_NO_NAME = NamingRule(name_property=None)

NAMING_RULES: Mapping[str, NamingRule] = {
    "AWS::SQS::Queue": NamingRule(
        ("QueueName",), 80, identity=_queue, name_suffix=_fifo("FifoQueue", ".fifo")
    ),
    "AWS::SNS::Topic": NamingRule(
        ("TopicName",), 256, identity=_topic, name_suffix=_fifo("FifoTopic", ".fifo")
    ),
    "AWS::S3::Bucket": NamingRule(("BucketName",), 63, lowercase=True, identity=_bucket),
    "AWS::DynamoDB::Table": NamingRule(("TableName",), 255, identity=_table),
    "AWS::Events::EventBus": NamingRule(("Name",), 256, identity=_bus),
    "AWS::Events::Rule": NamingRule(("Name",), 64, identity=_rule),
    "AWS::Events::Archive": NamingRule(
        ("ArchiveName",), 48, identity=_arn_identity("events", "archive/")
    ),
    "AWS::Lambda::Function": NamingRule(
        ("FunctionName",), 64, identity=_arn_identity("lambda", "function:")
    ),
    "AWS::Lambda::EventSourceMapping": NamingRule(None, identity=_event_source_mapping),
    "AWS::IAM::Role": NamingRule(("RoleName",), 64, identity=_role),
    "AWS::IAM::Policy": NamingRule(("PolicyName",), 128),
    "AWS::IAM::ManagedPolicy": NamingRule(("ManagedPolicyName",), 128, identity=_managed_policy),
    "AWS::Logs::LogGroup": NamingRule(("LogGroupName",), 512, identity=_log_group),
    "AWS::Glue::Database": NamingRule(("DatabaseInput", "Name"), 255, lowercase=True),
    "AWS::Glue::Table": NamingRule(("TableInput", "Name"), 255, lowercase=True),
    "AWS::Athena::WorkGroup": NamingRule(("Name",), 128),
    "AWS::CloudTrail::Trail": NamingRule(
        ("TrailName",), 128, identity=_arn_identity("cloudtrail", "trail/")
    ),
    "AWS::Scheduler::Schedule": NamingRule(("Name",), 64, identity=_schedule),
    "AWS::Scheduler::ScheduleGroup": NamingRule(
        ("Name",), 64, identity=_arn_identity("scheduler", "schedule-group/")
    ),
    "AWS::KMS::Key": NamingRule(None, identity=_kms_key),
    "AWS::KMS::Alias": NamingRule(("AliasName",), 256),
    "AWS::EventSchemas::Registry": NamingRule(
        ("RegistryName",),
        64,
        identity=_arn_ref("schemas", "registry/", "RegistryArn", "RegistryName"),
    ),
    "AWS::EventSchemas::Schema": NamingRule(("SchemaName",), 385, identity=_schema),
    "AWS::EventSchemas::Discoverer": NamingRule(
        None, identity=_arn_ref("schemas", "discoverer/", "DiscovererArn", "DiscovererId")
    ),
    "AWS::XRay::Group": NamingRule(
        ("GroupName",), 32, identity=_arn_ref("xray", "group/", "GroupARN", "GroupName")
    ),
}


def naming_rule(resource_type: str) -> NamingRule:
    return NAMING_RULES.get(resource_type, _NO_NAME)
