"""The template's EventBridge schema registry holds exactly the committed contract schemas.

`make schemas` writes `contracts/schemas/*.json` from the models and then the template's
registry block from those files (`infra.schema_registry`); these tests fail while either
step has not been run, and check what EventBridge requires of the resources.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from contracts import PROJECT_EVENTS
from contracts.schema_export import DRAFT_4, schema_file_name
from infra import schema_registry
from infra.local.template import load_stack_template

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "infra" / "template.yaml"


def _resources() -> dict[str, Any]:
    translated = load_stack_template(TEMPLATE, region="us-east-1").resources_template
    resources: dict[str, Any] = translated["Resources"]
    return resources


def _schemas() -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in _resources().items()
        if resource["Type"] == "AWS::EventSchemas::Schema"
    }


def test_every_contract_event_has_a_committed_schema_file() -> None:
    files = {path.name for path in schema_registry.schema_files()}
    assert files == {schema_file_name(model) for model in PROJECT_EVENTS}


def test_the_templates_schemas_equal_the_committed_files() -> None:
    schemas = _schemas()
    by_name = {properties["SchemaName"]: properties for properties in schemas.values()}
    files = {schema_registry.schema_name(path): path for path in schema_registry.schema_files()}
    assert set(by_name) == set(files), "run `make schemas`"
    for name, path in files.items():
        committed = json.loads(path.read_text(encoding="utf-8"))
        assert json.loads(by_name[name]["Content"]) == committed, f"{name}: run `make schemas`"


def test_the_template_block_is_what_make_schemas_writes() -> None:
    current = TEMPLATE.read_text(encoding="utf-8")
    assert schema_registry.with_registry_block(current, schema_registry.registry_block()) == (
        current
    ), "run `make schemas`"


def test_the_schemas_are_of_a_type_eventbridge_reads_in_one_registry() -> None:
    resources = _resources()
    (registry_id,) = [
        lid for lid, res in resources.items() if res["Type"] == "AWS::EventSchemas::Registry"
    ]
    for logical_id, properties in _schemas().items():
        # EventBridge takes OpenApi3 or JSONSchemaDraft4; the files are draft 4.
        assert properties["Type"] == "JSONSchemaDraft4", logical_id
        assert json.loads(properties["Content"])["$schema"] == DRAFT_4, logical_id
        assert properties["RegistryName"] == {"Fn::GetAtt": [registry_id, "RegistryName"]}
        assert len(properties["Description"]) <= 256, logical_id
        name = str(properties["SchemaName"])
        assert len(name) <= 385
        assert all(c.isalnum() or c in "-_.@" for c in name), name


def test_a_schema_change_rewrites_only_the_block(tmp_path: Path) -> None:
    source = schema_registry.schema_files()[0]
    (tmp_path / source.name).write_text(json.dumps({"$schema": DRAFT_4, "title": "changed"}))
    current = TEMPLATE.read_text(encoding="utf-8")
    rewritten = schema_registry.with_registry_block(
        current, schema_registry.registry_block(tmp_path)
    )
    before, _, _ = current.partition(schema_registry.BEGIN)
    assert rewritten.startswith(before)
    assert rewritten.endswith(current.partition(schema_registry.END)[2])
    assert '\\"title\\":\\"changed\\"' in rewritten
    assert rewritten.count("Type: AWS::EventSchemas::Schema") == 1


def test_moto_has_no_schema_registry_so_the_local_cloud_notes_it() -> None:
    # Why infra/local skips these resources with a note (see test_resources.py): when moto
    # learns the API, this fails, and the local cloud should create them instead.
    with mock_aws():
        schemas = boto3.client("schemas", region_name="us-east-1")
        with pytest.raises(ClientError, match="Not yet implemented"):
            schemas.create_registry(RegistryName="contracts")
