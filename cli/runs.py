"""A run's state, read from the two run ledgers (query-runner's and importer's).

The ledgers are the services' own records of each run: the Athena execution and its
status, then the import job, its status, counts, the first rejected rows' reasons and how
it ended. `runs show` explains a run from them (and asks Athena why a query failed);
`runs list` lists recent runs. Row values are never shown: a rejected row is its number,
column and reason. A run the validator rejected never reaches those ledgers: the validator
records it, with its reasons, in the stack's RejectedRunsTable, read here too (and
`query submit` checks a query with the validator's own code before publishing it,
cli/validation.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from cli.errors import ExitCode
from cli.output import emit, plural, table, to_json, wrapped
from cli.stack import StackOutputs

_deserializer = TypeDeserializer()
QUERY_ENDED = {"FAILED", "CANCELLED", "TIMED_OUT"}
IMPORT_ENDED = {"COMPLETE", "PARTIAL", "FAILED", "TIMED_OUT", "NOTHING_TO_IMPORT", "DRY_RUN"}
ENDED_WELL = {"COMPLETE", "DRY_RUN", "NOTHING_TO_IMPORT"}


def _plain_item(item: dict[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def _item(dynamodb: Any, table_name: str | None, run_id: str) -> dict[str, Any] | None:
    if not table_name:
        return None
    item = dynamodb.get_item(TableName=table_name, Key={"run_id": {"S": run_id}}).get("Item")
    return None if item is None else _plain_item(item)


def _json(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _query_view(item: dict[str, Any]) -> dict[str, Any]:
    validated = _json(item.get("validated"))
    return {
        "status": item.get("status"),
        "query_execution_id": item.get("query_execution_id"),
        "started": validated.get("metadata", {}).get("occurred_at"),
        "deadline": item.get("deadline"),
        "request": validated.get("data", {}).get("request") or {},
        "target": validated.get("data", {}).get("target"),
    }


def _import_view(item: dict[str, Any]) -> dict[str, Any]:
    stored = _json(item.get("outcome"))
    outcome = stored.get("event", {}).get("data", {})
    rejections = item.get("rejection_sample")
    view: dict[str, Any] = {
        "status": item.get("status"),
        "import_job_id": item.get("import_job_id"),
        "claimed": item.get("claimed_at"),
        "counts": {
            name: int(item[name])
            for name in (
                "rows_read",
                "rows_to_import",
                "rows_rejected",
                # A sync's split of the result (absent from runs before syncs existed).
                "rows_in_result",
                "rows_sent",
                "rows_unchanged",
                "rows_cleared",
            )
            if item.get(name) is not None
        },
        # Reasons only: a RowRejection never holds a row's values.
        "rejected_rows": json.loads(rejections) if isinstance(rejections, str) else [],
    }
    for name in (
        "reason",
        "endpoints_imported",
        "pinpoint_failures",
        "pinpoint_failure_sample",
        "profiles_created",
        "profiles_updated",
        "profiles_failed",
        "segment_id",
        "segment_definition_name",
    ):
        if outcome.get(name) not in (None, [], 0) or (name == "endpoints_imported" and outcome):
            view[name] = outcome.get(name)
    return view


def _rejected_view(item: dict[str, Any]) -> dict[str, Any]:
    """A run the validator rejected, as the validator recorded it (reasons, no query)."""
    reasons = json.loads(item["reasons"]) if isinstance(item.get("reasons"), str) else []
    return {
        "found": True,
        "rejection": reasons,
        "rejected_at": item.get("rejected_at"),
        "target": item.get("target") or "pinpoint",
        "sync_key": item.get("sync_key"),
    }


def outcome_of(status: dict[str, Any]) -> str:
    """One word for where the run is: NOT_FOUND, RUNNING, REJECTED, or how it ended."""
    if status.get("rejection"):
        return "REJECTED"
    if not status.get("found"):
        return "NOT_FOUND"
    query = str(status.get("query", {}).get("status") or "")
    imported = str(status.get("import", {}).get("status") or "")
    if imported in IMPORT_ENDED:
        return imported
    if query in QUERY_ENDED:
        return query
    return "RUNNING"


def exit_code(status: dict[str, Any]) -> ExitCode:
    """0 ended well, 4 still running, 1 anything else (failed, partial, not found)."""
    outcome = outcome_of(status)
    if outcome in ENDED_WELL:
        return ExitCode.OK
    if outcome == "RUNNING":
        return ExitCode.RUNNING
    return ExitCode.FAILED


def _athena_reason(session: Any, execution_id: str | None) -> str | None:
    """Why Athena ended a query (its StateChangeReason); None if it gave none."""
    if not execution_id:
        return None
    execution = session.client("athena").get_query_execution(QueryExecutionId=execution_id)
    reason = execution.get("QueryExecution", {}).get("Status", {}).get("StateChangeReason")
    return str(reason) if reason else None


def run_status(session: Any, outputs: StackOutputs, run_id: str) -> dict[str, Any]:
    """What the ledgers know of `run_id`: its outcome, the query step and the import step."""
    dynamodb = session.client("dynamodb")
    query = _item(dynamodb, outputs.get("QueryRunsTableName"), run_id)
    imported = _item(dynamodb, outputs.get("ImportRunsTableName"), run_id)
    status: dict[str, Any] = {"run_id": run_id, "found": bool(query or imported)}
    if not status["found"]:
        rejected = _item(dynamodb, outputs.get("RejectedRunsTableName"), run_id)
        if rejected:
            status |= _rejected_view(rejected)
    if query:
        view = _query_view(query)
        request = view.pop("request")
        status["sql"] = request.get("query")
        status["target"] = view.pop("target") or request.get("target") or "pinpoint"
        status["sync_key"] = request.get("sync_key")
        status["query"] = view
        if view["status"] in QUERY_ENDED:
            view["athena_reason"] = _athena_reason(session, view["query_execution_id"])
    if imported:
        status["import"] = _import_view(imported)
        if imported.get("sync"):
            # A sync: which saved segment, and the sync it was compared with.
            sync = _json(imported["sync"])
            previous = sync.get("previous") or {}
            status["import"]["sync_scope"] = sync.get("scope")
            status["import"]["compared_with_run"] = previous.get("run_id") or "(none: full sync)"
    status["outcome"] = outcome_of(status)
    return status


def run_ended(status: dict[str, Any]) -> bool:
    """Whether the run ended (a rejection included)."""
    return outcome_of(status) not in {"RUNNING", "NOT_FOUND"}


def render_run(status: dict[str, Any]) -> str:
    run_id = status["run_id"]
    if status.get("rejection"):
        when = f" at {status['rejected_at']}" if status.get("rejected_at") else ""
        title = f"run {run_id}: REJECTED by the validator{when}"
        return table(status["rejection"], ["code", "message"], title=title, max_width=90)
    if not status.get("found"):
        return wrapped(
            f"run {run_id} is in neither run ledger: it has not started yet, or the validator "
            "rejected it (its SNS notification says why; `query check --stack` shows the "
            "reasons for the same SQL)"
        )
    lines = [
        f"run {run_id}: {status['outcome']}  (target {status.get('target') or '-'}, "
        f"sync key {status.get('sync_key') or '-'})"
    ]
    query = status.get("query")
    if query:
        lines.append(
            f"  query   {query['status']}  execution {query.get('query_execution_id') or '-'}"
            f"  started {query.get('started') or '-'}"
        )
        if query.get("athena_reason"):
            lines.append(wrapped(f"    Athena's reason: {query['athena_reason']}", indent="      "))
    imported = status.get("import")
    if imported:
        lines.append(f"  import  {imported['status']}  job {imported.get('import_job_id') or '-'}")
        counts = imported.get("counts") or {}
        if counts:
            lines.append(
                f"    {plural(counts.get('rows_read', 0), 'row')} read, "
                f"{counts.get('rows_to_import', 0)} to import, "
                f"{counts.get('rows_rejected', 0)} rejected"
            )
        if "compared_with_run" in imported:
            lines.append(
                f"    sync {imported.get('sync_scope') or '-'}: "
                f"{counts.get('rows_sent', 0)} sent, {counts.get('rows_unchanged', 0)} unchanged, "
                f"{counts.get('rows_cleared', 0)} cleared; compared with "
                f"{imported['compared_with_run']}"
            )
        lines.extend(_import_details(imported))
    elif query and query["status"] == "SUCCEEDED":
        lines.append("  import  not started yet (the importer picks the result up next)")
    return "\n".join(lines)


def _import_details(imported: dict[str, Any]) -> Iterable[str]:
    if "endpoints_imported" in imported:
        yield f"    {plural(imported['endpoints_imported'] or 0, 'endpoint')} imported"
    for name, done in (
        ("profiles_created", "created"),
        ("profiles_updated", "updated"),
        ("profiles_failed", "failed"),
    ):
        if imported.get(name) is not None:
            yield f"    {plural(imported[name], 'profile')} {done}"
    if imported.get("reason"):
        yield wrapped(f"    why it failed: {imported['reason']}", indent="      ")
    if imported.get("pinpoint_failures"):
        yield f"    {plural(imported['pinpoint_failures'], 'row')} failed in the import job:"
        for message in imported.get("pinpoint_failure_sample") or []:
            yield wrapped(f"      - {message}", indent="        ")
    rejected = imported.get("rejected_rows") or []
    if rejected:
        total = (imported.get("counts") or {}).get("rows_rejected", len(rejected))
        title = (
            f"    first {plural(len(rejected), 'rejected row')} of {total} (reasons, no values):"
        )
        yield title
        rows = table(rejected, ["row_number", "code", "column", "message"], max_width=70)
        yield "\n".join("      " + line for line in rows.splitlines())


LIST_COLUMNS = ("run_id", "outcome", "query", "import", "target", "sync_key", "started")


def _scan(dynamodb: Any, table_name: str | None) -> Iterable[dict[str, Any]]:
    if not table_name:
        return
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name):
        for item in page.get("Items", []):
            yield _plain_item(item)


def list_runs(
    session: Any,
    outputs: StackOutputs,
    *,
    status: str | None = None,
    sync_key: str | None = None,
    target: str | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Recent runs of both ledgers, newest first; filters compare case-insensitively.

    The ledgers are scanned: they hold one item per run, and the CLI reads them rarely.
    """
    dynamodb = session.client("dynamodb")
    runs: dict[str, dict[str, Any]] = {}
    for item in _scan(dynamodb, outputs.get("QueryRunsTableName")):
        view = _query_view(item)
        request = view["request"]
        runs[str(item["run_id"])] = {
            "run_id": item["run_id"],
            "query": view["status"],
            "target": view["target"] or request.get("target") or "pinpoint",
            "sync_key": request.get("sync_key"),
            "started": view["started"],
        }
    for item in _scan(dynamodb, outputs.get("ImportRunsTableName")):
        run = runs.setdefault(str(item["run_id"]), {"run_id": item["run_id"]})
        run["import"] = item.get("status")
        run.setdefault("started", item.get("claimed_at"))
    for item in _scan(dynamodb, outputs.get("RejectedRunsTableName")):
        if str(item["run_id"]) not in runs:  # a run id reused after a rejection: the run
            view = _rejected_view(item)
            runs[str(item["run_id"])] = {
                "run_id": item["run_id"],
                "outcome": "REJECTED",
                "target": view["target"],
                "sync_key": view["sync_key"],
                "started": view["rejected_at"],
            }
    for run in runs.values():
        if run.get("outcome") == "REJECTED":
            continue
        found = {"found": True, "query": {"status": run.get("query")}}
        found["import"] = {"status": run.get("import")}
        run["outcome"] = outcome_of(found)

    def keep(run: dict[str, Any]) -> bool:
        statuses = {str(run.get(name) or "").upper() for name in ("outcome", "query", "import")}
        return (
            (status is None or status.upper() in statuses)
            and (sync_key is None or run.get("sync_key") == sync_key)
            and (target is None or str(run.get("target") or "").lower() == target.lower())
        )

    selected = sorted(filter(keep, runs.values()), key=lambda run: str(run.get("started") or ""))
    return list(reversed(selected))[:limit]


