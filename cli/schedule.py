"""`schedule`: saved segments, as EventBridge Scheduler schedules in the stack's group.

A saved segment is one schedule in the stack's schedule group (`ScheduleGroupName`) whose
target is the stack's bus: each fire puts a `SegmentQueryRequested` through the stack's
`SchedulerRoleArn`, with the request data as its detail. The data carries Scheduler's
context attributes (`<aws.scheduler.schedule-arn>`, `<aws.scheduler.scheduled-time>`), so the
validator gives each fire a run of its own and a fire delivered twice stays one run, and
`sync_key` (the schedule's name) names the saved segment.

Everything is checked before AWS is called: the name, the expression and its timezone (the
rules the local cloud's Scheduler applies, `infra/local/schedule.py`), the request fields
(the contract) and the SQL (the rules `query check` applies).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from pydantic import ValidationError

from cli.output import table
from cli.runs import run_status
from cli.sql_file import read_sql
from cli.stack import StackOutputs
from contracts import EngagementTarget, RunRequest, SegmentQueryRequested
from infra.local.schedule import ScheduleError, parse_schedule
from services.common.sql_rules import ValidationPolicy, validate

# The Source and DetailType a fire puts on the bus: the request's own, which the bus policy
# lets requesters (and so the Scheduler role) publish.
SCHEDULE_SOURCE = SegmentQueryRequested.SOURCE
SCHEDULE_DETAIL_TYPE = SegmentQueryRequested.DETAIL_TYPE
# What Scheduler writes into the Input at each fire (substituted there, not here).
CONTEXT_FIELDS = {
    "schedule_arn": "<aws.scheduler.schedule-arn>",
    "scheduled_time": "<aws.scheduler.scheduled-time>",
}
# A schedule name is also the saved segment's sync key: both allow these characters.
_NAME = re.compile(r"^[0-9A-Za-z._-]{1,64}$")
# Where the query-runner's ledger lists a schedule's runs (services/query_runner/adapters.py).
SCHEDULE_INDEX = "by-schedule"
LAST_RUNS = 5
# Scheduler retries a fire whose PutEvents failed; a request older than a day is stale.
RETRY_POLICY = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 10}
_deserializer = TypeDeserializer()


class ScheduleUsageError(RuntimeError):
    """A schedule the user asked for that cannot be made; the message says why."""


@dataclass(frozen=True)
class SavedSegment:
    name: str
    sql: str
    every: str
    timezone: str = "UTC"
    segment_name: str | None = None
    mirror: bool = False
    target: str | None = None


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ScheduleUsageError(
            f"schedule name {name!r}: 1-64 letters, digits, '.', '_' or '-' (it is also the "
            "saved segment's sync key)"
        )
    return name


def check_expression(every: str, timezone: str, now: datetime) -> None:
    """The expression as Scheduler reads it: rate(...), cron(...) or at(...) in `timezone`."""
    try:
        schedule = parse_schedule(every, start=now, timezone=timezone, scheduler=True)
    except ScheduleError as error:
        raise ScheduleUsageError(
            f"--every {every!r}: {error}; use rate(N minutes|hours|days), "
            "cron(min hour day-of-month month day-of-week year) or at(yyyy-mm-ddThh:mm:ss)"
        ) from None
    if schedule.next_after(now) is None:
        raise ScheduleUsageError(f"--every {every!r} never fires after now ({timezone})")


def request_data(segment: SavedSegment) -> dict[str, Any]:
    """The request a fire publishes, checked against the contract and the query rules."""
    fields: dict[str, Any] = {"sync_key": segment.name, "requested_by": f"schedule/{segment.name}"}
    if segment.segment_name:
        fields["segment_name"] = segment.segment_name
    if segment.mirror:
        fields["mirror"] = True
    if segment.target:
        fields["target"] = segment.target
    try:
        request = RunRequest(query=segment.sql, **fields)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, problem['loc'])) or 'request'}: {problem['msg']}"
            for problem in error.errors()
        )
        raise ScheduleUsageError(f"the saved segment's request is invalid: {problems}") from None
    verdict = validate(segment.sql, ValidationPolicy())
    if not verdict.accepted:
        reasons = "; ".join(f"{reason.code} ({reason.message})" for reason in verdict.reasons)
        raise ScheduleUsageError(
            f"the query would be rejected: {reasons}. See `query check --sql FILE`."
        )
    data = request.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    return {**data, **CONTEXT_FIELDS}


def checked_detail(segment: SavedSegment) -> dict[str, Any]:
    """The detail every fire publishes, once name, expression and request are checked."""
    check_name(segment.name)
    check_expression(segment.every, segment.timezone, datetime.now(UTC))
    return {"data": request_data(segment)}


def create(scheduler: Any, events: Any, outputs: StackOutputs, segment: SavedSegment) -> str:
    """Create the saved segment's schedule; its ARN."""
    detail = checked_detail(segment)
    bus_arn = events.describe_event_bus(Name=outputs["EventBusName"])["Arn"]
    target = {
        "Arn": bus_arn,
        "RoleArn": outputs["SchedulerRoleArn"],
        "Input": json.dumps(detail, separators=(",", ":")),
        "EventBridgeParameters": {"Source": SCHEDULE_SOURCE, "DetailType": SCHEDULE_DETAIL_TYPE},
        "RetryPolicy": RETRY_POLICY,
    }
    try:
        response = scheduler.create_schedule(
            Name=segment.name,
            GroupName=outputs["ScheduleGroupName"],
            ScheduleExpression=segment.every,
            ScheduleExpressionTimezone=segment.timezone,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=target,
            State="ENABLED",
            Description=f"pinpoint-lake saved segment {segment.name}",
        )
    except scheduler.exceptions.ConflictException:
        raise ScheduleUsageError(
            f"a schedule named {segment.name!r} exists: choose another name, or delete it first"
        ) from None
    except scheduler.exceptions.ValidationException as error:
        raise ScheduleUsageError(f"Scheduler refused the schedule: {_message(error)}") from None
    return str(response["ScheduleArn"])


