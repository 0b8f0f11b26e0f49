"""EventBridge Scheduler on the local cloud's virtual clock.

moto stores schedules (CreateSchedule, UpdateSchedule, ...) but never fires them. This
module reads moto's store whenever the runtime looks at the clock and keeps one runtime job
per enabled schedule (`LocalRuntime.add_job_source`), so schedules created with plain boto3,
by the template, or by the CLI fire on the same clock as scheduled rules. A schedule whose
definition changes (paused, resumed, a new expression) gets a new job counted from then.

What a fire does, as Scheduler documents it:
- `rate()` fires first at the StartDate, or at once (then every period), `cron()` and
  `at(yyyy-mm-ddThh:mm:ss)` at their times; cron and at() read their
  times in `ScheduleExpressionTimezone` (daylight saving as `infra/local/schedule.py` says);
  nothing fires before `StartDate` or after `EndDate`, nor while the State is DISABLED.
- A flexible window (`FlexibleTimeWindow` FLEXIBLE) fires at the start of its window (the
  scheduled time itself), which is within what Scheduler promises and keeps runs
  deterministic; OFF fires at the scheduled time too.
- The target's Input gets its context attributes substituted: `<aws.scheduler.schedule-arn>`,
  `<aws.scheduler.scheduled-time>` (UTC, `2022-03-22T18:59:43Z`), `<aws.scheduler.execution-id>`
  (unique per attempt) and `<aws.scheduler.attempt-number>`.
- Delivery goes through the target's role: the role must trust scheduler.amazonaws.com (its
  `aws:SourceAccount` and `aws:SourceArn` conditions are checked against the account and the
  schedule group) and allow the target's action on the target. An event-bus target puts one
  entry with the Source and DetailType of `EventBridgeParameters`, the Input as its detail
  and the schedule as its resource. A fire the role does not permit is not delivered; it is
  recorded in `failures` with the reason (Scheduler would retry and then drop it, or send it
  to the target's dead-letter queue, which is not emulated).
- CreateSchedule and UpdateSchedule refuse what Scheduler refuses and moto accepts: an
  expression or timezone that does not parse, an EndDate not after the StartDate
  (`ValidationException`), so a bad schedule fails when it is made, not silently later.
- `ActionAfterCompletion: DELETE` deletes a schedule once it is done (an at() that fired, a
  recurring schedule past its EndDate). moto keeps the value at create only, not on update.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.model import OperationModel

from infra.local.botocore_hook import (
    Uninstall,
    decode_request,
    encode_error,
    install_operation_handler,
)
from infra.local.runtime import JsonDict, LocalRuntime, ScheduledJob, Target, due_after
from infra.local.schedule import ScheduleError, parse_schedule

logger = logging.getLogger(__name__)

SCHEDULER_PRINCIPAL = "scheduler.amazonaws.com"
# The IAM action each kind of target needs from the schedule's role.
_TARGET_ACTIONS = {"events": "events:PutEvents", "sqs": "sqs:SendMessage"}
_UNIVERSAL_PUT_EVENTS = "aws-sdk:eventbridge:putEvents"
# StartDate is inclusive; jobs are due strictly after a moment.
_JUST_BEFORE = timedelta(microseconds=1)


@dataclass(frozen=True)
class Fire:
    """One attempt to deliver one due moment of a schedule."""

    schedule_arn: str
    scheduled_time: datetime
    attempt: int
    execution_id: str
    error: str | None = None


@dataclass
class _Tracked:
    definition: str  # what the job was built from; a change builds a new one
    job: ScheduledJob | None
    schedule: Any  # moto's Schedule


def scheduled_time_text(moment: datetime) -> str:
    """`<aws.scheduler.scheduled-time>`: UTC, seconds, a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def substitute_context(
    text: str, *, schedule_arn: str, scheduled_time: datetime, execution_id: str, attempt: int
) -> str:
    """The Input as the target receives it: each context attribute replaced by its value."""
    values = {
        "aws.scheduler.schedule-arn": schedule_arn,
        "aws.scheduler.scheduled-time": scheduled_time_text(scheduled_time),
        "aws.scheduler.execution-id": execution_id,
        "aws.scheduler.attempt-number": str(attempt),
    }
    for name, value in values.items():
        text = text.replace(f"<{name}>", value)
    return text


