"""Reading the catalog: its two tables, and Athena queries that join its mirror.

`catalog query --sql FILE` runs one Athena query in the stack's workgroup, where the
catalog's Glue database (output `CatalogDatabaseName`) sits beside the data lake, so a
report joins names to engagement events in plain SQL. On a deployed stack it polls
Athena; on the local cloud (`cli.demo.report`) the cloud runs until the query ends.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from cli.output import emit, table, to_json
from cli.stack import StackOutputs

CATALOG_COLUMNS = (
    "type",
    "id",
    "name",
    "deleted",
    "state",
    "segment_id",
    "event_name",
    "event_time",
)
_deserializer = TypeDeserializer()


def _rows(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    rows = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page.get("Items", []):
            rows.append({key: _deserializer.deserialize(value) for key, value in item.items()})
    return rows


def catalog_entries(
    dynamodb: Any,
    outputs: StackOutputs,
    *,
    resource_type: str | None = None,
    include_deleted: bool = False,
) -> list[dict[str, Any]]:
    """Both tables' entries, sorted by type and name; deleted ones only when asked."""
    entries = _rows(dynamodb, outputs["CampaignJourneyTableName"])
    for segment in _rows(dynamodb, outputs["SegmentTableName"]):
        entries.append({"type": "segment", **segment})
    selected = [
        entry
        for entry in entries
        if (resource_type is None or entry.get("type") == resource_type)
        and (include_deleted or not entry.get("deleted"))
    ]
    return sorted(selected, key=lambda entry: (str(entry.get("type")), str(entry.get("name"))))


QUERY_TIMEOUT_SECONDS = 600
_ENDED = {"SUCCEEDED", "FAILED", "CANCELLED"}


class CatalogQueryError(RuntimeError):
    """The query did not succeed; the message is Athena's reason."""


@dataclass(frozen=True)
class QueryRows:
    query_execution_id: str
    columns: list[str]
    rows: list[dict[str, str | None]]
    data_scanned_bytes: int


def run_query(
    athena: Any,
    outputs: StackOutputs,
    sql: str,
    *,
    wait: Callable[[], None] | None = None,
    timeout_seconds: float = QUERY_TIMEOUT_SECONDS,
) -> QueryRows:
    """Run `sql` in the stack's workgroup (its results location is enforced there), wait
    for its end with `wait` between polls, and read every result row as text."""
    started = athena.start_query_execution(
        QueryString=sql,
        WorkGroup=outputs["AthenaWorkGroupName"],
        QueryExecutionContext={"Database": outputs["CatalogDatabaseName"]},
    )
    query_id = str(started["QueryExecutionId"])
    deadline = time.monotonic() + timeout_seconds
    while True:
        execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        state = execution["Status"]["State"]
        if state in _ENDED:
            break
        if time.monotonic() > deadline:
            athena.stop_query_execution(QueryExecutionId=query_id)
            raise CatalogQueryError(
                f"query {query_id} still {state} after {timeout_seconds:.0f} s: stopped"
            )
        (wait or _pause)()
    if state != "SUCCEEDED":
        reason = execution["Status"].get("StateChangeReason") or state
        raise CatalogQueryError(f"Athena {state.lower()} query {query_id}: {reason}")
    columns: list[str] = []
    rows: list[dict[str, str | None]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        if not columns:
            info = page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
            columns = [str(column["Name"]) for column in info]
        for row in page["ResultSet"]["Rows"]:
            values = [datum.get("VarCharValue") for datum in row["Data"]]
            rows.append(dict(zip(columns, values, strict=True)))
    if rows and list(rows[0].values()) == columns:
        rows = rows[1:]  # Athena's first result row is the header
    scanned = int(execution.get("Statistics", {}).get("DataScannedInBytes", 0))
    return QueryRows(query_id, columns, rows, scanned)


def _pause() -> None:
    """Between two polls of a deployed stack's Athena."""
    time.sleep(1)


def cmd_catalog_query(args: Any, outputs: Callable[[], StackOutputs], session: Any) -> int:
    """`catalog query --sql FILE`: on --stack, else on a local cloud seeded like the demo."""
    sql = args.sql_text
    try:
        if args.stack:
            result = run_query(session.client("athena"), outputs(), sql)
        else:
            from cli.demo.report import local_catalog_query  # noqa: PLC0415 - starts moto

            result = local_catalog_query(sql)
    except CatalogQueryError as error:
        emit(f"error: {error}", sys.stderr)
        return 1
    if args.json:
        emit(to_json({"columns": result.columns, "rows": result.rows}))
    else:
        title = f"{len(result.rows)} rows ({result.data_scanned_bytes} bytes scanned)"
        emit(table(result.rows, result.columns, title=title, max_width=60))
    return 0
