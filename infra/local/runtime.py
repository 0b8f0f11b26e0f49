"""The local Lambda runtime: functions, the SQS pump, scheduled rules on the virtual clock.

Lambda functions are not created in moto (moto's Lambda needs Docker). They are registered
here and called in process: the pump receives batches from each SQS event source, builds
the event Lambda would build, calls the handler with the function's environment, and then
does what the Lambda poller does with the answer (delete what succeeded, let the rest be
received again, so SQS redrive moves it to the DLQ after `maxReceiveCount`).

With a queue clock (`infra.local.sqs_timing`, which the local cloud installs) SQS keeps
time on the virtual clock: a failed message is received again only after its queue's
VisibilityTimeout, a delayed one after its DelaySeconds, and a batch smaller than the
mapping's BatchSize waits for its MaximumBatchingWindowInSeconds, as Lambda's poller
waits. `advance` and `run_until_idle` move the clock to those moments as they do to a
scheduled rule's. Without one, a failed message is visible again after each drain.

Each runtime is its own set of execution environments. A service's handler is a
`services.common.function.LambdaFunction`: the runtime asks it for `fresh()` once (a copy
with nothing built, as a cold start) and reuses that copy, so the service builds its ports
from this runtime's environment on its first call and no state is shared between local
clouds; nothing is dropped from `sys.modules`. A plain function handler is called as it is.
The per-invocation identity of the shared Powertools singletons is the one documented hook
(`services.common.observability.function_identity`).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from contracts import host_clock
from infra.local.clock import VirtualClock
from infra.local.schedule import Schedule
from infra.local.xray import TracedInvocation
from services.common.observability import function_identity

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]

# When nothing is scheduled but an emulator is still busy, time moves on by this much.
IDLE_STEP_SECONDS = 60.0
# A handler feeding its own queue would keep one drain going forever; a round stops here
# and run_until_idle's round limit reports it.
MAX_MESSAGES_PER_DRAIN = 1000
# An advance stops at every moment on its way (a firing, a message, a job's stage); this
# many means a moment that never passes.
MAX_MOMENTS_PER_ADVANCE = 100_000


class Hook(Protocol):
    """An emulator that makes progress on its own (Athena queries, Pinpoint import jobs)."""

    def tick(self) -> object: ...

    def busy(self) -> bool: ...


def _hook_moment(hook: Hook) -> float | None:
    """When an emulator's work next moves, if it says (`next_moment()`, virtual time)."""
    next_moment = getattr(hook, "next_moment", None)
    moment = next_moment() if callable(next_moment) else None
    return moment.timestamp() if isinstance(moment, datetime) else None


class Tracing(Protocol):
    """Wraps each invocation in X-Ray's function segment (see infra.local.xray)."""

    def invocation(
        self, function_name: str, trace_header: str | None, function_arn: str | None = None
    ) -> contextlib.AbstractContextManager[TracedInvocation]: ...


class NoTracing:
    """Passes the message's trace header through untouched, as untraced functions see it."""

    @contextlib.contextmanager
    def invocation(
        self, function_name: str, trace_header: str | None, function_arn: str | None = None
    ) -> Iterator[TracedInvocation]:
        yield TracedInvocation(header=trace_header or "")


class ReceiveFilter(Protocol):
    """Sees each batch the pump receives before the function does and returns the messages
    to deliver now. Messages it keeps are its own to delete and send again (see
    infra.local.delivery, which delivers every message twice, late and shuffled)."""

    def __call__(self, source: QueueSource, messages: list[JsonDict]) -> list[JsonDict]: ...


class QueueClock(Protocol):
    """What SQS knows of a queue's timing (infra.local.sqs_timing.SqsOnVirtualTime)."""

    def visible(self, queue_url: str) -> tuple[int, float | None]:
        """Messages receivable now, and since when (epoch seconds) the oldest of them is."""
        ...

    def next_visible(self, queue_url: str) -> float | None:
        """When (epoch seconds) the next message in flight or delayed becomes visible."""
        ...


class NotSettledError(RuntimeError):
    """`run_until_idle` gave up: something kept working after the allowed rounds."""


class FunctionNotFoundError(LookupError):
    pass


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str
    arn: str
    handler: str  # "package.module.function"
    code_path: Path
    environment: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: int = 3
    memory_mb: int = 128
    log_group_name: str = ""