def install_schedule_checks() -> Uninstall:
    """Check CreateSchedule and UpdateSchedule as Scheduler does, before moto stores them."""

    def check(operation: OperationModel, request: AWSPreparedRequest) -> AWSResponse | None:
        if operation.name not in ("CreateSchedule", "UpdateSchedule"):
            return None
        params = decode_request(operation, request).params
        problem = schedule_problem(
            str(params.get("ScheduleExpression", "")),
            str(params.get("ScheduleExpressionTimezone") or "UTC"),
            params.get("StartDate"),
            params.get("EndDate"),
        )
        if problem is None:
            return None
        return encode_error(
            operation,
            status=400,
            code="ValidationException",
            message=problem,
            request_id=hashlib.sha256(request.url.encode()).hexdigest()[:32],
        )

    return install_operation_handler("scheduler", check)


def schedule_problem(
    expression: str, timezone: str, start: datetime | None, end: datetime | None
) -> str | None:
    """Why Scheduler would refuse this schedule's timing, or None."""
    try:
        parse_schedule(
            expression, start=start or datetime.now(UTC), timezone=timezone, scheduler=True
        )
    except ScheduleError as error:
        return f"Invalid Schedule Expression {expression}: {error}"
    if start is not None and end is not None and end <= start:
        return "The EndDate you specify must be after the StartDate."
    return None


