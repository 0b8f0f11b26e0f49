"""Pure pieces: value rendering, CSV dialect, type names, SQL preparation, state machine."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from infra.local.athena.column_types import athena_type, glue_type
from infra.local.athena.csv_format import csv_row, render
from infra.local.athena.errors import QueryFailedError, from_duckdb
from infra.local.athena.executions import IllegalTransitionError, QueryExecution, State
from infra.local.athena.lake import discover
from infra.local.athena.sql import classify, prepare
from infra.local.athena.tables import TableRef

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None),
        (True, "true"),
        (42, "42"),
        (1.5, "1.5"),
        (2.0, "2.0"),
        (1e20, "1.0E20"),
        (0.0001, "1.0E-4"),
        (float("nan"), "NaN"),
        (Decimal("12.50"), "12.50"),
        (datetime(2024, 1, 2, 3, 4, 5, 678901), "2024-01-02 03:04:05.678"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02 03:04:05.000 UTC"),
        (date(2024, 1, 2), "2024-01-02"),
        (time(1, 2, 3), "01:02:03.000"),
        (timedelta(days=1, hours=2), "1 02:00:00.000"),
        (b"ab", "61 62"),
        ([1, None, "x"], "[1, null, x]"),
        ({"a": 1, "b": [2]}, "{a=1, b=[2]}"),
    ],
)
def test_render_like_athena(value: object, text: str | None) -> None:
    assert render(value) == text


def test_csv_row_quotes_everything_but_null() -> None:
    assert csv_row(['say "hi"', None, "", "a,b", "é\n"]) == '"say ""hi""",,"","a,b","é\n"\n'


@pytest.mark.parametrize(
    ("duckdb_type", "athena", "glue"),
    [
        ("VARCHAR", "varchar", "string"),
        ("INTEGER", "integer", "int"),
        ("BIGINT", "bigint", "bigint"),
        ("DOUBLE", "double", "double"),
        ("BOOLEAN", "boolean", "boolean"),
        ("TIMESTAMP", "timestamp", "timestamp"),
        ("TIMESTAMP_NS", "timestamp", "timestamp"),
        ("TIMESTAMP WITH TIME ZONE", "timestamp with time zone", "timestamp"),
        ("DATE", "date", "date"),
        ("DECIMAL(10,2)", "decimal", "decimal(10,2)"),
        ("INTEGER[]", "array", "array<int>"),
        (
            "STRUCT(a VARCHAR, b STRUCT(c INTEGER, d DOUBLE))",
            "row",
            "struct<a:string,b:struct<c:int,d:double>>",
        ),
        ("MAP(VARCHAR, BIGINT)", "map", "map<string,bigint>"),
    ],
)
def test_type_names(duckdb_type: str, athena: str, glue: str) -> None:
    assert athena_type(duckdb_type).name == athena
    assert glue_type(duckdb_type) == glue


def test_decimal_precision_and_scale() -> None:
    kind = athena_type("DECIMAL(18,3)")
    assert (kind.precision, kind.scale) == (18, 3)


def test_prepare_pins_the_clock_and_lists_tables() -> None:
    prepared = prepare(
        "WITH recent AS (SELECT * FROM email_click"
        " WHERE event_timestamp > date_add('day', -30, NOW()))"
        " SELECT r.endpoint_id FROM recent r JOIN due_eventdb.Contacts c ON c.id = r.endpoint_id"
        " WHERE c.since < current_date",
        NOW,
    )
    assert "2024-06-01 12:00:00" in prepared.duckdb_sql
    assert "CURRENT_TIMESTAMP" not in prepared.duckdb_sql.upper()
    assert "CAST('2024-06-01' AS DATE)" in prepared.duckdb_sql
    assert prepared.tables == {
        TableRef(None, "email_click"),
        TableRef("due_eventdb", "contacts"),
    }


def test_prepare_rejects_what_athena_would() -> None:
    with pytest.raises(QueryFailedError, match="SYNTAX_ERROR"):
        prepare("SELECT FROM WHERE", NOW)
    with pytest.raises(QueryFailedError, match="Only one sql statement"):
        prepare("SELECT 1; SELECT 2", NOW)
    with pytest.raises(QueryFailedError, match="NOT_SUPPORTED") as raised:
        prepare("INSERT INTO t VALUES (1)", NOW)
    assert raised.value.failure.error_type == 1202


def test_classify_statement_types() -> None:
    assert classify("SELECT 1").statement_type == "DML"
    assert classify("SELEC oops").statement_type == "DML"
    assert classify("CREATE TABLE t AS SELECT 1").statement_type == "DDL"
    assert classify("INSERT INTO t VALUES (1)").substatement_type == "INSERT"


def test_duckdb_errors_map_to_athena_error_types() -> None:
    conn = duckdb.connect()
    cases = {
        "SELECT * FROM missing_table": (1110, "TABLE_NOT_FOUND"),
        "SELECT missing_column": (1006, "COLUMN_NOT_FOUND"),
        "SELECT no_such_function(1)": (1303, "FUNCTION_NOT_FOUND"),
        "SELECT CAST('x' AS INTEGER)": (1001, "INVALID_CAST_ARGUMENT"),
    }
    for sql, (error_type, name) in cases.items():
        with pytest.raises(duckdb.Error) as raised:
            conn.execute(sql).fetchall()
        failure = from_duckdb(raised.value).failure
        assert (failure.category, failure.error_type) == (2, error_type), sql
        assert failure.message.startswith(f"{name}: "), failure.message


def test_state_machine_counts_and_refuses_illegal_moves() -> None:
    execution = QueryExecution(
        query_execution_id="q",
        query="SELECT 1",
        workgroup="primary",
        catalog="AwsDataCatalog",
        database=None,
        output_location="s3://b/q.csv",
        statement_type="DML",
        substatement_type="SELECT",
        submitted_at=NOW,
    )
    assert execution.first_transition().sequence_number == 1
    running = execution.move_to(State.RUNNING, NOW)
    done = execution.move_to(State.SUCCEEDED, NOW + timedelta(seconds=1))
    assert (running.previous, running.sequence_number) == (State.QUEUED, 2)
    assert (done.previous, done.current, done.sequence_number) == (
        State.RUNNING,
        State.SUCCEEDED,
        3,
    )
    assert execution.completed_at == NOW + timedelta(seconds=1)
    with pytest.raises(IllegalTransitionError):
        execution.move_to(State.CANCELLED, NOW)


def test_lake_discovery_skips_hidden_files_and_finds_partitions(tmp_path: Path) -> None:
    (tmp_path / "t" / "year=2024" / "month=01").mkdir(parents=True)
    (tmp_path / "t" / "year=2024" / "month=01" / "a.csv").write_text("x\n1\n")
    (tmp_path / "t" / "_SUCCESS.csv").write_text("")
    (tmp_path / "empty").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "a.csv").write_text("x\n")
    tables = discover(tmp_path)
    assert [(t.name, t.file_format, t.partition_keys, len(t.files)) for t in tables] == [
        ("t", "csv", ("year", "month"), 1)
    ]
    assert discover(None) == []
