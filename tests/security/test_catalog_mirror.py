"""The catalog's mirror in the template: encrypted, written by the catalog-writer alone,
read through Glue tables whose columns are the ones the writer writes."""

from __future__ import annotations

import pytest

from services.catalog_writer.mirror import MIRROR_COLUMNS
from tests.security.test_template_security import (
    allow_statements,
    function_roles,
    grants,
    of_type,
    stack,
    statements_of,
)

WRITES = ("s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl", "s3:RestoreObject")


def mirror_arn() -> str:
    return str(stack("defaults").attribute("CatalogMirrorBucket", "Arn"))


def role_of(function_id: str) -> str:
    return function_roles(stack("defaults"))[function_id]


def covers(resource: str, target: str) -> bool:
    return resource == target or grants(resource, target)


@pytest.mark.parametrize("role_id", of_type(stack("defaults"), "AWS::IAM::Role"))
def test_only_the_catalog_writer_may_write_the_mirror(role_id: str) -> None:
    objects = f"{mirror_arn()}/catalog/x.json"
    writes = [
        f"{located.where}: {action} on {resource}"
        for located in allow_statements(stack("defaults"), role_id)
        for action in located.actions
        for resource in located.resources
        if any(grants(action, write) for write in WRITES) and covers(resource, objects)
    ]
    if role_id == role_of("CatalogWriterFunction"):
        assert writes, "the catalog-writer must be able to write its mirror"
        assert all(": s3:PutObject on " in write for write in writes), writes
    else:
        assert not writes, f"{role_id} may write the catalog's mirror: {writes}"


def test_the_bucket_policy_denies_mirror_writes_by_anyone_else() -> None:
    model = stack("defaults")
    (policy_id,) = [
        policy
        for policy in of_type(model, "AWS::S3::BucketPolicy")
        if model.properties(policy)["Bucket"] == model.physical_id("CatalogMirrorBucket")
    ]
    statements = statements_of(model.properties(policy_id)["PolicyDocument"], policy_id)
    (deny,) = [
        s for s in statements if s.statement.get("Sid") == "MirrorWrittenOnlyByTheCatalogWriter"
    ]
    assert deny.effect == "Deny"
    assert deny.statement["Principal"] == "*"
    assert set(deny.actions) >= {"s3:PutObject", "s3:DeleteObject"}
    writer_arn = model.attribute(role_of("CatalogWriterFunction"), "Arn")
    assert deny.condition("aws:PrincipalArn", ("ArnNotEquals",)) == [writer_arn]
    assert any(s.statement.get("Sid") == "DenyInsecureTransport" for s in statements)


def test_the_mirror_bucket_is_encrypted_private_and_retained() -> None:
    model = stack("defaults")
    properties = model.properties("CatalogMirrorBucket")
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert all(properties["PublicAccessBlockConfiguration"].values())
    assert model.resources["CatalogMirrorBucket"]["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize(
    ("logical_id", "table"),
    [("CatalogCampaignsJourneysTable", "campaigns_journeys"), ("CatalogSegmentsTable", "segments")],
)
def test_the_glue_tables_hold_the_columns_the_writer_writes(logical_id: str, table: str) -> None:
    model = stack("defaults")
    properties = model.properties(logical_id)
    assert properties["DatabaseName"] == model.physical_id("CatalogGlueDatabase")
    table_input = properties["TableInput"]
    assert table_input["Name"] == table
    descriptor = table_input["StorageDescriptor"]
    columns = tuple((c["Name"], c["Type"]) for c in descriptor["Columns"])
    assert columns == MIRROR_COLUMNS[table]
    assert (
        descriptor["SerdeInfo"]["SerializationLibrary"] == "org.apache.hive.hcatalog.data.JsonSerDe"
    )
    bucket = model.physical_id("CatalogMirrorBucket")
    assert descriptor["Location"] == f"s3://{bucket}/catalog/{table}/"
    writer = model.properties("CatalogWriterFunction")["Environment"]["Variables"]
    assert writer["CATALOG_MIRROR_BUCKET_NAME"] == bucket
    assert writer["CATALOG_MIRROR_PREFIX"] == "catalog/"


@pytest.mark.parametrize("scenario", ["defaults", "extended"])
@pytest.mark.parametrize("function_id", ["QueryValidatorFunction", "QueryRunnerFunction"])
def test_segment_queries_may_read_the_catalog_database(scenario: str, function_id: str) -> None:
    model = stack(scenario)
    variables = model.properties(function_id)["Environment"]["Variables"]
    allowed = str(variables["ALLOWED_DATABASES"]).split(",")
    assert model.physical_id("CatalogGlueDatabase") in allowed
    assert str(model.parameter("GlueDatabase")) in allowed or model.parameter("AllowedDatabases")


def test_the_query_runner_reads_the_catalog_tables_and_objects_only() -> None:
    model = stack("defaults")
    runner = allow_statements(model, role_of("QueryRunnerFunction"))
    database = model.physical_id("CatalogGlueDatabase")
    granted = {
        (action, resource)
        for located in runner
        for action in located.actions
        for resource in located.resources
    }
    assert (
        "glue:GetTable",
        f"arn:aws:glue:{model.settings.region}:{model.settings.account_id}:table/{database}/*",
    ) in granted
    assert ("s3:GetObject", f"{mirror_arn()}/catalog/*") in granted
    on_mirror = {action for action, resource in granted if resource.startswith(mirror_arn())}
    assert on_mirror == {"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"}
