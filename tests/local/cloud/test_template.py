"""The template layer: short tags, SAM translation, intrinsic functions, names, order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.local.template import (
    NO_VALUE,
    StackModel,
    StackSettings,
    TemplateError,
    generated_name,
    load_stack_template,
    parse_template,
    translate_sam,
)

HERE = Path(__file__).parent
REAL_TEMPLATE = HERE.parents[2] / "infra" / "template.yaml"
TOY_TEMPLATE = HERE / "toy-template.yaml"


def model(resources: dict[str, Any], **template: Any) -> StackModel:
    parameters = template.pop("parameters", None)
    return StackModel({"Resources": resources, **template}, parameters=parameters)


# --------------------------------------------------------------------------- loading


def test_short_tags_become_the_long_form() -> None:
    template = parse_template(
        """
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-q"
      Tags:
        - {Key: a, Value: !GetAtt Other.Arn}
        - {Key: b, Value: !Join [",", [!Ref Other, !Select [0, !Split ["/", "x/y"]]]]}
        - {Key: c, Value: !If [Cond, !Ref AWS::NoValue, !FindInMap [M, k, v]]}
        - {Key: d, Value: !ImportValue exported}
"""
    )
    tags = template["Resources"]["Queue"]["Properties"]["Tags"]
    assert template["Resources"]["Queue"]["Properties"]["QueueName"] == {
        "Fn::Sub": "${AWS::StackName}-q"
    }
    assert tags[0]["Value"] == {"Fn::GetAtt": ["Other", "Arn"]}
    assert tags[1]["Value"] == {
        "Fn::Join": [",", [{"Ref": "Other"}, {"Fn::Select": [0, {"Fn::Split": ["/", "x/y"]}]}]]
    }
    assert tags[2]["Value"] == {
        "Fn::If": ["Cond", {"Ref": "AWS::NoValue"}, {"Fn::FindInMap": ["M", "k", "v"]}]
    }
    assert tags[3]["Value"] == {"Fn::ImportValue": "exported"}


def test_sam_translation_keeps_local_code_paths_aside() -> None:
    translated = load_stack_template(TOY_TEMPLATE, region="us-east-1")

    resources = translated.resources_template["Resources"]
    function = resources["ToyFunction"]
    assert function["Type"] == "AWS::Lambda::Function"
    assert function["Properties"]["Code"]["S3Bucket"] == "local-cloud-code"
    assert function["Properties"]["Runtime"] == "python3.14"
    assert resources["ToyFunctionQueue"]["Type"] == "AWS::Lambda::EventSourceMapping"
    assert translated.code_paths == {"ToyFunction": HERE.parents[2]}


def test_a_template_without_the_sam_transform_is_left_as_is() -> None:
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
    translated = translate_sam(template, template_dir=HERE, region="us-east-1")
    assert translated.resources_template == template
    assert translated.code_paths == {}


def test_an_invalid_sam_template_fails_with_sam_reasons() -> None:
    template = {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "F": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": ".", "Foo": 1}}
        },
    }
    with pytest.raises(TemplateError, match="SAM translation failed"):
        translate_sam(template, template_dir=HERE, region="us-east-1")


# --------------------------------------------------------------------------- cfn-lint


def _lint(text: str) -> list[str]:
    from cfnlint.api import ManualArgs, lint

    return [str(match) for match in lint(text, config=ManualArgs(regions=["us-east-1"]))]


@pytest.mark.parametrize("path", [REAL_TEMPLATE, TOY_TEMPLATE], ids=["real", "toy"])
def test_templates_are_cfn_lint_clean_before_and_after_sam_translation(path: Path) -> None:
    # cfn-lint does not check AWS::Serverless::Function properties: lint the translation too.
    translated = load_stack_template(path, region="us-east-1").resources_template
    findings = _lint(path.read_text()) + _lint(json.dumps(translated))

    assert findings == []


# --------------------------------------------------------------------------- names


def test_generated_names_follow_cloudformation_and_are_stable() -> None:
    name = generated_name("stack", "MyQueue", max_length=80)
    assert name.startswith("stack-MyQueue-")
    assert len(name.rsplit("-", 1)[1]) == 13
    assert name == generated_name("stack", "MyQueue", max_length=80)
    assert name != generated_name("other", "MyQueue", max_length=80)

    bucket = generated_name("Stack", "Bucket" * 20, max_length=63, lowercase=True)
    assert len(bucket) == 63
    assert bucket == bucket.lower()


def test_refs_and_attributes_per_resource_type() -> None:
    stack = model(
        {
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Fifo": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": True}},
            "Named": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "named"}},
            "Bus": {"Type": "AWS::Events::EventBus", "Properties": {"Name": "bus"}},
            "Rule": {"Type": "AWS::Events::Rule", "Properties": {"EventBusName": {"Ref": "Bus"}}},
            "DefaultRule": {"Type": "AWS::Events::Rule", "Properties": {"Name": "r"}},
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "t"}},
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "tbl"}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "role", "Path": "/x/"}},
        }
    )
    queue_name = stack.physical_name("Queue")
    assert stack.physical_id("Queue") == (
        f"https://sqs.us-east-1.amazonaws.com/123456789012/{queue_name}"
    )
    assert stack.attribute("Queue", "Arn") == f"arn:aws:sqs:us-east-1:123456789012:{queue_name}"
    assert stack.attribute("Queue", "QueueName") == queue_name
    assert stack.physical_name("Fifo").endswith(".fifo")
    assert stack.attribute("Named", "QueueName") == "named"
    assert stack.attribute("Bus", "Arn") == "arn:aws:events:us-east-1:123456789012:event-bus/bus"
    rule_name = stack.physical_name("Rule")
    assert stack.physical_id("Rule") == f"bus|{rule_name}"
    assert stack.attribute("Rule", "Arn").endswith(f":rule/bus/{rule_name}")
    assert stack.physical_id("DefaultRule") == "r"
    assert stack.attribute("DefaultRule", "Arn") == "arn:aws:events:us-east-1:123456789012:rule/r"
    assert stack.attribute("Bucket", "Arn") == f"arn:aws:s3:::{stack.physical_id('Bucket')}"
    assert stack.physical_id("Topic") == "arn:aws:sns:us-east-1:123456789012:t"
    assert stack.attribute("Table", "Arn") == "arn:aws:dynamodb:us-east-1:123456789012:table/tbl"
    assert stack.attribute("Role", "Arn") == "arn:aws:iam::123456789012:role/x/role"


def test_recorded_identities_replace_computed_ones() -> None:
    stack = model({"Key": {"Type": "AWS::KMS::Key"}})
    stack.record_identity("Key", ref="real-id", attributes={"Arn": "arn:real"})
    assert stack.resolve({"Ref": "Key"}) == "real-id"
    assert stack.resolve({"Fn::GetAtt": "Key.Arn"}) == "arn:real"
    assert stack.resolve({"Fn::GetAtt": ["Key", "KeyId"]}) != "real-id"  # untouched attribute


def test_unknown_attribute_names_the_resource_and_what_is_known() -> None:
    stack = model({"Queue": {"Type": "AWS::SQS::Queue"}})
    with pytest.raises(TemplateError, match=r"Queue\.Nope.*AWS::SQS::Queue.*Arn"):
        stack.resolve({"Fn::GetAtt": ["Queue", "Nope"]})


# --------------------------------------------------------------------------- intrinsics


def test_sub_in_both_forms_with_pseudo_parameters_attributes_and_literals() -> None:
    stack = model(
        {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q"}}},
        Parameters={"Env": {"Type": "String", "Default": "dev"}},
    )
    assert stack.resolve(
        {"Fn::Sub": "${AWS::StackName}/${AWS::Region}/${AWS::AccountId}/${Env}/${Queue.Arn}"}
    ) == ("pinpoint-lake/us-east-1/123456789012/dev/arn:aws:sqs:us-east-1:123456789012:q")
    assert stack.resolve({"Fn::Sub": ["${X}-${!Literal}", {"X": {"Ref": "Env"}}]}) == (
        "dev-${Literal}"
    )
    assert stack.resolve({"Fn::Sub": "${AWS::Partition}.${AWS::URLSuffix}"}) == "aws.amazonaws.com"


def test_join_select_split_and_list_parameters() -> None:
    stack = model(
        {},
        Parameters={"Names": {"Type": "CommaDelimitedList", "Default": "a, b,c"}},
    )
    assert stack.resolve({"Ref": "Names"}) == ["a", "b", "c"]
    assert stack.resolve({"Fn::Join": ["-", {"Ref": "Names"}]}) == "a-b-c"
    assert stack.resolve({"Fn::Select": [1, {"Fn::Split": ["/", "x/y/z"]}]}) == "y"
    assert stack.resolve({"Fn::Select": ["2", {"Ref": "Names"}]}) == "c"
    with pytest.raises(TemplateError, match="index 5"):
        stack.resolve({"Fn::Select": [5, {"Ref": "Names"}]})


def test_conditions_if_and_no_value() -> None:
    stack = model(
        {
            "Always": {"Type": "AWS::SQS::Queue"},
            "OnlyInProd": {"Type": "AWS::SQS::Queue", "Condition": "IsProd"},
        },
        Parameters={"Env": {"Type": "String", "AllowedValues": ["dev", "prod"]}},
        Conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
            "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "IsDev"}]},
            "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "IsDev"}]},
        },
        parameters={"Env": "dev"},
    )
    assert list(stack.resources) == ["Always"]
    assert (stack.condition("IsDev"), stack.condition("Both"), stack.condition("Either")) == (
        True,
        False,
        True,
    )
    assert stack.resolve(
        {"A": {"Fn::If": ["IsProd", 1, {"Ref": "AWS::NoValue"}]}, "B": [1, {"Ref": "AWS::NoValue"}]}
    ) == {"B": [1]}
    assert stack.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE
    with pytest.raises(TemplateError, match="OnlyInProd is referenced but its Condition is false"):
        stack.resolve({"Ref": "OnlyInProd"})


def test_find_in_map_and_other_functions() -> None:
    stack = model({}, Mappings={"Sizes": {"small": {"memory": 128}}})
    assert stack.resolve({"Fn::FindInMap": ["Sizes", "small", "memory"]}) == 128
    assert stack.resolve({"Fn::GetAZs": ""}) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert stack.resolve({"Fn::Base64": "hi"}) == "aGk="
    assert stack.resolve({"Fn::ToJsonString": {"a": [1]}}) == '{"a":[1]}'
    with pytest.raises(TemplateError, match="ImportValue"):
        stack.resolve({"Fn::ImportValue": "x"})
    with pytest.raises(TemplateError, match="no such entry"):
        stack.resolve({"Fn::FindInMap": ["Sizes", "large", "memory"]})


def test_parameters_are_checked_like_cloudformation_does() -> None:
    parameters = {
        "Id": {
            "Type": "String",
            "AllowedPattern": "^[0-9a-f]{32}$",
            "ConstraintDescription": "hex",
        },
        "Days": {"Type": "Number", "Default": 30, "AllowedValues": [1, 30]},
    }
    assert (
        StackModel(
            {"Parameters": parameters, "Resources": {}}, parameters={"Id": "a" * 32}
        ).parameter("Days")
        == "30"
    )
    with pytest.raises(TemplateError, match="Id='nope': hex"):
        StackModel({"Parameters": parameters, "Resources": {}}, parameters={"Id": "nope"})
    with pytest.raises(TemplateError, match="must be one of"):
        StackModel({"Parameters": parameters, "Resources": {}}, parameters={"Days": 2})
    with pytest.raises(TemplateError, match="not declared by the template: Other"):
        StackModel({"Parameters": parameters, "Resources": {}}, parameters={"Other": 1})
    missing = StackModel({"Parameters": parameters, "Resources": {}})
    assert missing.missing_parameters() == ["Id"]
    with pytest.raises(TemplateError, match="without a value or default: Id"):
        missing.require_all_parameters()


def test_real_template_resolves_with_a_project_id() -> None:
    translated = load_stack_template(REAL_TEMPLATE, region="eu-west-1")
    stack = StackModel(
        translated.resources_template,
        parameters={"PinpointProjectId": "0123456789abcdef0123456789abcdef"},
        settings=StackSettings(stack_name="lake", region="eu-west-1"),
    )
    outputs = stack.outputs()
    assert outputs["EventBusName"] == "lake-events"
    assert outputs["PinpointProjectId"] == "0123456789abcdef0123456789abcdef"
    assert {
        "CampaignJourneyTableName",
        "SegmentTableName",
        "CloudTrailBucketName",
        "QueryResultsBucketName",
        "NotificationTopicArn",
    } <= set(outputs)
    assert outputs["NotificationTopicArn"].startswith("arn:aws:sns:eu-west-1:123456789012:")
    environment = stack.properties("NameResolverFunction")["Environment"]["Variables"]
    assert environment["MONITORED_PROJECT_IDS"] == "0123456789abcdef0123456789abcdef"
    assert stack.properties("EventArchive")["SourceArn"] == (
        "arn:aws:events:eu-west-1:123456789012:event-bus/lake-events"
    )


# --------------------------------------------------------------------------- order


def test_creation_order_follows_refs_getatts_subs_and_depends_on() -> None:
    stack = model(
        {
            "Policy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Properties": {"Queues": [{"Ref": "Queue"}], "PolicyDocument": {}},
            },
            "Queue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": "Dlq.Arn"}}},
            },
            "Group": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": {"Fn::Sub": "/x/${Topic.TopicName}"}},
            },
            "Topic": {"Type": "AWS::SNS::Topic", "DependsOn": "Policy"},
            "Dlq": {"Type": "AWS::SQS::Queue"},
        }
    )
    assert stack.creation_order() == ["Dlq", "Queue", "Policy", "Topic", "Group"]


def test_circular_dependencies_are_reported() -> None:
    stack = model(
        {
            "A": {"Type": "AWS::SNS::Topic", "DependsOn": "B"},
            "B": {"Type": "AWS::SNS::Topic", "DependsOn": "A"},
        }
    )
    with pytest.raises(TemplateError, match="circular dependency: A -> B -> A"):
        stack.creation_order()


def test_additional_projects_are_monitored_and_granted_by_id() -> None:
    translated = load_stack_template(REAL_TEMPLATE, region="eu-west-1")
    primary, first, second = "0" * 32, "1" * 32, "2" * 32
    stack = StackModel(
        translated.resources_template,
        parameters={"PinpointProjectId": primary, "AdditionalProjectIds": f"{first},{second}"},
        settings=StackSettings(stack_name="lake", region="eu-west-1"),
    )
    environment = stack.properties("NameResolverFunction")["Environment"]["Variables"]
    assert environment["MONITORED_PROJECT_IDS"] == f"{primary},{first},{second}"
    statements = [
        statement
        for policy in stack.properties("NameResolverFunctionRole")["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    resources = [resource for statement in statements for resource in statement["Resource"]]
    apps = f"arn:aws:mobiletargeting:eu-west-1:{stack.settings.account_id}:apps"
    for project in (first, second):
        assert f"{apps}/{project}" in resources
        assert f"{apps}/{project}/*" in resources
    assert not [resource for resource in resources if "*:*" in resource]
