"""Query executions and their state machine (pure: no engine, no AWS calls).

QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED, and QUEUED → FAILED | CANCELLED.
Every change bumps the execution's sequence number, which Athena puts in its
"Athena Query State Change" events (QUEUED is 1, so a plain success ends at 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from infra.local.athena.engine import QueryResult
from infra.local.athena.errors import QueryFailure


class State(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def terminal(self) -> bool:
        return self in {State.SUCCEEDED, State.FAILED, State.CANCELLED}


_ALLOWED: dict[State, set[State]] = {
    State.QUEUED: {State.RUNNING, State.FAILED, State.CANCELLED},
    State.RUNNING: {State.SUCCEEDED, State.FAILED, State.CANCELLED},
}


class IllegalTransitionError(ValueError):
    pass


@dataclass(frozen=True)
class Transition:
    """One state change, as the state-change event reports it."""

    query_execution_id: str
    workgroup: str
    statement_type: str
    previous: State | None
    current: State
    sequence_number: int
    failure: QueryFailure | None
    at: datetime


@dataclass
class QueryExecution:
    query_execution_id: str
    query: str
    workgroup: str
    catalog: str
    database: str | None
    output_location: str
    """The result file (``s3://bucket/prefix/<id>.csv``), as Athena reports it."""
    statement_type: str
    substatement_type: str
    submitted_at: datetime
    state: State = State.QUEUED
    sequence_number: int = 1
    state_change_reason: str | None = None
    failure: QueryFailure | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    data_scanned_bytes: int = 0
    result: QueryResult | None = None
    stuck: bool = False
    """Held RUNNING by a fault: never finishes on its own (only StopQueryExecution ends it)."""
    history: list[Transition] = field(default_factory=list)

    def first_transition(self) -> Transition:
        """The QUEUED notice published when the query is accepted."""
        transition = self._transition(None, State.QUEUED, self.submitted_at)
        self.history.append(transition)
        return transition

    def move_to(
        self,
        state: State,
        at: datetime,
        *,
        reason: str | None = None,
        failure: QueryFailure | None = None,
    ) -> Transition:
        if state not in _ALLOWED.get(self.state, set()):
            raise IllegalTransitionError(f"{self.query_execution_id}: {self.state} → {state}")
        previous = self.state
        self.state = state
        self.sequence_number += 1
        if state is State.RUNNING:
            self.started_at = at
        if state.terminal:
            self.completed_at = at
            self.stuck = False
        if reason is not None or failure is not None:
            self.state_change_reason = reason or (failure.message if failure else None)
            self.failure = failure
        transition = self._transition(previous, state, at)
        self.history.append(transition)
        return transition

    def _transition(self, previous: State | None, current: State, at: datetime) -> Transition:
        return Transition(
            query_execution_id=self.query_execution_id,
            workgroup=self.workgroup,
            statement_type=self.statement_type,
            previous=previous,
            current=current,
            sequence_number=self.sequence_number,
            failure=self.failure if current is State.FAILED else None,
            at=at,
        )
