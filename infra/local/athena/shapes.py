"""Service objects → the output members of Athena's botocore shapes (member names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from infra.local.athena.column_types import athena_type
from infra.local.athena.engine import ResultColumn
from infra.local.athena.executions import QueryExecution, State

ENGINE_VERSION = {
    "SelectedEngineVersion": "AUTO",
    "EffectiveEngineVersion": "Athena engine version 3",
}


def _millis(start: datetime | None, end: datetime | None) -> int:
    if start is None or end is None:
        return 0
    return max(int((end - start).total_seconds() * 1000), 0)


def query_execution(execution: QueryExecution, now: datetime) -> dict[str, Any]:
    """A ``QueryExecution`` structure as ``GetQueryExecution`` returns it."""
    status: dict[str, Any] = {
        "State": str(execution.state),
        "SubmissionDateTime": execution.submitted_at,
    }
    if execution.state_change_reason:
        status["StateChangeReason"] = execution.state_change_reason
    if execution.completed_at is not None:
        status["CompletionDateTime"] = execution.completed_at
    failure = execution.failure
    if failure is not None and execution.state in {State.FAILED, State.CANCELLED}:
        status["AthenaError"] = {
            "ErrorCategory": failure.category,
            "ErrorType": failure.error_type,
            "Retryable": failure.retryable,
            "ErrorMessage": failure.message,
        }
    end = execution.completed_at or now
    context: dict[str, Any] = {"Catalog": execution.catalog}
    if execution.database:
        context["Database"] = execution.database
    return {
        "QueryExecutionId": execution.query_execution_id,
        "Query": execution.query,
        "StatementType": execution.statement_type,
        "SubstatementType": execution.substatement_type,
        "ResultConfiguration": {"OutputLocation": execution.output_location},
        "ResultReuseConfiguration": {"ResultReuseByAgeConfiguration": {"Enabled": False}},
        "QueryExecutionContext": context,
        "Status": status,
        "Statistics": {
            "EngineExecutionTimeInMillis": _millis(execution.started_at, end),
            "DataScannedInBytes": execution.data_scanned_bytes,
            "TotalExecutionTimeInMillis": _millis(execution.submitted_at, end),
            "QueryQueueTimeInMillis": _millis(execution.submitted_at, execution.started_at or end),
            "ServicePreProcessingTimeInMillis": 0,
            "QueryPlanningTimeInMillis": 0,
            "ServiceProcessingTimeInMillis": 0,
            "ResultReuseInformation": {"ReusedPreviousResult": False},
        },
        "WorkGroup": execution.workgroup,
        "EngineVersion": dict(ENGINE_VERSION),
    }


def column_info(column: ResultColumn) -> dict[str, Any]:
    """``ColumnInfo`` as Athena fills it for a query result (catalog ``hive``, no table)."""
    kind = athena_type(column.duckdb_type)
    return {
        "CatalogName": "hive",
        "SchemaName": "",
        "TableName": "",
        "Name": column.name,
        "Label": column.name,
        "Type": kind.name,
        "Precision": kind.precision,
        "Scale": kind.scale,
        "Nullable": "UNKNOWN",
        "CaseSensitive": kind.name in {"varchar", "char", "json"},
    }


def result_row(texts: list[str | None]) -> dict[str, Any]:
    """A ``Row``; NULL is a ``Datum`` without ``VarCharValue``, as in Athena."""
    return {"Data": [{} if text is None else {"VarCharValue": text} for text in texts]}
