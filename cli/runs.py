"""A run's state, read from the two run ledgers (query-runner's and importer's).

The ledgers are the services' own records of each run: the Athena execution and its
status, then the import job, its status and counts. A run that was rejected by the
validator never reaches a ledger; its `SegmentQueryRejected` event and the SNS message
are where it is told.
"""

from __future__ import annotations

import json
import time
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from cli.output import emit, table, to_json
from cli.stack import StackOutputs

_deserializer = TypeDeserializer()
QUERY_ENDED = {"FAILED", "CANCELLED", "TIMED_OUT"}
IMPORT_ENDED = {"COMPLETE", "PARTIAL", "FAILED", "TIMED_OUT", "NOTHING_TO_IMPORT", "DRY_RUN"}
_HIDDEN = {"validated", "succeeded", "outcome", "request", "run_id", "trace_header", "sync"}


def _item(dynamodb: Any, table_name: str | None, run_id: str) -> dict[str, Any] | None:
    if not table_name:
        return None
    item = dynamodb.get_item(TableName=table_name, Key={"run_id": {"S": run_id}}).get("Item")
    if item is None:
        return None
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def run_status(session: Any, outputs: StackOutputs, run_id: str) -> dict[str, Any]:
    """What the ledgers know of `run_id`: {'found', 'query': {...}, 'import': {...}}."""
    dynamodb = session.client("dynamodb")
    query = _item(dynamodb, outputs.get("QueryRunsTableName"), run_id)
    imported = _item(dynamodb, outputs.get("ImportRunsTableName"), run_id)
    status: dict[str, Any] = {"run_id": run_id, "found": bool(query or imported)}
    if query:
        validated = json.loads(query.get("validated") or "{}")
        status["query"] = {key: value for key, value in query.items() if key not in _HIDDEN}
        status["sql"] = validated.get("data", {}).get("request", {}).get("query")
    if imported:
        status["import"] = {key: value for key, value in imported.items() if key not in _HIDDEN}
        if imported.get("sync"):
            # A sync: which saved segment, and the sync it was compared with.
            sync = json.loads(imported["sync"])
            previous = sync.get("previous") or {}
            status["import"]["sync_scope"] = sync.get("scope")
            status["import"]["compared_with_run"] = previous.get("run_id") or "(none: full sync)"
    return status


def run_ended(status: dict[str, Any]) -> bool:
    query_status = str(status.get("query", {}).get("status", "")).upper()
    import_status = str(status.get("import", {}).get("status", "")).upper()
    return query_status in QUERY_ENDED or import_status in IMPORT_ENDED


def render_run(status: dict[str, Any]) -> str:
    if not status.get("found"):
        return (
            f"run {status['run_id']} is in neither run ledger: it may have been rejected by "
            "the validator (see the SNS notification) or not have started yet"
        )
    rows = []
    for stage in ("query", "import"):
        for key, value in sorted((status.get(stage) or {}).items()):
            rows.append({"stage": stage, "field": key, "value": value})
    return table(rows, ["stage", "field", "value"], title=f"run {status['run_id']}", max_width=60)


def follow_run(
    session: Any,
    outputs: StackOutputs,
    run_id: str,
    *,
    json_output: bool,
    poll_seconds: float = 5.0,
    limit_seconds: float = 3600.0,
) -> int:
    """Print each change of the run's state until it ends; 0 when it ended well."""
    waited = 0.0
    last: dict[str, Any] | None = None
    while waited <= limit_seconds:
        status = run_status(session, outputs, run_id)
        if status != last and not json_output:
            query = status.get("query", {}).get("status", "-")
            imported = status.get("import", {}).get("status", "-")
            emit(f"[{int(waited):>5}s] query: {query}  import: {imported}")
        last = status
        if run_ended(status):
            emit(to_json(status) if json_output else render_run(status))
            import_status = str(status.get("import", {}).get("status", "")).upper()
            failed = import_status in {"FAILED", "TIMED_OUT"}
            return 1 if failed or status.get("query", {}).get("status") in QUERY_ENDED else 0
        time.sleep(poll_seconds)
        waited += poll_seconds
    emit(f"run {run_id} has not ended after {int(limit_seconds)} s; check it with runs show")
    return 1