@dataclass(frozen=True)
class QueueSource:
    """An `AWS::Lambda::EventSourceMapping` from an SQS queue."""

    logical_id: str
    queue_arn: str
    queue_url: str
    function_name: str
    batch_size: int = 10
    report_batch_item_failures: bool = False
    enabled: bool = True
    batching_window_seconds: float = 0.0  # MaximumBatchingWindowInSeconds


@dataclass(frozen=True)
class Target:
    """Where a scheduled rule or schedule sends its event, and how it shapes it."""

    arn: str
    input: str | None = None
    input_path: str | None = None
    input_transformer: Mapping[str, Any] | None = None
    message_group_id: str | None = None
    # EventBridge Scheduler targets that are event buses publish with these.
    source: str | None = None
    detail_type: str | None = None


@dataclass
class ScheduledJob:
    """A scheduled rule (`kind="rule"`, sends "Scheduled Event") or an EventBridge Scheduler
    schedule (`kind="scheduler"`: `deliver` does what Scheduler does at each due moment)."""

    name: str
    arn: str
    schedule: Schedule
    targets: Sequence[Target]
    kind: str = "rule"
    end: datetime | None = None
    next_due: datetime | None = None
    deliver: Callable[[datetime], object] | None = None


class JobSource(Protocol):
    """Jobs that come and go while the cloud runs (schedules created with boto3): the
    runtime asks for the current ones whenever it looks at the clock."""

    def jobs(self) -> Sequence[ScheduledJob]: ...


@dataclass(frozen=True)
class Invocation:
    """One call of a handler, kept for tests and for debugging a local run."""

    function_name: str
    request_id: str
    event: Any
    result: Any = None
    error: str | None = None
    failed_message_ids: tuple[str, ...] = ()


@dataclass
class LambdaContext:
    """The context object Lambda passes to a Python handler."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_monotonic: float
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_monotonic - time.monotonic()) * 1000))


class AwsClients(Protocol):
    def client(self, service_name: str) -> Any: ...


# --------------------------------------------------------------------------- pure shaping


def sqs_record(message: JsonDict, *, queue_arn: str, region: str) -> JsonDict:
    """A received SQS message in the shape of a Lambda SQS event record."""
    attributes = dict(message.get("Attributes") or {})
    record: JsonDict = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": value.get("StringListValues", []),
                "binaryListValues": value.get("BinaryListValues", []),
                "dataType": value["DataType"],
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def with_account(body: str, account_id: str) -> str:
    """moto's EventBridge leaves `account` out of delivered events; AWS always sets it."""
    try:
        event = json.loads(body)
    except ValueError:
        return body
    if not isinstance(event, dict) or "detail-type" not in event or "account" in event:
        return body
    return json.dumps({**event, "account": account_id})


def failed_message_ids(
    records: Sequence[JsonDict], result: Any, error: str | None, *, report_failures: bool
) -> set[str]:
    """Which messages go back to the queue, by Lambda's rules for SQS event sources."""
    all_ids = {record["messageId"] for record in records}
    if error is not None:
        return all_ids
    if not report_failures or not isinstance(result, dict):
        return set()
    failures = result.get("batchItemFailures") or []
    reported = {item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures}
    if not reported <= all_ids:  # an unknown or empty id fails the whole batch, as on AWS
        return all_ids
    return {identifier for identifier in reported if identifier}


