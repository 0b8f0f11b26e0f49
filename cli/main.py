"""`pinpoint-lake`: the demo on the local cloud, and the tools for a deployed stack.

Every command takes `--json` (before or after the command). Commands that talk to a
deployed stack take `--stack NAME` (the CloudFormation stack deployed from
infra/template.yaml) and read its outputs. Exit codes: 0 done, 1 what was checked or
followed failed (a rejected query, a failed run, a run that is not there), 2 a usage or
input error, 3 AWS cannot be used (region, credentials, network, access, the stack),
4 the run has not ended yet, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cli.errors import AwsError, ExitCode, UsageError, explain
from cli.output import emit, plural, table, to_json, wrapped
from cli.sql_file import read_sql
from cli.stack import StackOutputs, read_outputs

__all__ = ["UsageError", "build_parser", "main"]


def _session(args: argparse.Namespace) -> Any:
    import boto3

    return (
        boto3.session.Session(region_name=args.region) if args.region else boto3.session.Session()
    )


def _outputs(args: argparse.Namespace) -> StackOutputs:
    if not args.stack:
        raise UsageError("this command needs --stack NAME (the deployed pinpoint-lake stack)")
    return read_outputs(_session(args).client("cloudformation"), args.stack)


def _print(args: argparse.Namespace, value: Any, text: str) -> None:
    emit(to_json(value) if args.json else text)


def _folder(path: str, option: str) -> Path:
    folder = Path(path)
    if not folder.is_dir():
        raise UsageError(
            f"{option} {path} is not a folder: give a folder with one folder per table"
        )
    return folder


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
    title = plural(len(entries), "entry", "entries")
    _print(args, entries, table(entries, CATALOG_COLUMNS, title=title))
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


def cmd_catalog_query(args: argparse.Namespace) -> int:
    from cli.catalog import cmd_catalog_query as run

    args.sql_text = read_sql(args.sql)
    return run(args, lambda: _outputs(args), _session(args))


def _put(args: argparse.Namespace, outputs: StackOutputs, entry: Mapping[str, Any]) -> None:
    response = _session(args).client("events").put_events(Entries=[entry])
    if response.get("FailedEntryCount"):
        failure = response["Entries"][0]
        raise AwsError(
            f"EventBridge refused the event ({failure.get('ErrorCode')}: "
            f"{failure.get('ErrorMessage')}); check the bus {outputs['EventBusName']}"
        )


def _run_request(args: argparse.Namespace, sql: str) -> dict[str, Any]:
    import uuid

    data: dict[str, Any] = {
        "query": sql,
        "run_id": args.run_id or f"run-{uuid.uuid4().hex[:12]}",
        "requested_by": "cli",
    }
    if args.segment_name:
        data["segment_name"] = args.segment_name
    if args.segment_id:
        data["segment_id"] = args.segment_id
    if args.sync_key:
        data["sync_key"] = args.sync_key
    if args.mirror:
        data["mirror"] = True
    if args.dry_run:
        data["dry_run"] = True
    if args.target:
        data["target"] = args.target
    return data


def _not_published(args: argparse.Namespace, run_id: str, reasons: list[Any]) -> int:
    """The reasons the validator would reject the request for, shown in full; exit 1."""
    rows = [reason.model_dump(mode="json") for reason in reasons]
    title = f"run {run_id}: the validator would reject it"
    _print(
        args,
        {"run_id": run_id, "published": False, "outcome": "REJECTED", "reasons": rows},
        table(rows, ["code", "message"], title=title, max_width=90)
        + "\nnothing was published: fix the query and submit again",
    )
    return ExitCode.FAILED


def cmd_query_submit(args: argparse.Namespace) -> int:
    from cli.runs import follow_run, render_run, run_status
    from cli.validation import default_validator, stack_validator
    from contracts import SegmentQueryRejected, put_events_entry

    data = _run_request(args, read_sql(args.sql))
    now = datetime.now(UTC)
    # The local cloud deploys the template with its defaults, Connect switched on; its
    # verdict on the request's contract (size, run id) is every stack's, so a request that
    # breaks it is refused before any stack is read.
    request, answer = default_validator(connect=True).judge(data, now)
    if request is not None and not args.local:
        outputs = _outputs(args)
        # The deployed validator's own code and settings, before anything is published.
        request, answer = stack_validator(outputs, args.stack).judge(data, now)
    if isinstance(answer, SegmentQueryRejected):
        reasons = list(answer.data.reasons)
        if request is None:  # the request itself breaks the contract (size, run id)
            raise UsageError(
                "the request breaks the validator's limits: "
                + "; ".join(reason.message for reason in reasons)
                + ". Nothing was published."
            )
        return _not_published(args, data["run_id"], reasons)
    assert request is not None  # noqa: S101 - an accepted answer answers a parsed request
    if args.local:
        return _submit_locally(args, request)
    session = _session(args)
    if args.run_id:
        existing = run_status(session, outputs, args.run_id)
        if existing["found"]:
            _print(
                args,
                {"run_id": args.run_id, "published": False, "exists": existing},
                f"run {args.run_id} exists already; nothing was published (choose another "
                f"--run-id, or leave it out):\n{render_run(existing)}",
            )
            return ExitCode.USAGE
    _put(args, outputs, put_events_entry(request, event_bus_name=outputs["EventBusName"]))
    run_id = str(request.data.run_id)
    if not args.wait:
        _print(
            args,
            {"run_id": run_id, "published": True},
            f"submitted run {run_id}; follow it with: pinpoint-lake runs show {run_id} "
            f"--stack {args.stack}",
        )
        return ExitCode.OK
    return follow_run(session, outputs, run_id, json_output=args.json)


def _submit_locally(args: argparse.Namespace, request: Any) -> int:
    """The run on the local cloud, over the user's own data lake: nothing leaves the machine."""
    from cli.local_run import run_locally
    from cli.runs import exit_code, render_run

    if not args.data_lake:
        raise UsageError("query submit --local needs --data-lake DIR (one folder per table)")
    status = run_locally(request, _folder(args.data_lake, "--data-lake"))
    text = render_run(status)
    if status.get("dead_letters"):
        text += f"\nmessages ended in a DLQ: the service logs are kept in {status['service_log']}"
    _print(args, status, text)
    return exit_code(status)