def follow_run(
    session: Any,
    outputs: StackOutputs,
    run_id: str,
    *,
    json_output: bool,
    poll_seconds: float = 5.0,
    start_seconds: float = 180.0,
    limit_seconds: float = 3600.0,
    sleep: Any = time.sleep,
) -> int:
    """Print each change of the run's state until it ends; its exit code (see exit_code).

    A rejection ends it like any outcome. A run that reaches no ledger within
    `start_seconds` is not being processed (an older stack without the rejected-runs table
    rejected it, or the validator's queue is stuck): waiting longer cannot change that.
    """
    waited = 0.0
    last: str | None = None
    while True:
        status = run_status(session, outputs, run_id)
        step = (
            f"query: {status.get('query', {}).get('status', '-')}  "
            f"import: {status.get('import', {}).get('status', '-')}"
        )
        if step != last and not json_output:
            emit(f"[{int(waited):>5}s] {step}")
        last = step
        if run_ended(status):
            emit(to_json(status) if json_output else render_run(status))
            return exit_code(status)
        if not status["found"] and waited >= start_seconds:
            message = (
                f"run {run_id} has not started after {int(start_seconds)} s: the validator "
                "rejected it (see the SNS notification), or the stack does not process "
                "requests (check its query-validator queue and DLQ)"
            )
            emit(to_json({**status, "outcome": "NOT_STARTED"}) if json_output else wrapped(message))
            return ExitCode.FAILED
        if waited >= limit_seconds:
            emit(
                wrapped(
                    f"run {run_id} has not ended after {int(limit_seconds)} s; follow it "
                    f"with: pinpoint-lake runs show {run_id}"
                )
            )
            return ExitCode.RUNNING
        sleep(poll_seconds)
        waited += poll_seconds
