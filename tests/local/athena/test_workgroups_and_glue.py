"""Workgroup configuration applied (moto stores it, the emulator enforces it); Glue tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.local.athena import AthenaEmulator
from tests.local.athena.conftest import BUCKET, OUTPUT, RunQuery, client, write_parquet


def _workgroup(athena: Any, name: str, location: str, *, enforce: bool) -> None:
    athena.create_work_group(
        Name=name,
        Configuration={
            "ResultConfiguration": {"OutputLocation": location},
            "EnforceWorkGroupConfiguration": enforce,
        },
    )


def test_workgroup_location_is_used_when_the_request_has_none(
    athena: Any, s3: Any, run_query: RunQuery
) -> None:
    _workgroup(athena, "analysts", f"s3://{BUCKET}/analysts", enforce=False)
    execution = run_query("SELECT 1 AS one", WorkGroup="analysts", ResultConfiguration={})
    query_id = execution["QueryExecutionId"]
    assert execution["WorkGroup"] == "analysts"
    assert execution["ResultConfiguration"]["OutputLocation"] == (
        f"s3://{BUCKET}/analysts/{query_id}.csv"
    )
    body = s3.get_object(Bucket=BUCKET, Key=f"analysts/{query_id}.csv")["Body"].read()
    assert body == b'"one"\n"1"\n'
    listed = athena.list_query_executions(WorkGroup="analysts")["QueryExecutionIds"]
    assert listed == [query_id]
    assert query_id not in athena.list_query_executions()["QueryExecutionIds"]


def test_enforced_workgroup_location_overrides_the_request(
    athena: Any, run_query: RunQuery
) -> None:
    _workgroup(athena, "enforced", f"s3://{BUCKET}/enforced/", enforce=True)
    _workgroup(athena, "relaxed", f"s3://{BUCKET}/relaxed/", enforce=False)
    enforced = run_query("SELECT 1", WorkGroup="enforced")
    relaxed = run_query("SELECT 1", WorkGroup="relaxed")
    assert enforced["ResultConfiguration"]["OutputLocation"].startswith(f"s3://{BUCKET}/enforced/")
    assert relaxed["ResultConfiguration"]["OutputLocation"].startswith(OUTPUT)


def test_missing_output_location_or_workgroup_is_rejected_synchronously(athena: Any) -> None:
    with pytest.raises(athena.exceptions.InvalidRequestException, match="No output location"):
        athena.start_query_execution(QueryString="SELECT 1")
    with pytest.raises(athena.exceptions.InvalidRequestException, match="is not found"):
        athena.start_query_execution(
            QueryString="SELECT 1",
            WorkGroup="nope",
            ResultConfiguration={"OutputLocation": OUTPUT},
        )


def test_lake_tables_are_registered_in_glue(emulator: AthenaEmulator) -> None:
    glue = client("glue")
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName="due_eventdb")["TableList"]}
    assert set(tables) == {
        "email_click",
        "google_analytics",
        "salesforce_contact",
        "salesforce_loan__c",
        "session_start",
        "some_other_data",
        "system_logins",
    }
    click = tables["email_click"]
    assert [(c["Name"], c["Type"]) for c in click["StorageDescriptor"]["Columns"]] == [
        ("event_timestamp", "timestamp"),
        ("application_id", "string"),
        ("endpoint_id", "string"),
        ("link", "string"),
    ]
    assert [(c["Name"], c["Type"]) for c in click["PartitionKeys"]] == [
        ("ingest_timestamp", "timestamp")
    ]
    assert click["Parameters"]["classification"] == "parquet"
    contact_columns = tables["salesforce_contact"]["StorageDescriptor"]["Columns"]
    assert ("missed_payments", "int") in [(c["Name"], c["Type"]) for c in contact_columns]
    assert tables["system_logins"]["Parameters"]["classification"] == "csv"


def test_refresh_picks_up_new_tables(
    emulator: AthenaEmulator, lake: Path, run_query: RunQuery
) -> None:
    assert run_query("SELECT count(*) FROM web_visits")["Status"]["State"] == "FAILED"
    write_parquet(lake / "web_visits" / "v.parquet", {"user_id": ["ep-1", "ep-2"]})
    assert "web_visits" in emulator.refresh()
    assert run_query("SELECT count(*) FROM web_visits")["Status"]["State"] == "SUCCEEDED"
    names = [t["Name"] for t in client("glue").get_tables(DatabaseName="due_eventdb")["TableList"]]
    assert "web_visits" in names
