"""End to end through plain boto3: lifecycle, results, paging, result files, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from infra.local.athena import AthenaEmulator
from infra.local.clock import VirtualClock
from tests.local.athena.conftest import BUCKET, OUTPUT, RunQuery, all_rows


def test_query_moves_queued_running_succeeded_on_ticks(
    athena: Any, emulator: AthenaEmulator, clock: VirtualClock
) -> None:
    query_id = athena.start_query_execution(
        QueryString="SELECT endpoint_id FROM email_click",
        QueryExecutionContext={"Database": "due_eventdb"},
        ResultConfiguration={"OutputLocation": OUTPUT},
    )["QueryExecutionId"]

    def state() -> str:
        status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        return str(status["State"])

    assert state() == "QUEUED"
    assert emulator.busy()
    clock.advance(2)
    emulator.tick()
    assert state() == "RUNNING"
    clock.advance(3)
    emulator.tick()
    assert state() == "SUCCEEDED"
    assert not emulator.busy()

    execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    assert execution["ResultConfiguration"]["OutputLocation"] == f"{OUTPUT}{query_id}.csv"
    assert execution["StatementType"] == "DML"
    assert execution["QueryExecutionContext"] == {
        "Catalog": "AwsDataCatalog",
        "Database": "due_eventdb",
    }
    assert execution["WorkGroup"] == "primary"
    statistics = execution["Statistics"]
    assert statistics["QueryQueueTimeInMillis"] == 2000
    assert statistics["EngineExecutionTimeInMillis"] == 3000
    assert statistics["TotalExecutionTimeInMillis"] == 5000
    assert statistics["DataScannedInBytes"] > 0
    status = execution["Status"]
    assert (status["CompletionDateTime"] - status["SubmissionDateTime"]).total_seconds() == 5


def test_results_page_with_header_first_and_athena_types(athena: Any, run_query: RunQuery) -> None:
    execution = run_query(
        "SELECT endpoint_id AS Id, count(*) AS clicks, max(event_timestamp) AS last_click,"
        " count(*) > 1 AS repeat, 1.5 AS score, DATE '2024-01-02' AS day"
        " FROM email_click GROUP BY endpoint_id ORDER BY endpoint_id"
    )
    query_id = execution["QueryExecutionId"]
    first = athena.get_query_results(QueryExecutionId=query_id, MaxResults=2)
    columns = first["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in columns] == [
        ("Id", "varchar"),
        ("clicks", "bigint"),
        ("last_click", "timestamp"),
        ("repeat", "boolean"),
        ("score", "decimal"),
        ("day", "date"),
    ]
    assert len(first["ResultSet"]["Rows"]) == 2
    assert "NextToken" in first

    rows = all_rows(athena, query_id, page_size=2)
    assert rows[0] == ["Id", "clicks", "last_click", "repeat", "score", "day"]
    assert rows[1:] == [
        ["ep-1", "2", "2024-06-01 10:00:00.000", "true", "1.5", "2024-01-02"],
        ["ep-2", "1", "2024-06-01 10:00:00.000", "false", "1.5", "2024-01-02"],
        ["ep-3", "1", "2024-04-22 12:00:00.000", "false", "1.5", "2024-01-02"],
    ]
    assert all_rows(athena, query_id) == rows


def test_null_is_a_datum_without_value(athena: Any, run_query: RunQuery) -> None:
    execution = run_query("SELECT id, state FROM salesforce_contact ORDER BY id")
    page = athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    assert page["ResultSet"]["Rows"][3]["Data"] == [{"VarCharValue": "ep-3"}, {}]


def test_csv_file_is_written_like_athena(athena: Any, s3: Any, run_query: RunQuery) -> None:
    execution = run_query(
        "SELECT * FROM (VALUES (1, 'plain', 'say \"hi\"'), (2, NULL, 'a,b'),"
        " (3, '', 'naïve ☃'), (4, 'two\nlines', NULL)) AS t(n, \"Mixed.Case\", other) ORDER BY n"
    )
    query_id = execution["QueryExecutionId"]
    body = s3.get_object(Bucket=BUCKET, Key=f"queries/{query_id}.csv")["Body"].read()
    assert body.decode("utf-8") == (
        '"n","Mixed.Case","other"\n'
        '"1","plain","say ""hi"""\n'
        '"2",,"a,b"\n'
        '"3","","naïve ☃"\n'
        '"4","two\nlines",\n'
    )
    metadata = s3.get_object(Bucket=BUCKET, Key=f"queries/{query_id}.csv.metadata")
    described = json.loads(metadata["Body"].read())
    assert [c["name"] for c in described["columns"]] == ["n", "Mixed.Case", "other"]