def cmd_query_check(args: argparse.Namespace) -> int:
    from cli.check import check_query
    from cli.validation import default_validator, stack_validator

    sql = read_sql(args.sql)
    lake = _folder(args.data_lake, "--data-lake") if args.data_lake else None
    validator = (
        stack_validator(_outputs(args), args.stack)
        if args.stack
        else default_validator(connect=args.target == "connect")
    )
    return check_query(
        sql, validator=validator, target=args.target, data_lake=lake, json_output=args.json
    )


def cmd_runs_show(args: argparse.Namespace) -> int:
    from cli.runs import exit_code, render_run, run_status

    status = run_status(_session(args), _outputs(args), args.run_id)
    _print(args, status, render_run(status))
    return exit_code(status)


def cmd_runs_list(args: argparse.Namespace) -> int:
    from cli.runs import LIST_COLUMNS, list_runs

    runs = list_runs(
        _session(args),
        _outputs(args),
        status=args.status,
        sync_key=args.sync_key,
        target=args.target,
        limit=args.limit,
    )
    _print(args, runs, table(runs, LIST_COLUMNS, title=plural(len(runs), "run")))
    return ExitCode.OK


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
        emit(
            wrapped(
                f"no X-Ray trace mentions run {args.run_id} in the last "
                f"{plural(args.hours, 'hour')}: check the run id, or widen the window with --hours"
            ),
            sys.stderr,
        )
        return ExitCode.FAILED
    _print(args, [trace.to_dict() for trace in traces], "\n\n".join(map(render, traces)))
    return ExitCode.OK


# --------------------------------------------------------------------------- parser


