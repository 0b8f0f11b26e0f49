"""`pinpoint-lake`: the demo on the local cloud, and the tools for a deployed stack.

Every command takes `--json`. Commands that talk to a deployed stack take `--stack NAME`
(the CloudFormation stack deployed from infra/template.yaml) and read its outputs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cli.output import emit, table, to_json
from cli.stack import StackError, StackOutputs, read_outputs


class UsageError(RuntimeError):
    """A problem the user can fix; the message says how."""


def _session(args: argparse.Namespace) -> Any:
    import boto3

    return (
        boto3.session.Session(region_name=args.region) if args.region else boto3.session.Session()
    )


def _outputs(args: argparse.Namespace) -> StackOutputs:
    if not args.stack:
        raise UsageError("this command needs --stack NAME (the deployed pinpoint-lake stack)")
    return read_outputs(_session(args).client("cloudformation"), args.stack)


def _read_sql(path: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"no SQL file at {path}: give the path of a file holding one query")
    return file.read_text(encoding="utf-8")


def _print(args: argparse.Namespace, value: Any, text: str) -> None:
    emit(to_json(value) if args.json else text)


# --------------------------------------------------------------------------- commands


def cmd_demo(args: argparse.Namespace) -> int:
    from cli.demo.run import run_demo

    return run_demo(json_output=args.json, endpoints=args.endpoints, keep=args.keep)


def cmd_graph(args: argparse.Namespace) -> int:
    from cli.graph import edges, mermaid

    found = edges()
    _print(args, [edge.__dict__ for edge in found], mermaid(found))
    return 0


def cmd_catalog_list(args: argparse.Namespace) -> int:
    from cli.catalog import CATALOG_COLUMNS, catalog_entries

    outputs = _outputs(args)
    entries = catalog_entries(
        _session(args).client("dynamodb"),
        outputs,
        resource_type=args.type,
        include_deleted=args.include_deleted,
    )
    _print(args, entries, table(entries, CATALOG_COLUMNS, title=f"{len(entries)} entries"))
    return 0


def cmd_catalog_backfill(args: argparse.Namespace) -> int:
    from contracts import (
        BackfillRequest,
        CatalogBackfillRequested,
        new_event_id,
        put_events_entry,
    )

    outputs = _outputs(args)
    request_id = new_event_id()
    event = CatalogBackfillRequested.new(
        BackfillRequest(requested_by="cli"), correlation_id=request_id, event_id=request_id
    )
    _put(args, outputs, put_events_entry(event, event_bus_name=outputs["EventBusName"]))
    _print(args, {"event_id": event.event_id}, f"backfill requested (event {event.event_id})")
    return 0


def _put(args: argparse.Namespace, outputs: StackOutputs, entry: Mapping[str, Any]) -> None:
    response = _session(args).client("events").put_events(Entries=[entry])
    if response.get("FailedEntryCount"):
        failure = response["Entries"][0]
        raise UsageError(
            f"EventBridge refused the event ({failure.get('ErrorCode')}: "
            f"{failure.get('ErrorMessage')}); check the bus {outputs['EventBusName']}"
        )


def cmd_query_submit(args: argparse.Namespace) -> int:
    import uuid

    from contracts import SegmentQueryRequested, put_events_entry

    fields: dict[str, Any] = {"run_id": args.run_id or f"run-{uuid.uuid4().hex[:12]}"}
    if args.segment_name:
        fields["segment_name"] = args.segment_name
    if args.segment_id:
        fields["segment_id"] = args.segment_id
    if args.sync_key:
        fields["sync_key"] = args.sync_key
    if args.mirror:
        fields["mirror"] = True
    if args.dry_run:
        fields["dry_run"] = True
    try:
        request = SegmentQueryRequested.from_user(_read_sql(args.sql), requested_by="cli", **fields)
    except ValueError as error:  # pydantic's ValidationError: the request breaks its contract
        raise UsageError(_request_problems(error)) from None
    outputs = _outputs(args)  # a bad request is refused before the stack is looked up
    _put(args, outputs, put_events_entry(request, event_bus_name=outputs["EventBusName"]))
    run_id = request.data.run_id
    if not args.wait:
        _print(
            args, {"run_id": run_id}, f"submitted run {run_id}; follow it with: runs show {run_id}"
        )
        return 0
    from cli.runs import follow_run

    return follow_run(_session(args), outputs, str(run_id), json_output=args.json)


def _request_problems(error: ValueError) -> str:
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return str(error)
    problems = [
        f"{'.'.join(str(part) for part in problem['loc']) or 'request'}: {problem['msg']}"
        for problem in error.errors()
    ]
    return "the request is not valid: " + "; ".join(problems)


def cmd_query_check(args: argparse.Namespace) -> int:
    sql = _read_sql(args.sql)
    from cli.check import check_query

    return check_query(
        sql,
        data_lake=Path(args.data_lake) if args.data_lake else None,
        json_output=args.json,
    )


def cmd_runs_show(args: argparse.Namespace) -> int:
    from cli.runs import render_run, run_status

    status = run_status(_session(args), _outputs(args), args.run_id)
    _print(args, status, render_run(status))
    return 0 if status.get("found") else 1


def cmd_trace(args: argparse.Namespace) -> int:
    from cli.traces import render, run_traces

    end = datetime.now(UTC)
    traces = run_traces(
        _session(args).client("xray"),
        args.run_id,
        start=end - timedelta(hours=args.hours),
        end=end,
    )
    if not traces:
        raise UsageError(
            f"no X-Ray trace mentions run {args.run_id} in the last {args.hours} h: "
            "check the run id, or widen the window with --hours"
        )
    _print(args, [trace.to_dict() for trace in traces], "\n\n".join(map(render, traces)))
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="machine-readable output")
    common.add_argument("--stack", help="name of the deployed pinpoint-lake stack")
    common.add_argument("--region", help="AWS region of the stack (default: your AWS config)")

    parser = argparse.ArgumentParser(prog="pinpoint-lake", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(
        group: Any, name: str, handler: Callable[[argparse.Namespace], int], text: str
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, parents=[common], help=text)
        sub.set_defaults(handler=handler)
        return sub

    demo = command(commands, "demo", cmd_demo, "run the whole system on the local cloud")
    demo.add_argument("--endpoints", type=int, default=10_000, help="endpoints in the lake")
    demo.add_argument("--keep", help="keep the demo's data lake in this folder")

    command(commands, "graph", cmd_graph, "the event flow as a Mermaid diagram")

    catalog = commands.add_parser("catalog", help="the names catalog").add_subparsers(
        dest="catalog_command", required=True
    )
    listing = command(catalog, "list", cmd_catalog_list, "list catalog entries")
    listing.add_argument("--type", choices=["campaign", "journey", "segment"])
    listing.add_argument("--include-deleted", action="store_true")
    command(catalog, "backfill", cmd_catalog_backfill, "re-read every resource into the catalog")

    query = commands.add_parser("query", help="segment queries").add_subparsers(
        dest="query_command", required=True
    )
    submit = command(query, "submit", cmd_query_submit, "publish a SegmentQueryRequested")
    submit.add_argument("--sql", required=True, help="file holding the query")
    submit.add_argument("--segment-name", help="define an imported segment with this name")
    submit.add_argument(
        "--segment-id", help="refresh this Pinpoint imported segment (a new version of it)"
    )
    submit.add_argument(
        "--sync-key",
        help="the saved segment this run syncs: send only rows changed since its last sync",
    )
    submit.add_argument(
        "--mirror",
        action="store_true",
        help="with --sync-key: clear the query's attributes of members who left the result",
    )
    submit.add_argument("--dry-run", action="store_true", help="check and report, import nothing")
    submit.add_argument("--run-id", help="choose the run id (default: generated)")
    submit.add_argument("--wait", action="store_true", help="follow the run to its end")
    check = command(query, "check", cmd_query_check, "the validator's verdict, locally")
    check.add_argument("--sql", required=True, help="file holding the query")
    check.add_argument("--data-lake", help="folder of tables to run the query on with DuckDB")

    runs = commands.add_parser("runs", help="segment runs").add_subparsers(
        dest="runs_command", required=True
    )
    show = command(runs, "show", cmd_runs_show, "a run's timeline and counts")
    show.add_argument("run_id")

    trace = command(commands, "trace", cmd_trace, "a run's X-Ray traces as a tree")
    trace.add_argument("run_id")
    trace.add_argument("--hours", type=int, default=24, help="how far back to look")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except (UsageError, StackError) as error:
        emit(f"error: {error}", sys.stderr)
        return 2
    return result