def test_same_client_request_token_returns_same_query(athena: Any) -> None:
    request = {
        "QueryString": "SELECT 1",
        "ClientRequestToken": "a" * 32,
        "ResultConfiguration": {"OutputLocation": OUTPUT},
    }
    first = athena.start_query_execution(**request)["QueryExecutionId"]
    second = athena.start_query_execution(**request)["QueryExecutionId"]
    other = athena.start_query_execution(**{**request, "ClientRequestToken": "b" * 32})
    assert first == second
    assert other["QueryExecutionId"] != first
    listed = athena.list_query_executions()["QueryExecutionIds"]
    assert sorted(listed) == sorted([first, other["QueryExecutionId"]])


@pytest.mark.parametrize(
    ("sql", "error_type", "reason"),
    [
        ("SELECT nope FROM email_click", 1006, "COLUMN_NOT_FOUND"),
        ("SELECT endpoint_id FROM no_such_table", 1110, "TABLE_NOT_FOUND"),
        ("SELEC endpoint_id FROM email_click", 1006, "SYNTAX_ERROR"),
        ("SELECT CAST('x' AS integer)", 1001, "INVALID_CAST_ARGUMENT"),
        ("SELECT endpoint_id, count(*) FROM email_click", 1006, "EXPRESSION_NOT_AGGREGATE"),
        ("SELECT 1; SELECT 2", 1006, "Only one sql statement"),
        ("CREATE TABLE t AS SELECT 1", 1202, "NOT_SUPPORTED"),
    ],
)
def test_engine_errors_fail_the_query_with_athena_error(
    run_query: RunQuery, sql: str, error_type: int, reason: str
) -> None:
    status = run_query(sql)["Status"]
    assert status["State"] == "FAILED"
    assert reason in status["StateChangeReason"]
    error = status["AthenaError"]
    assert (error["ErrorCategory"], error["ErrorType"], error["Retryable"]) == (
        2,
        error_type,
        False,
    )
    assert error["ErrorMessage"] == status["StateChangeReason"]


def test_reason_carries_the_engine_message(run_query: RunQuery) -> None:
    status = run_query("SELECT nope FROM email_click")["Status"]
    assert status["StateChangeReason"].startswith("COLUMN_NOT_FOUND: ")
    assert '"nope"' in status["StateChangeReason"]


def test_table_names_resolve_bare_by_database_and_by_catalog(run_query: RunQuery) -> None:
    for sql in (
        "SELECT count(*) FROM email_click",
        "SELECT count(*) FROM due_eventdb.email_click",
        'SELECT count(*) FROM "AwsDataCatalog"."due_eventdb"."email_click"',
        "SELECT count(*) FROM awsdatacatalog.due_eventdb.email_click",
    ):
        assert run_query(sql)["Status"]["State"] == "SUCCEEDED", sql
    # Without a database in the context, Athena's current database is `default`.
    no_context = run_query("SELECT count(*) FROM email_click", QueryExecutionContext={})
    assert no_context["Status"]["State"] == "FAILED"
    qualified = run_query("SELECT count(*) FROM due_eventdb.email_click", QueryExecutionContext={})
    assert qualified["Status"]["State"] == "SUCCEEDED"