class LocalScheduler:
    """Fires the schedules moto holds for one account and region on the runtime's clock."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self._runtime = runtime
        self._tracked: dict[str, _Tracked] = {}
        self.fires: list[Fire] = []
        self.failures: list[Fire] = []
        # Schedules whose expression the local cloud cannot run, with the reason.
        self.refused: dict[str, str] = {}

    # -- the runtime's job source

    def jobs(self) -> Sequence[ScheduledJob]:
        self._sync()
        return [tracked.job for tracked in self._tracked.values() if tracked.job is not None]

    def _backend(self) -> Any:
        from moto.scheduler.models import scheduler_backends  # noqa: PLC0415 - moto is a dev tool

        return scheduler_backends[self._runtime.account_id][self._runtime.region]

    def _sync(self) -> None:
        stored = {
            schedule.arn: schedule
            for group in self._backend().schedule_groups.values()
            for schedule in group.schedules.values()
        }
        for arn in set(self._tracked) - set(stored):
            del self._tracked[arn]
        for arn, schedule in stored.items():
            definition = _definition(schedule)
            tracked = self._tracked.get(arn)
            if tracked is None or tracked.definition != definition:
                tracked = _Tracked(definition, self._job(schedule), schedule)
                self._tracked[arn] = tracked
            self._complete(tracked)

    def _job(self, schedule: Any) -> ScheduledJob | None:
        self.refused.pop(schedule.arn, None)
        if schedule.state != "ENABLED":
            return None
        now = self._runtime.clock.now()
        start, end = _moment(schedule.start_date), _moment(schedule.end_date)
        try:
            expression = parse_schedule(
                schedule.schedule_expression,
                start=max(now, start) if start else now,
                timezone=schedule.schedule_expression_timezone or "UTC",
                scheduler=True,
            )
        except ScheduleError as error:
            self.refused[schedule.arn] = str(error)
            logger.warning("schedule %s cannot fire: %s", schedule.arn, error)
            return None
        job = ScheduledJob(
            name=schedule.name,
            arn=schedule.arn,
            schedule=expression,
            targets=[],
            kind="scheduler",
            end=end,
            deliver=lambda moment: self._deliver(schedule, moment, attempt=1),
        )
        # Due from StartDate on (inclusive), or from now: a rate() fires at once.
        job.next_due = due_after(job, (max(now, start) if start else now) - _JUST_BEFORE)
        return job

    def _complete(self, tracked: _Tracked) -> None:
        """A schedule with nothing left to fire is done; DELETE removes it."""
        job, schedule = tracked.job, tracked.schedule
        if job is None or job.next_due is not None:
            return
        if schedule.action_after_completion == "DELETE":
            group = self._backend().schedule_groups.get(schedule.group_name)
            if group is not None:
                group.schedules.pop(schedule.name, None)
            self._tracked.pop(schedule.arn, None)

    # -- delivery

    def redeliver(self, name: str, scheduled_time: datetime, *, group: str = "default") -> Fire:
        """Deliver a past fire again, as Scheduler's at-least-once delivery may (a retry
        whose first attempt reached the target): attempt 2, a new execution id."""
        schedule = self._backend().get_schedule(group, name)
        return self._deliver(schedule, scheduled_time, attempt=2)

    def _deliver(self, schedule: Any, moment: datetime, *, attempt: int) -> Fire:
        execution_id = hashlib.sha256(
            f"{schedule.arn}/{moment.isoformat()}/{attempt}".encode()
        ).hexdigest()[:16]
        target: JsonDict = schedule.target
        text = substitute_context(
            str(target.get("Input") or "{}"),
            schedule_arn=schedule.arn,
            scheduled_time=moment,
            execution_id=execution_id,
            attempt=attempt,
        )
        error = self._refusal(schedule, text)
        if error is None:
            error = self._send(schedule, target, text)
        fire = Fire(schedule.arn, moment, attempt, execution_id, error)
        self.fires.append(fire)
        if error is not None:
            self.failures.append(fire)
            logger.warning(
                "schedule %s did not deliver its %s fire: %s", schedule.arn, moment, error
            )
        return fire

    def _send(self, schedule: Any, target: JsonDict, text: str) -> str | None:
        arn = str(target["Arn"])
        service, resource = arn.split(":")[2], arn.split(":", 5)[5]
        if service == "events" and resource.startswith("event-bus/"):
            bus = target.get("EventBridgeParameters") or {}
            if not (bus.get("Source") and bus.get("DetailType")):
                return "an event bus target needs EventBridgeParameters Source and DetailType"
            if not isinstance(_json(text), dict):
                return "the Input of an event bus target must be a JSON object (the detail)"
            entry = {
                "EventBusName": arn,
                "Source": bus["Source"],
                "DetailType": bus["DetailType"],
                "Detail": text,
                "Resources": [schedule.arn],
                "Time": self._runtime.clock.now(),
            }
            response = self._runtime.clients.client("events").put_events(Entries=[entry])
            if response.get("FailedEntryCount"):
                failed = response["Entries"][0]
                return f"PutEvents failed: {failed.get('ErrorCode')} {failed.get('ErrorMessage')}"
            return None
        sqs = target.get("SqsParameters") or {}
        self._runtime.send(
            Target(arn=arn, input=text, message_group_id=sqs.get("MessageGroupId")), text, None
        )
        return None

    # -- the execution role

    def _needed(self, target: JsonDict, text: str) -> list[tuple[str, str]]:
        """(action, resource) pairs the role must allow to deliver to the target."""
        arn = str(target["Arn"])
        service = arn.split(":")[2]
        if arn.endswith(_UNIVERSAL_PUT_EVENTS):
            entries = (_json(text) or {}).get("Entries") or []
            return [
                ("events:PutEvents", self._bus_arn(entry.get("EventBusName"))) for entry in entries
            ]
        if service == "lambda":
            return [("lambda:InvokeFunction", arn)]
        return [(_TARGET_ACTIONS.get(service, f"{service}:*"), arn)]

    def _bus_arn(self, name: Any) -> str:
        text = str(name or "default")
        if text.startswith("arn:"):
            return text
        runtime = self._runtime
        return f"arn:aws:events:{runtime.region}:{runtime.account_id}:event-bus/{text}"

    def _refusal(self, schedule: Any, text: str) -> str | None:
        """Why the schedule's role may not deliver this fire, or None when it may."""
        role_arn = str(schedule.target.get("RoleArn") or "")
        iam = self._runtime.clients.client("iam")
        try:
            role = iam.get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]
        except iam.exceptions.NoSuchEntityException:
            return f"the role {role_arn} does not exist"
        if role["Arn"] != role_arn:
            return f"the role {role_arn} does not exist"
        group_arn = schedule.arn.replace(":schedule/", ":schedule-group/").rsplit("/", 1)[0]
        trust_context = {"aws:SourceAccount": self._runtime.account_id, "aws:SourceArn": group_arn}
        if not _permits(
            [_document(role["AssumeRolePolicyDocument"])],
            "sts:AssumeRole",
            None,
            trust_context,
            principal=SCHEDULER_PRINCIPAL,
        ):
            return (
                f"the role {role_arn} does not let {SCHEDULER_PRINCIPAL} assume it for {group_arn}"
            )
        documents = _role_policies(iam, role["RoleName"])
        for action, resource in self._needed(schedule.target, text):
            if not _permits(documents, action, resource, {"aws:PrincipalArn": role_arn}):
                return f"the role {role_arn} may not {action} on {resource}"
        return None