def scheduled_event(
    job: ScheduledJob, *, moment: datetime, region: str, account_id: str
) -> JsonDict:
    return {
        "version": "0",
        "id": _stable_id(job.arn, moment.isoformat()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [job.arn],
        "detail": {},
    }


def target_payload(target: Target, event: JsonDict, *, rule_arn: str) -> str:
    """The text a rule target receives: Input, InputPath or InputTransformer applied."""
    if target.input is not None:
        return target.input
    if target.input_path:
        return json.dumps(json_path(event, target.input_path))
    if target.input_transformer:
        values = {
            name: json_path(event, path)
            for name, path in (target.input_transformer.get("InputPathsMap") or {}).items()
        }
        values["aws.events.event.json"] = event
        values["aws.events.rule-arn"] = rule_arn
        values["aws.events.rule-name"] = rule_arn.rsplit("/", 1)[-1]
        values["aws.events.event.ingestion-time"] = event.get("time")
        text = str(target.input_transformer.get("InputTemplate", ""))
        for name, value in values.items():
            text = text.replace(f"<{name}>", value if isinstance(value, str) else json.dumps(value))
        return text
    return json.dumps(event)


def due_after(job: ScheduledJob, moment: datetime) -> datetime | None:
    """The job's first due moment after `moment`; None once past its end date (done)."""
    following = job.schedule.next_after(moment)
    if following is None or (job.end is not None and following > job.end):
        return None
    return following


def json_path(document: Any, path: str) -> Any:
    """The `$.a.b` paths EventBridge uses in InputPath and InputPathsMap."""
    value = document
    for key in [part for part in path.removeprefix("$").split(".") if part]:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _stable_id(*parts: str) -> str:
    digest = hashlib.sha256("/".join(parts).encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def _arn_parts(arn: str) -> tuple[str, str, str, str]:
    """(service, region, account, resource) of an ARN."""
    _, _, service, region, account, resource = arn.split(":", 5)
    return service, region, account, resource


# --------------------------------------------------------------------------- runtime


class LocalRuntime:
    def __init__(
        self,
        *,
        clock: VirtualClock,
        clients: AwsClients,
        region: str,
        account_id: str,
        tracing: Tracing | None = None,
        queue_clock: QueueClock | None = None,
    ) -> None:
        self.clock = clock
        self.queue_clock = queue_clock
        self.region = region
        self.account_id = account_id
        self._clients = clients
        self._tracing: Tracing = tracing or NoTracing()
        self.functions: dict[str, FunctionSpec] = {}
        self.sources: list[QueueSource] = []
        self.jobs: list[ScheduledJob] = []
        self.job_sources: list[JobSource] = []
        self.hooks: list[Hook] = []
        self.receive_filters: list[ReceiveFilter] = []
        self.invocations: list[Invocation] = []
        self._handlers: dict[str, Callable[..., Any]] = {}
        self._added_sys_paths: list[str] = []
        self._invocation_count = 0

    @property
    def clients(self) -> AwsClients:
        return self._clients

    # -- registration

    def register_function(self, spec: FunctionSpec) -> None:
        self.functions[spec.name] = spec

    def register_queue_source(self, source: QueueSource) -> None:
        self.sources.append(source)

    def register_job(self, job: ScheduledJob) -> None:
        job.next_due = due_after(job, self.clock.now())
        self.jobs.append(job)

    def add_job_source(self, source: JobSource) -> None:
        self.job_sources.append(source)

    def add_hook(self, hook: Hook) -> None:
        self.hooks.append(hook)

    def add_receive_filter(self, receive_filter: ReceiveFilter) -> None:
        self.receive_filters.append(receive_filter)

    def cold_start(self) -> None:
        """Every function starts in a new execution environment on its next call (new
        clients with a full retry quota, settings read again), as after a deploy."""
        self._handlers.clear()

    def close(self) -> None:
        for path in self._added_sys_paths:
            with contextlib.suppress(ValueError):
                sys.path.remove(path)
        self._added_sys_paths.clear()
        self._handlers.clear()

    # -- invoking

    def function(self, name_or_arn: str) -> FunctionSpec:
        name = name_or_arn.split(":function:", 1)[-1].split(":", 1)[0]
        if name not in self.functions:
            raise FunctionNotFoundError(f"no local function named {name!r}")
        return self.functions[name]

    def invoke(self, name_or_arn: str, event: Any) -> Any:
        """Call a function synchronously, like `lambda invoke`; its exception propagates."""
        invocation = self._call(self.function(name_or_arn), event)
        if invocation.error is not None:
            raise RuntimeError(f"{invocation.function_name} failed:\n{invocation.error}")
        return invocation.result

    def _call(self, spec: FunctionSpec, event: Any, trace_header: str | None = None) -> Invocation:
        self._invocation_count += 1
        request_id = _stable_id(spec.arn, str(self._invocation_count), self.clock.now().isoformat())
        context = LambdaContext(
            function_name=spec.name,
            memory_limit_in_mb=spec.memory_mb,
            invoked_function_arn=spec.arn,
            aws_request_id=request_id,
            log_group_name=spec.log_group_name or f"/aws/lambda/{spec.name}",
            log_stream_name=f"{self.clock.now():%Y/%m/%d}/[$LATEST]{request_id.replace('-', '')}",
            deadline_monotonic=time.monotonic() + spec.timeout_seconds,
        )
        result: Any = None
        error: str | None = None
        with (
            self._tracing.invocation(spec.name, trace_header, spec.arn) as traced,
            self._function_environment(spec, traced.header),
        ):
            try:
                result = self._handler(spec)(event, context)
            except Exception:  # noqa: BLE001 - a failing handler is a result here, as it is for Lambda
                error = traceback.format_exc()
                traced.fault = True
                logger.warning("%s raised:\n%s", spec.name, error)
        invocation = Invocation(spec.name, request_id, event, result, error)
        self.invocations.append(invocation)
        return invocation

    @contextlib.contextmanager
    def _function_environment(self, spec: FunctionSpec, trace_header: str) -> Iterator[None]:
        # The local cloud IS the Lambda environment, so it sets os.environ for the call.
        environ = os.environ  # noqa: TID251
        saved = dict(environ)
        environ.update(spec.environment)
        environ.update(
            {
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group_name or f"/aws/lambda/{spec.name}",
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "_HANDLER": spec.handler,
            }
        )
        if trace_header:
            environ["_X_AMZN_TRACE_ID"] = trace_header
        try:
            # The function reads the cloud's virtual clock, as every emulator does.
            with function_identity(environ), host_clock(self.clock.now):
                yield
        finally:
            environ.clear()
            environ.update(saved)

    def _handler(self, spec: FunctionSpec) -> Callable[..., Any]:
        if spec.handler not in self._handlers:
            module_name, _, function_name = spec.handler.rpartition(".")
            code_path = str(spec.code_path)
            if code_path not in sys.path:
                sys.path.insert(0, code_path)
                self._added_sys_paths.append(code_path)
            module = importlib.import_module(module_name)
            handler = getattr(module, function_name)
            # A service's function gets an execution environment of this runtime's own.
            fresh = getattr(handler, "fresh", None)
            self._handlers[spec.handler] = fresh() if callable(fresh) else handler
        return self._handlers[spec.handler]

    # -- the pump

    def pump_round(self) -> int:
        """Drain every enabled queue source once; return how many messages were handled.

        With a queue clock, a message that fails stays in flight for its queue's visibility
        timeout (virtual time) and a batch smaller than BatchSize waits for the batching
        window. Without one, a failed message is made visible again after its queue was
        drained, so one round is one delivery attempt. Either way a message always failing
        reaches its DLQ (moto redrives on receive) after maxReceiveCount deliveries.
        """
        return sum(self._drain(source) for source in self.sources if source.enabled)

    def _ready(self, source: QueueSource) -> bool:
        """Whether Lambda's poller would invoke now: a full batch, or the window is over."""
        if self.queue_clock is None or source.batching_window_seconds <= 0:
            return True
        count, since = self.queue_clock.visible(source.queue_url)
        if count == 0 or count >= source.batch_size or since is None:
            return count > 0
        return self.clock.now().timestamp() >= since + source.batching_window_seconds

    def _drain(self, source: QueueSource) -> int:
        sqs = self._clients.client("sqs")
        handled, to_retry = 0, []
        while handled < MAX_MESSAGES_PER_DRAIN and self._ready(source):
            messages = self._receive(sqs, source)
            if not messages:
                break
            handled += len(messages)
            for receive_filter in self.receive_filters:
                messages = receive_filter(source, messages)
            if messages:
                to_retry.extend(self._deliver_batch(sqs, source, messages))
        if self.queue_clock is not None:
            return handled  # failed messages come back after the visibility timeout
        for start in range(0, len(to_retry), 10):
            sqs.change_message_visibility_batch(
                QueueUrl=source.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for index, handle in enumerate(to_retry[start : start + 10])
                ],
            )
        return handled

    def _receive(self, sqs: Any, source: QueueSource) -> list[JsonDict]:
        messages: list[JsonDict] = []
        while len(messages) < source.batch_size:
            response = sqs.receive_message(
                QueueUrl=source.queue_url,
                MaxNumberOfMessages=min(10, source.batch_size - len(messages)),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            received = response.get("Messages", [])
            if not received:
                break
            messages.extend(received)
        return messages

    def _deliver_batch(self, sqs: Any, source: QueueSource, messages: list[JsonDict]) -> list[str]:
        """Call the function with one batch; return the receipt handles to retry."""
        records = []
        for received in messages:
            body = with_account(received["Body"], self.account_id)
            message = (
                received
                if body == received["Body"]
                else {**received, "Body": body, "MD5OfBody": None}
            )
            records.append(sqs_record(message, queue_arn=source.queue_arn, region=self.region))
        trace_header = (messages[0].get("Attributes") or {}).get("AWSTraceHeader")
        invocation = self._call(
            self.function(source.function_name), {"Records": records}, trace_header
        )
        failed = failed_message_ids(
            records,
            invocation.result,
            invocation.error,
            report_failures=source.report_batch_item_failures,
        )
        self.invocations[-1] = Invocation(
            invocation.function_name,
            invocation.request_id,
            invocation.event,
            invocation.result,
            invocation.error,
            tuple(sorted(failed)),
        )
        succeeded = [record for record in records if record["messageId"] not in failed]
        for start in range(0, len(succeeded), 10):
            sqs.delete_message_batch(
                QueueUrl=source.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": record["receiptHandle"]}
                    for index, record in enumerate(succeeded[start : start + 10])
                ],
            )
        return [record["receiptHandle"] for record in records if record["messageId"] in failed]

    # -- schedules and time

    def current_jobs(self) -> list[ScheduledJob]:
        return [*self.jobs, *(job for source in self.job_sources for job in source.jobs())]

    def next_due(self) -> datetime | None:
        dues = [job.next_due for job in self.current_jobs() if job.next_due is not None]
        return min(dues) if dues else None

    def next_queue_moment(self) -> float | None:
        """When (epoch seconds) a queue source next has something to deliver that it cannot
        deliver now: a message in flight or delayed, or a batch waiting for its window."""
        if self.queue_clock is None:
            return None
        moments = []
        for source in self.sources:
            if not source.enabled:
                continue
            hidden = self.queue_clock.next_visible(source.queue_url)
            if hidden is not None:
                moments.append(hidden)
            count, since = self.queue_clock.visible(source.queue_url)
            if count and since is not None and not self._ready(source):
                moments.append(since + source.batching_window_seconds)
        now = self.clock.now().timestamp()
        return max(now, min(moments)) if moments else None

    def next_moment(self) -> float | None:
        """The next time anything is due: a scheduled job, a queue's or an emulator's moment."""
        due = self.next_due()
        moments = [due.timestamp()] if due is not None else []
        waited = self.next_waited_moment()
        if waited is not None:
            moments.append(waited)
        return min(moments) if moments else None

    def next_waited_moment(self) -> float | None:
        """The next moment the system waits for besides schedules: a queue's (a message
        becoming visible, a batching window closing) or an emulator's (a job's next stage)."""
        now = self.clock.now().timestamp()
        moments = [moment for hook in self.hooks if (moment := _hook_moment(hook)) is not None]
        queue_moment = self.next_queue_moment()
        if queue_moment is not None:
            moments.append(queue_moment)
        return max(now, min(moments)) if moments else None

    def fire_due_jobs(self) -> int:
        now, fired = self.clock.now(), 0
        for job in self.current_jobs():
            while job.next_due is not None and job.next_due <= now:
                self._fire(job, job.next_due)
                fired += 1
                job.next_due = due_after(job, job.next_due)
        return fired

    def _fire(self, job: ScheduledJob, moment: datetime) -> None:
        if job.deliver is not None:
            job.deliver(moment)
            return
        event = scheduled_event(job, moment=moment, region=self.region, account_id=self.account_id)
        for target in job.targets:
            if job.kind == "rule":
                self.send(target, target_payload(target, event, rule_arn=job.arn), event)
            else:
                self.send(target, target.input if target.input is not None else "{}", None)

    def send(self, target: Target, payload: str, event: JsonDict | None) -> None:
        """Deliver a rule's or schedule's payload to its target (a queue, a function, a bus,
        or Scheduler's universal PutEvents target)."""
        service, _, account, resource = _arn_parts(target.arn)
        if service == "sqs":
            url = f"https://sqs.{self.region}.amazonaws.com/{account}/{resource}"
            extra = {"MessageGroupId": target.message_group_id} if target.message_group_id else {}
            self._clients.client("sqs").send_message(QueueUrl=url, MessageBody=payload, **extra)
        elif service == "lambda":
            self._call(self.function(target.arn), json.loads(payload))
        elif service == "events" and resource.startswith("event-bus/"):
            entry = {
                "EventBusName": resource.removeprefix("event-bus/"),
                "Source": target.source or (event or {}).get("source", "aws.scheduler"),
                "DetailType": target.detail_type
                or (event or {}).get("detail-type", "Scheduled Event"),
                "Detail": payload if event is None else json.dumps(event.get("detail", {})),
            }
            self._put_events([entry])
        elif service == "scheduler" and resource == "aws-sdk:eventbridge:putEvents":
            self._put_events(json.loads(payload)["Entries"])
        else:
            raise NotImplementedError(f"the local cloud cannot deliver a schedule to {target.arn}")

    def _put_events(self, entries: list[JsonDict]) -> None:
        response = self._clients.client("events").put_events(Entries=entries)
        if response.get("FailedEntryCount"):
            raise RuntimeError(f"scheduled put_events failed: {response['Entries']}")

    def tick_hooks(self) -> None:
        for hook in self.hooks:
            hook.tick()

    def busy_hooks(self) -> list[Hook]:
        return [hook for hook in self.hooks if hook.busy()]

    def advance(self, seconds: float, *, max_rounds: int = 100) -> None:
        """Move the clock; each due schedule fires at its own time and the queues are
        drained after each firing, so the system reacts between firings as it would."""
        self.advance_to(self.clock.now().timestamp() + seconds, max_rounds=max_rounds)

    def advance_to(self, target_timestamp: float, *, max_rounds: int = 100) -> None:
        """Move the clock to each moment up to `target_timestamp` (schedules firing, queued
        messages becoming visible, batching windows closing) and let the system react."""
        for _ in range(MAX_MOMENTS_PER_ADVANCE):
            moment = self.next_moment()
            if moment is None or moment > target_timestamp:
                break
            self.clock.advance_to(datetime.fromtimestamp(moment, UTC))
            self.fire_due_jobs()
            self.tick_hooks()
            self._pump(max_rounds)
        else:
            raise NotSettledError(
                f"{MAX_MOMENTS_PER_ADVANCE} moments before {target_timestamp}: something "
                "keeps asking for the clock without moving on"
            )
        self.clock.advance(max(0.0, target_timestamp - self.clock.now().timestamp()))
        self.tick_hooks()
        if self.queue_clock is not None:
            self._pump(max_rounds)

    def _pump(self, max_rounds: int) -> None:
        for _ in range(max_rounds):
            if not self.pump_round():
                break

    def run_until_idle(self, *, max_rounds: int = 100) -> int:
        """Run handlers and emulators until nothing moves; return the rounds it took.

        Each round: emulators tick, then every queue is drained once. When a round handles
        nothing, no emulator is busy and no queued message waits for its moment, the system
        is idle. Otherwise time moves on to the next queue moment (a message becoming
        visible, a batching window closing), firing the schedules due before it, or, when
        only an emulator is busy, to the next scheduled firing (or IDLE_STEP_SECONDS).
        """
        for rounds in range(1, max_rounds + 1):
            self.tick_hooks()
            if self.pump_round():
                continue
            queue_moment = self.next_queue_moment()
            if not self.busy_hooks() and queue_moment is None:
                return rounds
            waited = self.next_waited_moment()
            if waited is not None:
                # advance_to fires the schedules due before it on the way, each at its time.
                self.advance_to(waited)
                continue
            due = self.next_due()
            now = self.clock.now().timestamp()
            self.advance_to(due.timestamp() if due else now + IDLE_STEP_SECONDS)
        raise NotSettledError(
            f"the local cloud did not settle in {max_rounds} rounds; still busy: "
            + "; ".join(self._busy_descriptions())
        )

    def _busy_descriptions(self) -> list[str]:
        descriptions = [f"emulator {_hook_name(hook)}" for hook in self.busy_hooks()]
        sqs = self._clients.client("sqs")
        for source in self.sources:
            attributes = sqs.get_queue_attributes(
                QueueUrl=source.queue_url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            pending = sum(int(count) for count in attributes.values())
            if pending:
                descriptions.append(
                    f"queue {source.queue_url.rsplit('/', 1)[-1]} -> {source.function_name} "
                    f"({pending} messages still failing or in flight)"
                )
        return descriptions or ["nothing identifiable (a hook kept producing work)"]


def _hook_name(hook: Hook) -> str:
    return str(getattr(hook, "name", None) or type(hook).__name__)