def test_stop_cancels_a_running_query(
    athena: Any, emulator: AthenaEmulator, clock: VirtualClock
) -> None:
    query_id = athena.start_query_execution(
        QueryString="SELECT 1", ResultConfiguration={"OutputLocation": OUTPUT}
    )["QueryExecutionId"]
    emulator.tick()
    athena.stop_query_execution(QueryExecutionId=query_id)
    status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
    assert status["State"] == "CANCELLED"
    assert status["AthenaError"]["ErrorType"] == 1011
    emulator.tick()  # nothing left to do; stopping again is a no-op like in Athena
    athena.stop_query_execution(QueryExecutionId=query_id)
    assert not emulator.busy()


def test_results_of_unfinished_or_failed_queries_are_refused(
    athena: Any, run_query: RunQuery
) -> None:
    query_id = athena.start_query_execution(
        QueryString="SELECT 1", ResultConfiguration={"OutputLocation": OUTPUT}
    )["QueryExecutionId"]
    with pytest.raises(ClientError) as refused:
        athena.get_query_results(QueryExecutionId=query_id)
    assert refused.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "Current state: QUEUED" in refused.value.response["Error"]["Message"]
    assert dict(refused.value.response)["AthenaErrorCode"] == "INVALID_INPUT"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    failed = run_query("SELECT nope FROM email_click")["QueryExecutionId"]
    with pytest.raises(athena.exceptions.InvalidRequestException, match="COLUMN_NOT_FOUND"):
        athena.get_query_results(QueryExecutionId=failed)


def test_unknown_ids_and_bad_page_sizes_are_invalid_requests(
    athena: Any, run_query: RunQuery
) -> None:
    with pytest.raises(athena.exceptions.InvalidRequestException, match="was not found"):
        athena.get_query_execution(QueryExecutionId="0" * 36)
    with pytest.raises(athena.exceptions.InvalidRequestException, match="was not found"):
        athena.stop_query_execution(QueryExecutionId="0" * 36)
    done = run_query("SELECT 1")["QueryExecutionId"]
    with pytest.raises(athena.exceptions.InvalidRequestException, match="less than or equal"):
        athena.get_query_results(QueryExecutionId=done, MaxResults=1001)
    with pytest.raises(athena.exceptions.InvalidRequestException, match="NextToken"):
        athena.get_query_results(QueryExecutionId=done, NextToken="bm9wZQ==")


def test_batch_get_and_list(athena: Any, run_query: RunQuery) -> None:
    first = run_query("SELECT 1")["QueryExecutionId"]
    second = run_query("SELECT 2")["QueryExecutionId"]
    batch = athena.batch_get_query_execution(QueryExecutionIds=[first, "missing", second])
    assert [e["QueryExecutionId"] for e in batch["QueryExecutions"]] == [first, second]
    assert batch["UnprocessedQueryExecutionIds"][0]["QueryExecutionId"] == "missing"

    newest_first = athena.list_query_executions(MaxResults=1)
    assert newest_first["QueryExecutionIds"] == [second]
    rest = athena.list_query_executions(MaxResults=1, NextToken=newest_first["NextToken"])
    assert rest["QueryExecutionIds"] == [first]
    assert "NextToken" not in rest


def test_missing_output_bucket_fails_the_query(run_query: RunQuery) -> None:
    status = run_query(
        "SELECT 1", ResultConfiguration={"OutputLocation": "s3://no-such-bucket/x/"}
    )["Status"]
    assert status["State"] == "FAILED"
    assert status["AthenaError"]["ErrorType"] == 1306
    assert "no-such-bucket" in status["StateChangeReason"]


def test_now_is_the_virtual_clock(run_query: RunQuery, athena: Any) -> None:
    execution = run_query("SELECT CAST(now() AS varchar) AS now, current_date AS today")
    rows = all_rows(athena, execution["QueryExecutionId"])
    # Started one virtual second after the fixture's NOW (2024-06-01 12:00 UTC).
    assert rows[1][0] is not None
    assert rows[1][0].startswith("2024-06-01 12:00:01")
    assert rows[1][1] == "2024-06-01"
