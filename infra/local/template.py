"""Read a SAM template the way CloudFormation would, without an AWS account.

Three pure steps, each usable on its own:

* `load_template` parses YAML with CloudFormation's short tags (`!Ref`, `!GetAtt`, `!Sub`...)
  into the long JSON form (`{"Ref": ...}`, `{"Fn::GetAtt": [...]}`).
* `translate_sam` expands `AWS::Serverless::*` into plain CloudFormation with the SAM
  translator, offline, remembering each function's local `CodeUri`.
* `StackModel` resolves parameters, conditions, pseudo parameters and intrinsic functions,
  and gives every resource the physical id and attributes CloudFormation would give it
  (`<stack>-<LogicalId>-<SUFFIX>` names, queue URLs for a queue's `Ref`, ARNs...). The
  suffix is a stable hash, so reruns produce the same names.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import string
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

JsonDict = dict[str, Any]

SERVERLESS_TRANSFORM = "AWS::Serverless-2016-10-31"
# SAM only accepts S3 code locations; local CodeUris are swapped for this placeholder.
LOCAL_CODE_BUCKET = "local-cloud-code"


class TemplateError(ValueError):
    """The template cannot be loaded or resolved; the message names the culprit."""


class _NoValue:
    """`AWS::NoValue`: the property or list item disappears."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


# --------------------------------------------------------------------------- loading


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that also understands CloudFormation's short-form tags."""


def _long_form(function: str) -> Callable[[yaml.SafeLoader, yaml.Node], JsonDict]:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> JsonDict:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if function == "Fn::GetAtt":  # `!GetAtt Queue.Arn` is `["Queue", "Arn"]`
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {function: value}

    return construct


_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in [
            "And",
            "Base64",
            "Cidr",
            "Equals",
            "FindInMap",
            "GetAZs",
            "GetAtt",
            "If",
            "ImportValue",
            "Join",
            "Length",
            "Not",
            "Or",
            "Select",
            "Split",
            "Sub",
            "ToJsonString",
            "Transform",
        ]
    },
}
for _tag, _function in _SHORT_TAGS.items():
    _CloudFormationLoader.add_constructor(f"!{_tag}", _long_form(_function))


