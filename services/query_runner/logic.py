"""query-runner decisions: start a run's Athena query once, end the run once.

Completion comes from Athena's own "Athena Query State Change" events, never from polling.
Each query carries a `-- pinpoint-lake run: <run_id>` comment (Athena keeps it in the
execution's QueryString), so any execution maps back to its run even when the workgroup
enforces its own output location, and queries someone else ran in the workgroup are ignored.
The outcome is published before the run is marked ended, so a crash in between republishes
the same event (consumers dedupe on its id) instead of losing it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import NAMESPACE_URL, uuid5

from contracts import (
    AthenaQueryStateChange,
    EngagementTarget,
    Event,
    FailedQuery,
    QueryFailureState,
    SegmentQueryFailed,
    SegmentQueryStarted,
    SegmentQuerySucceeded,
    SegmentQueryValidated,
    StartedQuery,
    SucceededQuery,
    derived_event_id,
)
from contracts.aws import AthenaError
from services.common.run_ledger import Publish, RunStatus

RUN_MARKER = "-- pinpoint-lake run: "
_RUN_MARKER_PATTERN = re.compile(
    r"^-- pinpoint-lake run: ([A-Za-z0-9][A-Za-z0-9._-]{0,63})\s*$", re.M
)
TERMINAL_STATES = {"SUCCEEDED", "FAILED", "CANCELLED"}


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    query_execution_id: str
    status: RunStatus
    deadline: datetime
    validated: SegmentQueryValidated
    trace_header: str | None = None  # the trace the run started in; its events continue it

    @property
    def ended(self) -> bool:
        return self.status.ended


@dataclass(frozen=True)
class Execution:
    """What Athena says of one query execution (GetQueryExecution)."""

    query_execution_id: str
    state: str
    query: str
    output_location: str | None = None
    reason: str | None = None
    error_category: int | None = None
    error_type: int | None = None
    retryable: bool | None = None
    data_scanned_bytes: int = 0
    engine_execution_time_ms: int = 0


@dataclass(frozen=True)
class QueryPlacement:
    workgroup: str
    catalog: str
    database: str
    results_bucket: str
    timeout: timedelta

    def output_location(self, run_id: str) -> str:
        return f"s3://{self.results_bucket}/athena/runs/{run_id}/"


class QueryRules(Protocol):
    def reasons(self, query: str, target: EngagementTarget) -> list[str]:
        """The codes the validator's rules reject `query` with on `target` (none: it may run)."""
        ...


class Athena(Protocol):
    def start(self, query: str, token: str, placement: QueryPlacement, output: str) -> str: ...

    def describe(self, query_execution_id: str) -> Execution | None: ...

    def stop(self, query_execution_id: str) -> None: ...


class RunLedger(Protocol):
    def get(self, run_id: str) -> RunRecord | None: ...

    def save_started(self, record: RunRecord) -> None:
        """Record a started run, unless the run is already recorded."""
        ...

    def mark_ended(self, run_id: str, status: RunStatus) -> bool:
        """Move a RUNNING run to `status`; False if it had already ended."""
        ...

    def overdue(self, now: datetime) -> list[RunRecord]: ...


@dataclass(frozen=True)
class Ports:
    athena: Athena
    ledger: RunLedger
    publish: Publish
    # The X-Ray trace header of the invocation at work (None when not tracing).
    trace_header: Callable[[], str | None] = lambda: None


def marked_query(run_id: str, query: str) -> str:
    return f"{RUN_MARKER}{run_id}\n{query}"


def run_of(query: str) -> str | None:
    match = _RUN_MARKER_PATTERN.search(query)
    return match.group(1) if match else None


def request_token(run_id: str) -> str:
    """Athena's ClientRequestToken for a run: the same run never starts two executions."""
    return uuid5(NAMESPACE_URL, f"pinpoint-lake/run/{run_id}").hex


def start_run(
    event: SegmentQueryValidated, ports: Ports, placement: QueryPlacement, now: datetime
) -> str | None:
    """Start the run's query (idempotently) and announce it; the execution id, or None."""
    run = event.data
    record = ports.ledger.get(run.run_id)
    if record is not None and record.ended:
        return None  # a late duplicate of a run that has finished: nothing to do
    output = placement.output_location(run.run_id)
    recorded_now = record is None
    if record is None:
        query_execution_id = ports.athena.start(
            marked_query(run.run_id, run.request.query),
            request_token(run.run_id),
            placement,
            output,
        )
        record = RunRecord(
            run_id=run.run_id,
            query_execution_id=query_execution_id,
            status=RunStatus.RUNNING,
            deadline=now + placement.timeout,
            validated=event,
            trace_header=ports.trace_header(),
        )
        ports.ledger.save_started(record)
    started = SegmentQueryStarted.new(
        StartedQuery(
            run_id=run.run_id,
            request=run.request,
            **run.where(),
            query_execution_id=record.query_execution_id,
            workgroup=placement.workgroup,
            output_location=output,
        ),
        correlation_id=run.run_id,
        causation_id=event.metadata.event_id,
        event_id=derived_event_id(event.metadata.event_id, SegmentQueryStarted.DETAIL_TYPE),
    )
    ports.publish([started], trace_header=record.trace_header)
    if recorded_now:
        _end_if_already_ended(record, ports)
    return record.query_execution_id


def _end_if_already_ended(record: RunRecord, ports: Ports) -> None:
    """A delivery that started the query but failed to record it is redelivered after the
    queue's visibility timeout; Athena's state change may have come (and been dropped: no
    run was recorded) meanwhile. Once the run is recorded, an execution that already ended
    ends it now, as its state change would have."""
    execution = ports.athena.describe(record.query_execution_id)
    if execution is not None and execution.state in TERMINAL_STATES:
        _end(record, execution, RunStatus(execution.state), None, ports)