def _schedules(scheduler: Any, group: str) -> Iterator[dict[str, Any]]:
    for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group):
        yield from page.get("Schedules", [])


def _get(scheduler: Any, outputs: StackOutputs, name: str) -> dict[str, Any]:
    check_name(name)
    try:
        found: dict[str, Any] = scheduler.get_schedule(
            Name=name, GroupName=outputs["ScheduleGroupName"]
        )
    except scheduler.exceptions.ResourceNotFoundException:
        raise ScheduleUsageError(
            f"no schedule named {name!r} in {outputs['ScheduleGroupName']}: see `schedule list`"
        ) from None
    return found


def summary(schedule: dict[str, Any]) -> dict[str, Any]:
    """What a saved segment is, from its schedule (no SQL: `schedule show` has it)."""
    data = _request_of(schedule)
    return {
        "name": schedule["Name"],
        "state": schedule.get("State"),
        "every": schedule.get("ScheduleExpression"),
        "timezone": schedule.get("ScheduleExpressionTimezone", "UTC"),
        "sync_key": data.get("sync_key"),
        "segment_name": data.get("segment_name"),
        "mirror": bool(data.get("mirror")),
        "target": data.get("target"),
    }


def list_segments(scheduler: Any, outputs: StackOutputs) -> list[dict[str, Any]]:
    group = outputs["ScheduleGroupName"]
    return [
        summary(scheduler.get_schedule(Name=item["Name"], GroupName=group))
        for item in _schedules(scheduler, group)
    ]


def show(session: Any, outputs: StackOutputs, name: str) -> dict[str, Any]:
    """The saved segment, its next fires and its last runs (from the run ledgers)."""
    scheduler = session.client("scheduler")
    schedule = _get(scheduler, outputs, name)
    shown = summary(schedule)
    shown["arn"] = schedule["Arn"]
    shown["sql"] = _request_of(schedule).get("query")
    shown["next_fires"] = _next_fires(schedule, datetime.now(UTC))
    shown["last_runs"] = [
        {
            "run_id": run_id,
            "scheduled_time": scheduled_at,
            "query": (status.get("query") or {}).get("status"),
            "import": (status.get("import") or {}).get("status"),
        }
        for run_id, scheduled_at in last_runs(session.client("dynamodb"), outputs, schedule["Arn"])
        for status in [run_status(session, outputs, run_id)]
    ]
    return shown


