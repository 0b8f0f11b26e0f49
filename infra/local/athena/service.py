"""Athena's query lifecycle on the virtual clock, behind small ports (no botocore here).

``start`` accepts a query synchronously (QUEUED) or rejects it like Athena's API would;
each ``tick`` moves every live query one step: QUEUED → RUNNING, then RUNNING → a terminal
state, which is when the SQL really runs. Every change is handed to ``publish``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from infra.local.athena.csv_format import render
from infra.local.athena.engine import DuckDbEngine, QueryResult, ResultColumn
from infra.local.athena.errors import (
    QUERY_CANCELED_BY_USER,
    USER,
    AthenaRequestError,
    QueryFailedError,
    QueryFailure,
)
from infra.local.athena.executions import QueryExecution, State, Transition
from infra.local.athena.faults import AthenaFaults, FaultKind
from infra.local.athena.sql import classify, prepare
from infra.local.athena.tables import TableRef
from infra.local.clock import VirtualClock

DEFAULT_WORKGROUP = "primary"
DEFAULT_DATABASE = "default"  # Athena's database when the request names none
CANCELLED_BY_USER = "Query was cancelled by user"


@dataclass(frozen=True)
class Workgroup:
    name: str
    enabled: bool
    output_location: str | None
    enforce_configuration: bool


class WorkgroupDirectory(Protocol):
    def get(self, name: str) -> Workgroup | None: ...


class ResultWriter(Protocol):
    def write(
        self,
        location: str,
        columns: Sequence[ResultColumn],
        batches: Iterable[Sequence[Sequence[Any]]],
    ) -> None: ...


@dataclass(frozen=True)
class ResultPage:
    columns: tuple[ResultColumn, ...]
    rows: list[list[str | None]]
    next_offset: int | None


class AthenaService:
    def __init__(
        self,
        *,
        clock: VirtualClock,
        engine: DuckDbEngine,
        catalog: str,
        workgroups: WorkgroupDirectory,
        results: ResultWriter,
        publish: Callable[[Transition], None],
        bind_tables: Callable[[frozenset[TableRef], str], int],
        faults: AthenaFaults,
    ) -> None:
        self._clock = clock
        self._engine = engine
        self._catalog = catalog
        self._workgroups = workgroups
        self._results = results
        self._publish = publish
        self._bind_tables = bind_tables
        self.faults = faults
        self._executions: dict[str, QueryExecution] = {}  # insertion = submission order
        self._by_token: dict[str, str] = {}

    # ------------------------------------------------------------------ API verbs

    def start(
        self,
        query: str,
        *,
        client_request_token: str | None = None,
        catalog: str | None = None,
        database: str | None = None,
        output_location: str | None = None,
        workgroup: str | None = None,
    ) -> str:
        if client_request_token and client_request_token in self._by_token:
            return self._by_token[client_request_token]
        group = self._workgroup(workgroup or DEFAULT_WORKGROUP)
        location = _output_location(group, output_location)
        query_execution_id = str(uuid.uuid4())
        statement = classify(query)
        execution = QueryExecution(
            query_execution_id=query_execution_id,
            query=query,
            workgroup=group.name,
            catalog=catalog or self._catalog,
            database=database,
            output_location=f"{location.rstrip('/')}/{query_execution_id}.csv",
            statement_type=statement.statement_type,
            substatement_type=statement.substatement_type,
            submitted_at=self._clock.now(),
        )
        self._executions[query_execution_id] = execution
        if client_request_token:
            self._by_token[client_request_token] = query_execution_id
        self._publish(execution.first_transition())
        return query_execution_id

    def get(self, query_execution_id: str) -> QueryExecution:
        execution = self._executions.get(query_execution_id)
        if execution is None:
            raise AthenaRequestError(f"QueryExecution {query_execution_id} was not found")
        return execution

    def find(self, query_execution_id: str) -> QueryExecution | None:
        return self._executions.get(query_execution_id)

    def stop(self, query_execution_id: str) -> None:
        """Cancel a live query; stopping a finished one is a no-op, as in Athena."""
        execution = self.get(query_execution_id)
        if execution.state.terminal:
            return
        failure = QueryFailure(USER, QUERY_CANCELED_BY_USER, CANCELLED_BY_USER)
        self._publish(
            execution.move_to(
                State.CANCELLED, self._clock.now(), reason=CANCELLED_BY_USER, failure=failure
            )
        )

    def list_ids(self, workgroup: str | None) -> list[str]:
        """Ids of the workgroup's executions, newest first."""
        name = self._workgroup(workgroup or DEFAULT_WORKGROUP, check_enabled=False).name
        return [
            e.query_execution_id for e in reversed(self._executions.values()) if e.workgroup == name
        ]

    def page(self, query_execution_id: str, offset: int, limit: int) -> ResultPage:
        """Rows as text from ``offset``; offset 0 is the header row, like Athena's pages."""
        execution = self.get(query_execution_id)
        if execution.state in {State.QUEUED, State.RUNNING}:
            raise AthenaRequestError(
                f"Query has not yet finished. Current state: {execution.state}"
            )
        if execution.state is not State.SUCCEEDED or execution.result is None:
            raise AthenaRequestError(execution.state_change_reason or str(execution.state))
        result = execution.result
        rows: list[list[str | None]] = []
        if offset == 0:
            rows.append([column.name for column in result.columns])
        data_offset = max(offset - 1, 0)
        data_limit = limit - len(rows)
        if data_limit > 0:
            fetched = self._engine.page(result, data_offset, data_limit)
            rows.extend([render(value) for value in row] for row in fetched)
        end = offset + len(rows)
        has_more = end < result.row_count + 1
        return ResultPage(result.columns, rows, end if has_more else None)

    # ------------------------------------------------------------------ the clock

    def tick(self) -> list[Transition]:
        """Move each live query one step; returns the transitions made."""
        transitions: list[Transition] = []
        for execution in list(self._executions.values()):
            if execution.state is State.QUEUED:
                transitions.append(execution.move_to(State.RUNNING, self._clock.now()))
                self._publish(transitions[-1])
            elif execution.state is State.RUNNING and not execution.stuck:
                transition = self._finish(execution)
                if transition is not None:
                    transitions.append(transition)
                    self._publish(transition)
        return transitions

    def busy(self) -> bool:
        """True while a query will still move on its own (stuck ones never will)."""
        return any(
            not execution.state.terminal and not execution.stuck
            for execution in self._executions.values()
        )

    def executions(self) -> list[QueryExecution]:
        return list(self._executions.values())

    def _finish(self, execution: QueryExecution) -> Transition | None:
        now = self._clock.now()
        rule = self.faults.rule_for(execution.query)
        if rule is not None and rule.kind is FaultKind.STICK:
            execution.stuck = True
            return None
        if rule is not None and rule.kind is FaultKind.FAIL:
            return execution.move_to(State.FAILED, now, failure=rule.failure)
        if rule is not None and rule.kind is FaultKind.CANCEL:
            reason = rule.reason or CANCELLED_BY_USER
            failure = QueryFailure(USER, QUERY_CANCELED_BY_USER, reason)
            return execution.move_to(State.CANCELLED, now, reason=reason, failure=failure)
        try:
            result = self._run(execution)
        except QueryFailedError as error:
            return execution.move_to(State.FAILED, now, failure=error.failure)
        execution.result = result
        return execution.move_to(State.SUCCEEDED, now)

    def _run(self, execution: QueryExecution) -> QueryResult:
        # Athena evaluates now() once, when the query starts running.
        prepared = prepare(execution.query, execution.started_at or self._clock.now())
        result_table = "q_" + execution.query_execution_id.replace("-", "_")
        database = execution.database or DEFAULT_DATABASE
        # Like Athena, the query reads the files each table's location holds as it runs.
        scanned = self._bind_tables(prepared.tables, database)
        result = self._engine.run(
            prepared,
            result_table=result_table,
            catalog=execution.catalog,
            database=database,
        )
        execution.data_scanned_bytes = scanned
        try:
            self._results.write(
                execution.output_location, result.columns, self._engine.batches(result)
            )
        except QueryFailedError:
            self._engine.drop(result_table)
            raise
        return result

    def _workgroup(self, name: str, *, check_enabled: bool = True) -> Workgroup:
        group = self._workgroups.get(name)
        if group is None:
            raise AthenaRequestError(f"WorkGroup {name} is not found.")
        if check_enabled and not group.enabled:
            raise AthenaRequestError(f"WorkGroup {name} is disabled.")
        return group


def _output_location(group: Workgroup, requested: str | None) -> str:
    """Athena's rule: an enforced workgroup location wins; else the request's, else the group's."""
    location: str | None = requested or group.output_location
    if group.enforce_configuration and group.output_location:
        location = group.output_location
    if not location:
        raise AthenaRequestError(
            "No output location provided. An output location is required either through"
            " the Workgroup result configuration setting or as an API input."
        )
    if not location.startswith("s3://") or len(location) <= len("s3://"):
        raise AthenaRequestError(f"outputLocation is not a valid S3 path. Provided {location}")
    return location
