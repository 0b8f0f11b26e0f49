"""`query check`: the validator's verdict, and optionally the rows a query would import.

Analysts run this before submitting. The verdict is the deployed validator's own
(cli/validation.py): with `--stack` under the stack's settings (allowed databases, catalog,
targets), without it under the template's defaults, and a line says which. With
`--data-lake DIR` (one folder per table, Parquet or CSV) it also runs the query on DuckDB
the way the local cloud's Athena does, writes the result in Athena's CSV format and passes
it through the importer's own row checks for the run's target, so "would be imported"
means exactly what the importer will do. Counts and reasons are shown, never row values.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cli.output import emit, plural, table, to_json, wrapped
from cli.validation import Validator
from contracts import SegmentQueryRejected
from infra.local.athena.csv_format import csv_line, csv_row
from infra.local.athena.engine import DuckDbEngine
from infra.local.athena.errors import QueryFailedError
from infra.local.athena.lake import discover
from infra.local.athena.sql import prepare
from services.common.sql_rules import ValidationPolicy
from services.common.targets.imports import ImportVocabulary
from services.importer.rows import InvalidResultError, check_rows


def _run_on_lake(
    sql: str, lake: Path, policy: ValidationPolicy, vocabulary: ImportVocabulary
) -> dict[str, Any]:
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
        report = check_rows(athena_csv, io.BytesIO(), vocabulary=vocabulary)
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


def check_query(
    sql: str,
    *,
    validator: Validator,
    target: str | None,
    data_lake: Path | None,
    json_output: bool,
) -> int:
    """0 when the query would be accepted (and, with a lake, runs and imports rows)."""
    data: dict[str, Any] = {"query": sql}
    if target:
        data["target"] = target
    _, answer = validator.judge(data, datetime.now(UTC))
    deployment = validator.deployment
    run_target = answer.data.request.target if answer.data.request else None
    run_target = run_target or deployment.targets.default_target
    outcome: dict[str, Any] = {
        "accepted": not isinstance(answer, SegmentQueryRejected),
        "assumed": validator.assumed,
        "target": run_target.value,
    }
    if isinstance(answer, SegmentQueryRejected):
        outcome["reasons"] = [reason.model_dump(mode="json") for reason in answer.data.reasons]
    else:
        outcome["columns"] = answer.data.columns
        outcome["tables"] = answer.data.tables
        if data_lake is not None:
            vocabulary = deployment.targets.vocabulary(run_target, deployment.policy)
            outcome["data_lake"] = _run_on_lake(sql, data_lake, deployment.policy, vocabulary)
    if json_output:
        emit(to_json(outcome))
    else:
        _show(outcome)
    lake = outcome.get("data_lake") or {}
    good = outcome["accepted"] and (not lake or (lake.get("ran") and lake.get("importable")))
    return 0 if good else 1


def _show(outcome: dict[str, Any]) -> None:
    emit(wrapped(outcome["assumed"]))
    if outcome["accepted"]:
        emit(wrapped(f"accepted for {outcome['target']}: columns {', '.join(outcome['columns'])}"))
        emit(wrapped(f"reads: {', '.join(outcome['tables']) or '(no table)'}"))
    else:
        title = f"rejected ({plural(len(outcome['reasons']), 'reason')})"
        emit(table(outcome["reasons"], ["code", "message"], title=title, max_width=90))
    lake = outcome.get("data_lake")
    if lake is None:
        return
    if not lake["ran"]:
        emit(wrapped(f"the query fails on the data lake: {lake['athena_error']}"))
    elif not lake["importable"]:
        emit(wrapped(f"the result cannot be imported: {lake['reason']}"))
    else:
        emit(
            f"on the data lake: {plural(lake['rows_read'], 'row')}, "
            f"{lake['rows_to_import']} would be imported, {lake['rows_rejected']} rejected"
        )
        if lake["rejection_sample"]:
            columns = ["row_number", "code", "column", "message"]
            emit(table(lake["rejection_sample"], columns, max_width=70))