def finish_run(change: AthenaQueryStateChange, ports: Ports) -> RunStatus | None:
    """End the run of a finished execution; the status it ended with, or None if ignored."""
    if change.current_state not in TERMINAL_STATES:
        return None  # QUEUED and RUNNING, in any order, change nothing
    execution = ports.athena.describe(change.query_execution_id)
    run_id = run_of(execution.query) if execution else None
    record = ports.ledger.get(run_id) if run_id else None
    if execution is None or record is None or record.ended:
        return None  # not a run of ours, or a duplicate of an ended one
    if record.query_execution_id != execution.query_execution_id:
        return None  # an execution this run does not own (it cannot end the run)
    status = RunStatus(change.current_state)
    _end(record, execution, status, change.athena_error, ports)
    return status


def _end(
    record: RunRecord,
    execution: Execution,
    status: RunStatus,
    error: AthenaError | None,
    ports: Ports,
) -> None:
    if status is RunStatus.SUCCEEDED:
        outcome: Event = _succeeded(record, execution)
    else:
        reason = (error.error_message if error else None) or execution.reason
        error_type = (error.error_type if error else None) or execution.error_type
        outcome = _failed(
            record,
            QueryFailureState(status.value),
            publishable_reason(
                reason or f"Athena reported {status.value} without a reason",
                error_type,
                record.query_execution_id,
            ),
            error_category=(error.error_category if error else None) or execution.error_category,
            error_type=error_type,
            retryable=error.retryable if error else execution.retryable,
        )
    ports.publish([outcome], trace_header=record.trace_header)
    ports.ledger.mark_ended(record.run_id, status)


# Athena's messages for errors in the data quote the value that broke the query
# ("HIVE_BAD_DATA: Error parsing field value '0.54' for field 0: For input string: "0.54"",
# "NUMERIC_VALUE_OUT_OF_RANGE: Value 12345678901 exceeds..."). A run's failure reason is
# published, notified by e-mail and stored, and rows of the lake must not travel there, so
# such a reason keeps Athena's error name only. The other errors (syntax, a table or
# column not found) name parts of the query, which the run already carries.
DATA_ERROR_TYPE = 1001  # DATA_ERROR, in Athena's error catalog
DATA_ERROR_NAMES = frozenset(
    {
        "DIVISION_BY_ZERO",
        "HIVE_BAD_DATA",
        "HIVE_CURSOR_ERROR",
        "INVALID_CAST_ARGUMENT",
        "INVALID_FUNCTION_ARGUMENT",
        "NUMERIC_VALUE_OUT_OF_RANGE",
    }
)
_ERROR_NAME = re.compile(r"^([A-Z][A-Z0-9_]+):")


def publishable_reason(reason: str, error_type: int | None, query_execution_id: str) -> str:
    """Athena's reason, or for an error in the data its error name alone (see above)."""
    named = _ERROR_NAME.match(reason)
    name = named.group(1) if named else None
    if error_type != DATA_ERROR_TYPE and name not in DATA_ERROR_NAMES:
        return reason
    return (
        f"{name or 'DATA_ERROR'}: a value in the data lake does not fit the query or its "
        "table's schema. Athena's message quotes the value, so it is not repeated here; "
        f"query execution {query_execution_id} in Athena shows it."
    )


def stop_overdue(now: datetime, ports: Ports, placement: QueryPlacement) -> list[str]:
    """Stop and fail every run still running past its deadline; the run ids stopped."""
    stopped = []
    limit = int(placement.timeout.total_seconds())
    for record in ports.ledger.overdue(now):
        ports.athena.stop(record.query_execution_id)
        outcome = _failed(
            record,
            QueryFailureState.TIMED_OUT,
            f"the query ran past its limit of {limit} seconds and was stopped",
        )
        ports.publish([outcome], trace_header=record.trace_header)
        ports.ledger.mark_ended(record.run_id, RunStatus.TIMED_OUT)
        stopped.append(record.run_id)
    return stopped


def _succeeded(record: RunRecord, execution: Execution) -> SegmentQuerySucceeded:
    run = record.validated.data
    return SegmentQuerySucceeded.new(
        SucceededQuery(
            run_id=run.run_id,
            request=run.request,
            **run.where(),
            query_execution_id=execution.query_execution_id,
            result_location=execution.output_location
            or f"s3://unknown/{execution.query_execution_id}.csv",
            data_scanned_bytes=execution.data_scanned_bytes,
            engine_execution_time_ms=execution.engine_execution_time_ms,
        ),
        correlation_id=run.run_id,
        causation_id=record.validated.metadata.event_id,
        event_id=derived_event_id(record.query_execution_id, "ended"),
    )


def _failed(
    record: RunRecord,
    state: QueryFailureState,
    reason: str,
    *,
    error_category: int | None = None,
    error_type: int | None = None,
    retryable: bool | None = None,
) -> SegmentQueryFailed:
    run = record.validated.data
    return SegmentQueryFailed.new(
        FailedQuery(
            run_id=run.run_id,
            request=run.request,
            **run.where(),
            query_execution_id=record.query_execution_id,
            state=state,
            reason=reason[:4096],
            error_category=error_category,
            error_type=error_type,
            retryable=retryable,
        ),
        correlation_id=run.run_id,
        causation_id=record.validated.metadata.event_id,
        # One id for whichever way the run ends: a run announces one ending at most.
        event_id=derived_event_id(record.query_execution_id, "ended"),
    )
