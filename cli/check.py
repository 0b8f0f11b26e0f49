"""`query check`: the validator's verdict, and optionally the rows a query would import.

Analysts run this before submitting. Without a data lake it needs nothing but the SQL;
with `--data-lake DIR` (one folder per table, Parquet or CSV) it also runs the query on
DuckDB the way the local cloud's Athena does, writes the result in Athena's CSV format and
passes it through the importer's own row checks, so "would be imported" means exactly
what the importer will do. Counts and reasons are shown, never row values.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli.output import emit, table, to_json
from infra.local.athena.csv_format import csv_line, csv_row
from infra.local.athena.engine import DuckDbEngine
from infra.local.athena.errors import QueryFailedError
from infra.local.athena.lake import discover
from infra.local.athena.sql import prepare
from services.common.sql_rules import ValidationPolicy, validate
from services.importer.rows import InvalidResultError, check_rows


def _run_on_lake(sql: str, lake: Path, policy: ValidationPolicy) -> dict[str, Any]:

    engine = DuckDbEngine(catalog=policy.catalog, database=policy.default_database)
    try:
        engine.register(discover(lake))
        try:
            prepared = prepare(sql, datetime.now(UTC))
            result = engine.run(
                prepared,
                result_table="query_check",
                catalog=policy.catalog,
                database=policy.default_database,
            )
        except QueryFailedError as error:
            return {"ran": False, "athena_error": str(error)}
        athena_csv = io.BytesIO()
        athena_csv.write(csv_line(column.name for column in result.columns).encode())
        for batch in engine.batches(result):
            for row in batch:
                athena_csv.write(csv_row(row).encode())
        athena_csv.seek(0)
    finally:
        engine.close()
    try:
        report = check_rows(athena_csv, io.BytesIO())
    except InvalidResultError as error:
        return {"ran": True, "importable": False, "reason": str(error)}
    return {
        "ran": True,
        "importable": True,
        "rows_read": report.rows_read,
        "rows_to_import": report.rows_to_import,
        "rows_rejected": report.rows_rejected,
        "rejection_sample": [rejection.model_dump(mode="json") for rejection in report.sample],
    }


def check_query(sql: str, *, data_lake: Path | None, json_output: bool) -> int:
    """0 when the query would be accepted (and, with a lake, runs and imports rows)."""
    policy = ValidationPolicy()
    verdict = validate(sql, policy)
    outcome: dict[str, Any] = {
        "accepted": verdict.accepted,
        "columns": verdict.columns,
        "tables": verdict.tables,
        "reasons": [reason.model_dump(mode="json") for reason in verdict.reasons],
    }
    if verdict.accepted and data_lake is not None:
        outcome["data_lake"] = _run_on_lake(sql, data_lake, policy)
    if json_output:
        emit(to_json(outcome))
    else:
        _show(outcome)
    lake = outcome.get("data_lake") or {}
    good = verdict.accepted and (not lake or (lake.get("ran") and lake.get("importable")))
    return 0 if good else 1


def _show(outcome: dict[str, Any]) -> None:
    if outcome["accepted"]:
        emit(f"accepted: columns {', '.join(outcome['columns'])}")
        emit(f"reads: {', '.join(outcome['tables']) or '(no table)'}")
    else:
        emit(table(outcome["reasons"], ["code", "message"], title="rejected", max_width=90))
    lake = outcome.get("data_lake")
    if lake is None:
        return
    if not lake["ran"]:
        emit(f"the query fails on the data lake: {lake['athena_error']}")
    elif not lake["importable"]:
        emit(f"the result cannot be imported: {lake['reason']}")
    else:
        emit(
            f"on the data lake: {lake['rows_read']} rows, {lake['rows_to_import']} would be "
            f"imported, {lake['rows_rejected']} rejected"
        )
        if lake["rejection_sample"]:
            emit(table(lake["rejection_sample"], ["row_number", "code", "column", "message"]))