def last_runs(
    dynamodb: Any, outputs: StackOutputs, schedule_arn: str, limit: int = LAST_RUNS
) -> list[tuple[str, str]]:
    """(run id, scheduled time) of the schedule's latest runs, latest first."""
    items = dynamodb.query(
        TableName=outputs["QueryRunsTableName"],
        IndexName=SCHEDULE_INDEX,
        KeyConditionExpression="schedule_arn = :arn",
        ExpressionAttributeValues={":arn": {"S": schedule_arn}},
        ScanIndexForward=False,
        Limit=limit,
    ).get("Items", [])
    return [
        (
            str(_deserializer.deserialize(item["run_id"])),
            str(_deserializer.deserialize(item["scheduled_at"])),
        )
        for item in items
    ]


def set_state(scheduler: Any, outputs: StackOutputs, name: str, state: str) -> dict[str, Any]:
    """Pause (DISABLED) or resume (ENABLED): UpdateSchedule replaces the whole schedule, so
    everything else is sent back as it is."""
    schedule = _get(scheduler, outputs, name)
    keep = (
        "ScheduleExpression",
        "ScheduleExpressionTimezone",
        "FlexibleTimeWindow",
        "Target",
        "Description",
        "StartDate",
        "EndDate",
        "KmsKeyArn",
        "ActionAfterCompletion",
    )
    kept = {key: schedule[key] for key in keep if schedule.get(key) not in (None, "")}
    scheduler.update_schedule(
        Name=name, GroupName=outputs["ScheduleGroupName"], State=state, **kept
    )
    return summary(_get(scheduler, outputs, name))


def delete(scheduler: Any, outputs: StackOutputs, name: str) -> None:
    _get(scheduler, outputs, name)
    scheduler.delete_schedule(Name=name, GroupName=outputs["ScheduleGroupName"])


def _request_of(schedule: dict[str, Any]) -> dict[str, Any]:
    try:
        detail = json.loads((schedule.get("Target") or {}).get("Input") or "{}")
    except ValueError:
        return {}
    data = detail.get("data") if isinstance(detail, dict) else None
    return data if isinstance(data, dict) else {}