def _definition(schedule: Any) -> str:
    shown = {
        key: value
        for key, value in schedule.to_dict().items()
        if key not in ("CreationDate", "LastModificationDate")
    }
    return json.dumps(shown, sort_keys=True, default=str)


def _moment(value: Any) -> datetime | None:
    """A StartDate/EndDate as moto keeps it (epoch seconds from the JSON request)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, int | float) or str(value).replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(value), UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _document(value: Any) -> JsonDict:
    document = json.loads(value) if isinstance(value, str) else value
    return document if isinstance(document, dict) else {}


def _role_policies(iam: Any, role_name: str) -> list[JsonDict]:
    documents = [
        _document(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
        for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    ]
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(
            PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
        )["PolicyVersion"]
        documents.append(_document(version["Document"]))
    return documents


def _permits(
    documents: Sequence[JsonDict],
    action: str,
    resource: str | None,
    context: Mapping[str, str],
    *,
    principal: str | None = None,
) -> bool:
    """IAM's decision over these documents: an explicit Deny wins, else an Allow is needed.

    Enough of IAM for execution roles: Action/NotAction and Resource/NotResource with
    wildcards, a service Principal (trust policies), and the String/Arn Equals/Like
    condition operators (and their Not forms). A condition the local cloud cannot evaluate
    keeps an Allow from applying and makes a Deny apply.
    """
    allowed = False
    for document in documents:
        statements = document.get("Statement") or []
        for statement in statements if isinstance(statements, list) else [statements]:
            if not _applies(statement, action, resource, principal):
                continue
            holds = _conditions_hold(statement.get("Condition") or {}, context)
            if statement.get("Effect") == "Deny" and holds is not False:
                return False
            if statement.get("Effect") == "Allow" and holds is True:
                allowed = True
    return allowed


def _applies(statement: JsonDict, action: str, resource: str | None, principal: str | None) -> bool:
    if principal is not None:
        services = (statement.get("Principal") or {}).get("Service")
        if principal not in _as_list(services):
            return False
    if "NotAction" in statement:
        if _matches_any(statement["NotAction"], action, case=False):
            return False
    elif not _matches_any(statement.get("Action"), action, case=False):
        return False
    if resource is None:
        return True
    if "NotResource" in statement:
        return not _matches_any(statement["NotResource"], resource)
    return _matches_any(statement.get("Resource"), resource)


_OPERATORS = {
    "StringEquals": (False, False),
    "StringLike": (True, False),
    "ArnEquals": (False, False),
    "ArnLike": (True, False),
    "StringNotEquals": (False, True),
    "StringNotLike": (True, True),
    "ArnNotEquals": (False, True),
    "ArnNotLike": (True, True),
}


def _conditions_hold(conditions: Mapping[str, Any], context: Mapping[str, str]) -> bool | None:
    """True or False, or None when an operator or key is beyond what is emulated."""
    for operator, block in conditions.items():
        if operator not in _OPERATORS or not isinstance(block, dict):
            return None
        wildcards, negated = _OPERATORS[operator]
        for key, expected in block.items():
            if key not in context:
                return None
            value = context[key]
            found = any(
                fnmatch.fnmatchcase(value, pattern) if wildcards else value == pattern
                for pattern in map(str, _as_list(expected))
            )
            if found == negated:
                return False
    return True


def _matches_any(patterns: Any, value: str, *, case: bool = True) -> bool:
    for pattern in map(str, _as_list(patterns)):
        if case and fnmatch.fnmatchcase(value, pattern):
            return True
        if not case and fnmatch.fnmatchcase(value.lower(), pattern.lower()):
            return True
    return False


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]
