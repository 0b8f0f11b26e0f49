"""`query check` gives the deployed validator's verdict: its code, the stack's settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli.check import check_query
from cli.errors import ExitCode
from cli.main import main
from cli.stack import StackOutputs
from cli.validation import default_validator, stack_validator

PROJECT = "8b2f6a1c9d3e4f5a6b7c8d9e0f1a2b3c"
CRM = 'SELECT contact.id AS "Id" FROM crm.salesforce_contact contact'


def outputs(**parameters: str) -> StackOutputs:
    values = {"EventBusName": "bus", "PinpointProjectId": PROJECT}
    return StackOutputs(values, parameters)


def verdict(sql: str, capsys: pytest.CaptureFixture[str], **options: Any) -> dict[str, Any]:
    options.setdefault("validator", default_validator(connect=False))
    options.setdefault("target", None)
    check_query(sql, data_lake=None, json_output=True, **options)
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_with_a_stack_its_allowed_databases_apply(capsys: pytest.CaptureFixture[str]) -> None:
    allowed = stack_validator(outputs(AllowedDatabases="due_eventdb,crm"), "prod")
    assert verdict(CRM, capsys, validator=allowed)["accepted"] is True
    only_default = stack_validator(outputs(), "prod")
    rejected = verdict(CRM, capsys, validator=only_default)
    assert [reason["code"] for reason in rejected["reasons"]] == ["DATABASE_NOT_ALLOWED"]
    assert "checked against stack prod: databases due_eventdb" in rejected["assumed"]


def test_without_a_stack_it_says_what_it_assumed(capsys: pytest.CaptureFixture[str]) -> None:
    result = verdict(CRM, capsys)
    assert result["assumed"].startswith("assumed the template's defaults: database due_eventdb")
    assert result["accepted"] is False


def test_the_target_chooses_the_columns(capsys: pytest.CaptureFixture[str]) -> None:
    sql = 'SELECT endpoint_id AS "Id", \'EMAIL\' AS "ChannelType" FROM email_open'
    assert verdict(sql, capsys)["accepted"] is True
    connect = verdict(sql, capsys, validator=default_validator(connect=True), target="connect")
    assert connect["target"] == "connect"
    assert "UNKNOWN_COLUMN" in [reason["code"] for reason in connect["reasons"]]


def test_text_output_wraps_reasons_and_hints_at_json_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = tmp_path / "pasted.sql"
    sql.write_text(r"SELECT endpoint_id AS \"Id\" FROM email_open")
    assert main(["query", "check", "--sql", str(sql)]) == ExitCode.FAILED
    out = capsys.readouterr().out
    assert "rejected (1 reason)" in out
    assert "without the backslashes" in " ".join(out.split())
    assert max(len(line) for line in out.splitlines()) <= 120


def test_group_by_a_missing_table_fails_before_athena(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = tmp_path / "renewal.sql"
    sql.write_text(
        'SELECT MAX(contact.id) AS "Id" FROM salesforce_contact contact GROUP BY endpoint.id'
    )
    assert main(["--json", "query", "check", "--sql", str(sql)]) == ExitCode.FAILED
    reasons = json.loads(capsys.readouterr().out)["reasons"]
    assert [reason["code"] for reason in reasons] == ["UNKNOWN_TABLE_REFERENCE"]


def test_a_data_lake_that_is_not_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = tmp_path / "q.sql"
    sql.write_text('SELECT endpoint_id AS "Id" FROM email_open')
    code = main(["query", "check", "--sql", str(sql), "--data-lake", str(tmp_path / "none")])
    assert code == ExitCode.USAGE
    assert "one folder per table" in capsys.readouterr().err