def _next_fires(schedule: dict[str, Any], now: datetime, count: int = 3) -> list[str]:
    """The next due times; a rate() counts from the schedule's last change (or StartDate)."""
    if schedule.get("State") != "ENABLED":
        return []
    changed = schedule.get("LastModificationDate") or schedule.get("CreationDate")
    try:
        expression = parse_schedule(
            schedule["ScheduleExpression"],
            start=changed if isinstance(changed, datetime) else now,
            timezone=schedule.get("ScheduleExpressionTimezone") or "UTC",
            scheduler=True,
        )
    except ScheduleError:
        return []
    fires: list[str] = []
    moment = expression.next_after(now)
    while moment is not None and len(fires) < count:
        fires.append(moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
        moment = expression.next_after(moment)
    return fires


def _message(error: Any) -> str:
    return str(getattr(error, "response", {}).get("Error", {}).get("Message") or error)


# --------------------------------------------------------------------------- commands


@contextlib.contextmanager
def _told_plainly() -> Iterator[None]:
    """A schedule the user got wrong is a usage error (exit 2); what AWS says is turned into
    one line by `cli.errors.explained`, like for every command."""
    from cli.errors import UsageError  # noqa: PLC0415

    try:
        yield
    except ScheduleUsageError as error:
        raise UsageError(str(error)) from None


def cmd_create(args: argparse.Namespace) -> int:
    from cli import main  # noqa: PLC0415

    with _told_plainly():
        segment = SavedSegment(
            name=check_name(args.name),
            sql=read_sql(args.sql),
            every=args.every,
            timezone=args.timezone,
            segment_name=args.segment_name,
            mirror=args.mirror,
            target=args.target,
        )
        checked_detail(segment)  # before AWS is asked anything, even the stack's outputs
        session, outputs = main._session(args), main._outputs(args)
        arn = create(session.client("scheduler"), session.client("events"), outputs, segment)
    main._print(args, {"name": segment.name, "arn": arn}, f"created saved segment {arn}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from cli import main  # noqa: PLC0415

    with _told_plainly():
        outputs = main._outputs(args)
        segments = list_segments(main._session(args).client("scheduler"), outputs)
    text = table(segments, list(_LIST_COLUMNS), title=f"saved segments: {len(segments)}")
    main._print(args, segments, text)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from cli import main  # noqa: PLC0415

    with _told_plainly():
        shown = show(main._session(args), main._outputs(args), args.name)
    main._print(args, shown, _render(shown))
    return 0


def cmd_pause(args: argparse.Namespace) -> int:
    return _change_state(args, "DISABLED", "paused")


def cmd_resume(args: argparse.Namespace) -> int:
    return _change_state(args, "ENABLED", "resumed")


def _change_state(args: argparse.Namespace, state: str, done: str) -> int:
    from cli import main  # noqa: PLC0415

    with _told_plainly():
        outputs = main._outputs(args)
        changed = set_state(main._session(args).client("scheduler"), outputs, args.name, state)
    main._print(args, changed, f"{done} {args.name}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from cli import main  # noqa: PLC0415

    with _told_plainly():
        outputs = main._outputs(args)
        delete(main._session(args).client("scheduler"), outputs, args.name)
    main._print(args, {"name": args.name, "deleted": True}, f"deleted {args.name}")
    return 0


_LIST_COLUMNS = ("name", "state", "every", "timezone", "segment_name", "mirror", "target")


def _render(shown: dict[str, Any]) -> str:
    facts = [
        {"field": key, "value": shown[key]}
        for key in ("arn", *_LIST_COLUMNS, "sync_key")
        if shown.get(key) not in (None, "")
    ]
    parts = [table(facts, ["field", "value"], title=f"saved segment {shown['name']}", max_width=90)]
    parts.append("next fires: " + (", ".join(shown["next_fires"]) or "none (paused or done)"))
    if shown["last_runs"]:
        parts.append(
            table(
                shown["last_runs"],
                ["scheduled_time", "run_id", "query", "import"],
                title="last runs",
            )
        )
    else:
        parts.append("no runs yet")
    return "\n".join(parts)


def add_commands(commands: Any, command: Callable[..., argparse.ArgumentParser]) -> None:
    """`schedule create|list|show|pause|resume|delete`, under the CLI's `commands`."""
    group = commands.add_parser("schedule", help="saved segments (Scheduler schedules)")
    schedule = group.add_subparsers(dest="schedule_command", required=True)
    made = command(schedule, "create", cmd_create, "save a segment: its query on a schedule")
    made.add_argument("name", help="schedule name, also the sync key (1-64 of A-Z a-z 0-9 . _ -)")
    made.add_argument("--sql", required=True, help="file holding the query")
    made.add_argument(
        "--every",
        required=True,
        help="rate(1 day) | cron(0 6 * * ? *) | at(2027-01-01T06:00:00)",
    )
    made.add_argument("--timezone", default="UTC", help="IANA zone of cron() and at() times")
    made.add_argument("--segment-name", help="the imported segment each run refreshes")
    made.add_argument(
        "--mirror", action="store_true", help="clear attributes of members who left the result"
    )
    made.add_argument(
        "--target",
        choices=[target.value for target in EngagementTarget],
        help="import into (default: the stack's)",
    )
    command(schedule, "list", cmd_list, "the stack's saved segments")
    for name, handler, text in (
        ("show", cmd_show, "a saved segment, its next fires and its last runs"),
        ("pause", cmd_pause, "stop firing (the schedule is kept)"),
        ("resume", cmd_resume, "fire again"),
        ("delete", cmd_delete, "delete the schedule (its runs stay in the ledgers)"),
    ):
        command(schedule, name, handler, text).add_argument("name")