def _count(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `minimum`, else a clear usage error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value

    return parse


def _sync_options(submit: argparse.ArgumentParser) -> None:
    """`query submit`'s options for refreshing a segment and syncing a saved segment."""
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


def build_parser() -> argparse.ArgumentParser:
    # The shared options are accepted before the command and after it; after it they
    # default to "not given" so they do not undo what was given before it.
    parser = argparse.ArgumentParser(
        prog="pinpoint-lake",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    for target, default in ((parser, None), (common, argparse.SUPPRESS)):
        target.add_argument(
            "--json",
            action="store_true",
            default=False if default is None else default,
            help="machine-readable output (one JSON document on stdout)",
        )
        target.add_argument(
            "--stack", default=default, help="name of the deployed pinpoint-lake stack"
        )
        target.add_argument(
            "--region", default=default, help="AWS region of the stack (default: your AWS config)"
        )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(
        group: Any, name: str, handler: Callable[[argparse.Namespace], int], text: str
    ) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, parents=[common], help=text)
        sub.set_defaults(handler=handler)
        return sub

    demo = command(commands, "demo", cmd_demo, "run the whole system on the local cloud")
    demo.add_argument(
        "--endpoints", type=_count(1), default=10_000, help="endpoints in the lake (at least 1)"
    )
    demo.add_argument("--keep", help="keep the demo's data lake and service log in this folder")

    command(commands, "graph", cmd_graph, "the event flow as a Mermaid diagram")

    catalog = commands.add_parser("catalog", help="the names catalog").add_subparsers(
        dest="catalog_command", required=True
    )
    listing = command(catalog, "list", cmd_catalog_list, "list catalog entries")
    listing.add_argument("--type", choices=["campaign", "journey", "segment"])
    listing.add_argument("--include-deleted", action="store_true")
    command(catalog, "backfill", cmd_catalog_backfill, "re-read every resource into the catalog")
    report = command(catalog, "query", cmd_catalog_query, "an Athena query joining the catalog")
    report.add_argument("--sql", required=True, help="file holding the query")

    lake_help = (
        "folder holding one folder per table (its Parquet or CSV files), as the Glue tables "
        "of the data lake"
    )
    query = commands.add_parser("query", help="segment queries").add_subparsers(
        dest="query_command", required=True
    )
    submit = command(query, "submit", cmd_query_submit, "publish a SegmentQueryRequested")
    submit.add_argument("--sql", required=True, help="file holding the query (UTF-8 or UTF-16)")
    submit.add_argument("--segment-name", help="define an imported segment with this name")
    _sync_options(submit)
    submit.add_argument("--dry-run", action="store_true", help="check and report, import nothing")
    submit.add_argument("--run-id", help="choose the run id (default: generated)")
    submit.add_argument("--target", choices=["pinpoint", "connect"], help="where to import")
    submit.add_argument("--wait", action="store_true", help="follow the run to its end")
    submit.add_argument(
        "--local",
        action="store_true",
        help="run it on the local cloud over --data-lake instead of a deployed stack",
    )
    submit.add_argument("--data-lake", help=f"with --local: {lake_help}")
    check = command(query, "check", cmd_query_check, "the validator's verdict, locally")
    check.add_argument("--sql", required=True, help="file holding the query (UTF-8 or UTF-16)")
    check.add_argument("--data-lake", help=f"run the query with DuckDB over this {lake_help}")
    check.add_argument(
        "--target",
        choices=["pinpoint", "connect"],
        help="the import target whose columns apply (default: the stack's default target)",
    )

    runs = commands.add_parser("runs", help="segment runs").add_subparsers(
        dest="runs_command", required=True
    )
    show = command(runs, "show", cmd_runs_show, "a run's steps, counts and reasons")
    show.add_argument("run_id")
    listed = command(runs, "list", cmd_runs_list, "recent runs, newest first")
    listed.add_argument("--status", help="only runs with this status (e.g. FAILED, COMPLETE)")
    listed.add_argument("--sync-key", help="only runs of this sync key")
    listed.add_argument("--target", choices=["pinpoint", "connect"])
    listed.add_argument("--limit", type=_count(1), default=20, help="at most this many runs")

    from cli.schedule import add_commands as add_schedule_commands

    add_schedule_commands(commands, command)

    trace = command(commands, "trace", cmd_trace, "a run's X-Ray traces as a tree")
    trace.add_argument("run_id")
    trace.add_argument("--hours", type=_count(1), default=24, help="how far back to look")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every expected failure is one line on stderr and an exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (Exception, KeyboardInterrupt) as error:  # noqa: BLE001 - the one place they end
        explained = explain(error)
        if explained is None:
            emit(
                f"error: unexpected {type(error).__name__}: {error} (a bug: please report it "
                "with the command line you ran)",
                sys.stderr,
            )
            return ExitCode.INTERNAL
        emit(f"error: {explained}", sys.stderr)
        return explained.exit_code