def parse_template(text: str) -> JsonDict:
    """Parse template YAML (or JSON) text into its long (JSON) form."""
    document = yaml.load(text, Loader=_CloudFormationLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError("a template is a mapping with a Resources section")
    return document


def load_template(path: Path) -> JsonDict:
    return parse_template(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- SAM


@dataclass(frozen=True)
class TranslatedTemplate:
    """Plain CloudFormation, plus where each function's code lives on this machine."""

    resources_template: JsonDict
    code_paths: Mapping[str, Path]  # function logical id -> local CodeUri directory


def translate_sam(template: JsonDict, *, template_dir: Path, region: str) -> TranslatedTemplate:
    """Expand SAM resources into CloudFormation offline (no AWS call, no credentials).

    SAM insists on `s3://` code locations, so each local `CodeUri` is replaced by a
    placeholder before translating and kept aside for the local runtime.
    """
    if not _uses_sam(template):
        return TranslatedTemplate(copy.deepcopy(template), {})
    sam = copy.deepcopy(template)
    global_code = sam.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    code_paths: dict[str, Path] = {}
    for logical_id, resource in sam["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.setdefault("Properties", {})
        code_uri = properties.get("CodeUri", global_code)
        if properties.get("InlineCode") is not None:
            continue
        if not isinstance(code_uri, str):
            raise TemplateError(f"{logical_id}: CodeUri must be a local path or s3:// URI")
        if not code_uri.startswith("s3://"):
            code_paths[logical_id] = (template_dir / code_uri).resolve()
            code_uri = f"s3://{LOCAL_CODE_BUCKET}/{logical_id}.zip"
        properties["CodeUri"] = code_uri
    return TranslatedTemplate(_run_sam_translator(sam, region), code_paths)


def _uses_sam(template: JsonDict) -> bool:
    transform = template.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    return SERVERLESS_TRANSFORM in transforms


def _run_sam_translator(sam: JsonDict, region: str) -> JsonDict:
    # `samtranslator.translator.transform.transform` takes the region from the ambient boto3
    # session; the Translator it wraps accepts an explicit session, so no env is needed.
    import boto3  # noqa: PLC0415 - only needed when translating
    from samtranslator.model.exceptions import InvalidDocumentException  # noqa: PLC0415
    from samtranslator.parser.parser import Parser  # noqa: PLC0415
    from samtranslator.translator.translator import Translator  # noqa: PLC0415
    from samtranslator.utils.py27hash_fix import (  # noqa: PLC0415
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    parameter_values: JsonDict = {}
    to_py27_compatible_template(sam, parameter_values)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        translated = translator.translate(
            sam,
            parameter_values=parameter_values,
            # SAM builds the ARNs of the managed policies it adds itself; none to look up.
            get_managed_policy_map=dict,
        )
    except InvalidDocumentException as error:
        reasons = "; ".join(str(cause) for cause in error.causes)
        raise TemplateError(f"SAM translation failed: {reasons}") from error
    finally:
        translator.metrics.publish()  # to its no-op publisher; else SAM warns at exit
    result: JsonDict = undo_mark_unicode_str_in_template(translated)
    return result


def load_stack_template(path: Path, *, region: str) -> TranslatedTemplate:
    return translate_sam(load_template(path), template_dir=path.parent, region=region)


# --------------------------------------------------------------------------- names


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


# --------------------------------------------------------------------------- identities


@dataclass(frozen=True)
class Identity:
    """What `Ref` and `Fn::GetAtt` return for one resource."""

    ref: str
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _IdentityInputs:
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
    identity: Callable[[_IdentityInputs], Identity] = lambda i: Identity(i.name)
    name_suffix: Callable[[_IdentityInputs], str] = lambda _: ""


def _queue(i: _IdentityInputs) -> Identity:
    url = f"https://sqs.{i.region}.{i.url_suffix}/{i.account_id}/{i.name}"
    arn = i.arn("sqs", i.name)
    return Identity(url, {"Arn": arn, "QueueName": i.name, "QueueUrl": url})


def _topic(i: _IdentityInputs) -> Identity:
    arn = i.arn("sns", i.name)
    return Identity(arn, {"TopicArn": arn, "TopicName": i.name})


def _bucket(i: _IdentityInputs) -> Identity:
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


def _table(i: _IdentityInputs) -> Identity:
    arn = i.arn("dynamodb", f"table/{i.name}")
    # The real stream label is a timestamp known after creation; resources.py records it.
    return Identity(i.name, {"Arn": arn, "StreamArn": f"{arn}/stream/local"})


def event_bus_name_of(bus: Any) -> str:
    """EventBusName properties take a name or an ARN."""
    if not bus:
        return "default"
    return str(bus).rsplit("event-bus/", 1)[-1]


def _rule(i: _IdentityInputs) -> Identity:
    bus = event_bus_name_of(i.prop("EventBusName"))
    if bus == "default":
        return Identity(i.name, {"Arn": i.arn("events", f"rule/{i.name}")})
    # On a custom bus CloudFormation's Ref is "<bus>|<rule>".
    return Identity(f"{bus}|{i.name}", {"Arn": i.arn("events", f"rule/{bus}/{i.name}")})


def _arn_identity(service: str, prefix: str, *attribute_names: str) -> Callable[..., Identity]:
    def identity(i: _IdentityInputs) -> Identity:
        arn = i.arn(service, f"{prefix}{i.name}")
        return Identity(i.name, dict.fromkeys(attribute_names or ("Arn",), arn))

    return identity


def _arn_ref(
    service: str, prefix: str, arn_attribute: str, name_attribute: str
) -> Callable[..., Identity]:
    def identity(i: _IdentityInputs) -> Identity:
        arn = i.arn(service, f"{prefix}{i.name}")
        return Identity(arn, {arn_attribute: arn, name_attribute: i.name})

    return identity


def _bus(i: _IdentityInputs) -> Identity:
    return Identity(i.name, {"Arn": i.arn("events", f"event-bus/{i.name}"), "Name": i.name})


def _role(i: _IdentityInputs) -> Identity:
    path = i.prop("Path") or "/"
    return Identity(
        i.name,
        {
            "Arn": i.arn("iam", f"role{path}{i.name}", region=False),
            "RoleId": "AROA" + stable_suffix(i.logical_id, i.name, length=17),
        },
    )


def _managed_policy(i: _IdentityInputs) -> Identity:
    arn = i.arn("iam", f"policy{i.prop('Path') or '/'}{i.name}", region=False)
    return Identity(arn, {"PolicyArn": arn})


def _log_group(i: _IdentityInputs) -> Identity:
    return Identity(i.name, {"Arn": i.arn("logs", f"log-group:{i.name}:*")})


def _event_source_mapping(i: _IdentityInputs) -> Identity:
    mapping_id = stable_uuid(i.logical_id, i.name)
    arn = i.arn("lambda", f"event-source-mapping:{mapping_id}")
    return Identity(mapping_id, {"Id": mapping_id, "EventSourceMappingArn": arn})


def _kms_key(i: _IdentityInputs) -> Identity:
    key_id = stable_uuid(i.logical_id, i.name)  # moto's real id is recorded after creation
    return Identity(key_id, {"Arn": i.arn("kms", f"key/{key_id}"), "KeyId": key_id})


def _schedule(i: _IdentityInputs) -> Identity:
    group = i.prop("GroupName") or "default"
    return Identity(i.name, {"Arn": i.arn("scheduler", f"schedule/{group}/{i.name}")})


def _schema(i: _IdentityInputs) -> Identity:
    arn = i.arn("schemas", f"schema/{i.prop('RegistryName')}/{i.name}")
    return Identity(arn, {"SchemaArn": arn, "SchemaName": i.name, "SchemaVersion": "1"})


def _fifo(property_name: str, suffix: str) -> Callable[[_IdentityInputs], str]:
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


# --------------------------------------------------------------------------- resolution

_PSEUDO_PARAMETERS = [
    "AWS::AccountId",
    "AWS::Region",
    "AWS::Partition",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::URLSuffix",
    "AWS::NotificationARNs",
    "AWS::NoValue",
]
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class StackSettings:
    stack_name: str = "pinpoint-lake"
    region: str = "us-east-1"
    account_id: str = "123456789012"
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"


class StackModel:
    """A translated template bound to a stack: every value CloudFormation would compute.

    Physical ids are computed, not looked up, so the whole stack can be resolved before
    anything exists. Values only known after creation (a KMS key id, a custom resource's
    data) are recorded with `record_identity` as resources get created in `creation_order`.
    """

    def __init__(
        self,
        template: JsonDict,
        *,
        parameters: Mapping[str, Any] | None = None,
        settings: StackSettings | None = None,
    ) -> None:
        self.template = template
        self.settings = settings or StackSettings()
        self._declared_parameters: JsonDict = template.get("Parameters") or {}
        self._parameters = self._bind_parameters(dict(parameters or {}))
        self._condition_cache: dict[str, bool] = {}
        self._identity_cache: dict[str, Identity] = {}
        self._recorded: dict[str, Identity] = {}
        self._resolving: list[str] = []
        all_resources: JsonDict = template.get("Resources") or {}
        self.resources: dict[str, JsonDict] = {
            logical_id: resource
            for logical_id, resource in all_resources.items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }

    # -- parameters and conditions

    def _bind_parameters(self, supplied: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(supplied) - set(self._declared_parameters))
        if unknown:
            raise TemplateError(f"parameters not declared by the template: {', '.join(unknown)}")
        bound: dict[str, Any] = {}
        for name, declaration in self._declared_parameters.items():
            if name in supplied:
                bound[name] = _check_parameter(name, declaration, supplied[name])
            elif "Default" in declaration:
                bound[name] = _check_parameter(name, declaration, declaration["Default"])
        return bound

    def missing_parameters(self) -> list[str]:
        return [name for name in self._declared_parameters if name not in self._parameters]

    def require_all_parameters(self) -> None:
        missing = self.missing_parameters()
        if missing:
            raise TemplateError(f"parameters without a value or default: {', '.join(missing)}")

    def parameter(self, name: str) -> Any:
        if name not in self._parameters:
            if name in self._declared_parameters:
                raise TemplateError(f"parameter {name} has no value and no default")
            raise TemplateError(f"unknown parameter {name}")
        return self._parameters[name]

    def condition(self, name: str) -> bool:
        if name not in self._condition_cache:
            conditions: JsonDict = self.template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name}")
            if name in self._resolving:
                raise TemplateError(f"condition {name} refers to itself")
            self._resolving.append(name)
            try:
                value = self.resolve(conditions[name])
            finally:
                self._resolving.pop()
            if not isinstance(value, bool):
                raise TemplateError(f"condition {name} is not a boolean: {value!r}")
            self._condition_cache[name] = value
        return self._condition_cache[name]

    # -- identities

    def identity(self, logical_id: str) -> Identity:
        if logical_id in self._recorded:
            return self._recorded[logical_id]
        if logical_id not in self._identity_cache:
            self._identity_cache[logical_id] = self._compute_identity(logical_id)
        return self._identity_cache[logical_id]

    def record_identity(
        self,
        logical_id: str,
        *,
        ref: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        """Replace computed values with ones only known after creation."""
        current = self.identity(logical_id)
        self._recorded[logical_id] = Identity(
            ref if ref is not None else current.ref, {**current.attributes, **(attributes or {})}
        )

    def physical_id(self, logical_id: str) -> str:
        return self.identity(logical_id).ref

    def physical_name(self, logical_id: str) -> str:
        """The resource's name (for a queue: its name, not the URL its Ref returns)."""
        resource = self._resource(logical_id)
        rule = naming_rule(resource["Type"])
        chosen = self._chosen_name(logical_id, rule)
        if chosen is not None:
            return chosen
        inputs = self._identity_inputs(logical_id, name="")
        return generated_name(
            self.settings.stack_name,
            logical_id,
            max_length=rule.max_length,
            lowercase=rule.lowercase,
            suffix=rule.name_suffix(inputs),
        )

    def attribute(self, logical_id: str, attribute: str) -> Any:
        attributes = self.identity(logical_id).attributes
        if attribute not in attributes:
            resource_type = self._resource(logical_id)["Type"]
            known = ", ".join(sorted(attributes)) or "none"
            raise TemplateError(
                f"Fn::GetAtt {logical_id}.{attribute}: not an attribute the local cloud knows "
                f"for {resource_type} (known: {known})"
            )
        return attributes[attribute]

    def _resource(self, logical_id: str) -> JsonDict:
        if logical_id not in self.resources:
            all_resources = self.template.get("Resources") or {}
            why = "its Condition is false" if logical_id in all_resources else "no such resource"
            raise TemplateError(f"{logical_id} is referenced but {why}")
        return self.resources[logical_id]

    def _chosen_name(self, logical_id: str, rule: NamingRule) -> str | None:
        if rule.name_property is None:
            return None
        value: Any = self._resource(logical_id).get("Properties") or {}
        for key in rule.name_property:
            value = value.get(key) if isinstance(value, dict) else None
        resolved = self._resolve_guarded(logical_id, value)
        return None if resolved is None or resolved is NO_VALUE else str(resolved)

    def _identity_inputs(self, logical_id: str, name: str) -> _IdentityInputs:
        properties = self._resource(logical_id).get("Properties") or {}

        def prop(key: str) -> Any:
            value = self._resolve_guarded(logical_id, properties.get(key))
            return None if value is NO_VALUE else value

        return _IdentityInputs(
            logical_id=logical_id,
            name=name,
            region=self.settings.region,
            account_id=self.settings.account_id,
            partition=self.settings.partition,
            url_suffix=self.settings.url_suffix,
            prop=prop,
        )

    def _compute_identity(self, logical_id: str) -> Identity:
        rule = naming_rule(self._resource(logical_id)["Type"])
        name = self.physical_name(logical_id)
        return rule.identity(self._identity_inputs(logical_id, name))

    def _resolve_guarded(self, logical_id: str, value: Any) -> Any:
        if logical_id in self._resolving:
            chain = " -> ".join([*self._resolving, logical_id])
            raise TemplateError(f"circular reference while naming resources: {chain}")
        self._resolving.append(logical_id)
        try:
            return self.resolve(value)
        finally:
            self._resolving.pop()

    # -- whole-resource views

    def properties(self, logical_id: str) -> JsonDict:
        """The resource's properties with every intrinsic function resolved."""
        resolved = self.resolve(self._resource(logical_id).get("Properties") or {})
        return resolved if isinstance(resolved, dict) else {}

    def resource_type(self, logical_id: str) -> str:
        return str(self._resource(logical_id)["Type"])

    def outputs(self) -> dict[str, Any]:
        outputs: JsonDict = self.template.get("Outputs") or {}
        return {
            name: self.resolve(output["Value"])
            for name, output in outputs.items()
            if "Condition" not in output or self.condition(output["Condition"])
        }

    def output(self, name: str) -> Any | None:
        """One output, resolving only what it needs (None when the template has none)."""
        output = (self.template.get("Outputs") or {}).get(name)
        if output is None or ("Condition" in output and not self.condition(output["Condition"])):
            return None
        return self.resolve(output["Value"])

    def dependencies(self, logical_id: str) -> set[str]:
        resource = self._resource(logical_id)
        depends_on = resource.get("DependsOn") or []
        found = set([depends_on] if isinstance(depends_on, str) else depends_on)
        found |= set(self._references(resource.get("Properties") or {}))
        return found & set(self.resources)

    def creation_order(self) -> list[str]:
        """Logical ids, dependencies first; template order among independent resources."""
        order: list[str] = []
        state: dict[str, str] = {}

        def visit(logical_id: str, path: tuple[str, ...]) -> None:
            if state.get(logical_id) == "done":
                return
            if state.get(logical_id) == "visiting":
                raise TemplateError(f"circular dependency: {' -> '.join((*path, logical_id))}")
            state[logical_id] = "visiting"
            for dependency in sorted(self.dependencies(logical_id), key=self._template_index):
                visit(dependency, (*path, logical_id))
            state[logical_id] = "done"
            order.append(logical_id)

        for logical_id in self.resources:
            visit(logical_id, ())
        return order

    def _template_index(self, logical_id: str) -> int:
        return list(self.resources).index(logical_id)

    def _references(self, value: Any) -> Iterator[str]:
        """Logical ids a value refers to, following only the taken branch of Fn::If."""
        if isinstance(value, list):
            for item in value:
                yield from self._references(item)
            return
        if not isinstance(value, dict):
            return
        if len(value) == 1:
            ((function, argument),) = value.items()
            if function == "Ref" and isinstance(argument, str):
                yield argument
                return
            if function == "Fn::GetAtt":
                parts = argument.split(".", 1) if isinstance(argument, str) else argument
                yield str(parts[0])
                return
            if function == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                for name in _SUB_VARIABLE.findall(text):
                    if not name.startswith("!") and name not in variables:
                        yield name.split(".", 1)[0]
                yield from self._references(variables)
                return
            if function == "Fn::If":
                condition, when_true, when_false = argument
                yield from self._references(when_true if self.condition(condition) else when_false)
                return
        for item in value.values():
            yield from self._references(item)

    # -- intrinsic functions

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic function in `value`; `AWS::NoValue` items disappear."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            function = _INTRINSICS.get(key)
            if function is not None:
                return function(self, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise TemplateError(f"Ref takes a name, got {name!r}")
        if name in _PSEUDO_PARAMETERS:
            return self._pseudo(name)
        if name in self._declared_parameters:
            return self.parameter(name)
        return self.identity(self._resource_name(name)).ref

    def _resource_name(self, name: str) -> str:
        self._resource(name)  # raises a clear error for unknown or conditioned-out ids
        return name

    def _pseudo(self, name: str) -> Any:
        s = self.settings
        values: dict[str, Any] = {
            "AWS::AccountId": s.account_id,
            "AWS::Region": s.region,
            "AWS::Partition": s.partition,
            "AWS::StackName": s.stack_name,
            "AWS::StackId": (
                f"arn:{s.partition}:cloudformation:{s.region}:{s.account_id}:stack/"
                f"{s.stack_name}/{stable_uuid(s.stack_name)}"
            ),
            "AWS::URLSuffix": s.url_suffix,
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        return values[name]

    def _get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        logical_id, attribute = (self.resolve(part) for part in argument)
        return self.attribute(logical_id, attribute)

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {name: self.resolve(value) for name, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # `${!Literal}` is written out as `${Literal}`
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name and name.split(".", 1)[0] not in _PSEUDO_PARAMETERS:
                logical_id, attribute = name.split(".", 1)
                return str(self.attribute(self._resource_name(logical_id), attribute))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(substitute, str(text))

    def _join(self, argument: Any) -> str:
        delimiter, items = argument
        return str(delimiter).join(str(item) for item in self._as_list(items, "Fn::Join"))

    def _select(self, argument: Any) -> Any:
        index, items = argument
        values = self._as_list(items, "Fn::Select")
        position = int(self.resolve(index))
        if not 0 <= position < len(values):
            raise TemplateError(f"Fn::Select index {position} outside a list of {len(values)}")
        return values[position]

    def _split(self, argument: Any) -> list[str]:
        delimiter, text = argument
        return str(self.resolve(text)).split(str(delimiter))

    def _if(self, argument: Any) -> Any:
        condition, when_true, when_false = argument
        return self.resolve(when_true if self.condition(condition) else when_false)

    def _equals(self, argument: Any) -> bool:
        left, right = (self.resolve(item) for item in argument)
        return str(left) == str(right)

    def _not(self, argument: Any) -> bool:
        (value,) = argument
        return not self._truth(value)

    def _and(self, argument: Any) -> bool:
        return all(self._truth(item) for item in argument)

    def _or(self, argument: Any) -> bool:
        return any(self._truth(item) for item in argument)

    def _truth(self, value: Any) -> bool:
        resolved = self.resolve(value)
        if not isinstance(resolved, bool):
            raise TemplateError(f"a condition function needs a boolean, got {resolved!r}")
        return resolved

    def _condition_ref(self, name: Any) -> bool:
        return self.condition(str(name))

    def _find_in_map(self, argument: Any) -> Any:
        map_name, top_key, second_key = (self.resolve(item) for item in argument[:3])
        mappings: JsonDict = self.template.get("Mappings") or {}
        try:
            return mappings[map_name][top_key][second_key]
        except KeyError as error:
            raise TemplateError(
                f"Fn::FindInMap {map_name}/{top_key}/{second_key}: no such entry"
            ) from error

    def _import_value(self, argument: Any) -> Any:
        raise TemplateError(
            f"Fn::ImportValue {self.resolve(argument)!r}: the local cloud runs one stack, "
            "so nothing is exported to import; pass the value as a parameter instead"
        )

    def _as_list(self, value: Any, function: str) -> list[Any]:
        resolved = self.resolve(value)
        if not isinstance(resolved, list):
            raise TemplateError(f"{function} needs a list, got {resolved!r}")
        return resolved


def _unsupported(function: str) -> Callable[[StackModel, Any], Any]:
    def fail(_model: StackModel, _argument: Any) -> Any:
        raise TemplateError(f"{function} is not supported by the local cloud")

    return fail


_INTRINSICS: Mapping[str, Callable[[StackModel, Any], Any]] = {
    "Ref": StackModel._ref,
    "Fn::GetAtt": StackModel._get_att,
    "Fn::Sub": StackModel._sub,
    "Fn::Join": StackModel._join,
    "Fn::Select": StackModel._select,
    "Fn::Split": StackModel._split,
    "Fn::If": StackModel._if,
    "Fn::Equals": StackModel._equals,
    "Fn::Not": StackModel._not,
    "Fn::And": StackModel._and,
    "Fn::Or": StackModel._or,
    "Condition": StackModel._condition_ref,
    "Fn::FindInMap": StackModel._find_in_map,
    "Fn::ImportValue": StackModel._import_value,
    "Fn::GetAZs": lambda model, _: [f"{model.settings.region}{zone}" for zone in "abc"],
    "Fn::Base64": lambda model, value: base64.b64encode(
        str(model.resolve(value)).encode()
    ).decode(),
    "Fn::ToJsonString": lambda model, value: json.dumps(
        model.resolve(value), separators=(",", ":")
    ),
    "Fn::Length": lambda model, value: len(model._as_list(value, "Fn::Length")),
    "Fn::Cidr": _unsupported("Fn::Cidr"),
    "Fn::Transform": _unsupported("Fn::Transform"),
}


def _check_parameter(name: str, declaration: JsonDict, value: Any) -> Any:
    """Apply the declared constraints, as CloudFormation does before creating anything."""
    parameter_type = str(declaration.get("Type", "String"))
    if parameter_type.startswith("AWS::SSM::Parameter::Value"):
        raise TemplateError(f"parameter {name}: SSM parameter types need AWS; pass a value")
    if parameter_type == "CommaDelimitedList" or parameter_type.startswith("List<"):
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(item).strip() for item in items]
    text = str(value).lower() if isinstance(value, bool) else str(value)
    description = declaration.get("ConstraintDescription")

    def fail(reason: str) -> TemplateError:
        return TemplateError(f"parameter {name}={text!r}: {description or reason}")

    allowed = declaration.get("AllowedValues")
    if allowed is not None and text not in [str(option) for option in allowed]:
        raise fail(f"must be one of {allowed}")
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, text):
        raise fail(f"must match {pattern}")
    if "MinLength" in declaration and len(text) < int(declaration["MinLength"]):
        raise fail(f"shorter than {declaration['MinLength']}")
    if "MaxLength" in declaration and len(text) > int(declaration["MaxLength"]):
        raise fail(f"longer than {declaration['MaxLength']}")
    if parameter_type == "Number":
        try:
            number = float(text)
        except ValueError:
            raise fail("must be a number") from None
        if "MinValue" in declaration and number < float(declaration["MinValue"]):
            raise fail(f"below {declaration['MinValue']}")
        if "MaxValue" in declaration and number > float(declaration["MaxValue"]):
            raise fail(f"above {declaration['MaxValue']}")
    return text
