"""Athena on DuckDB for the local cloud: plain boto3 Athena calls run over a lake folder."""

from infra.local.athena.emulator import AthenaEmulator, EventPublishError
from infra.local.athena.errors import QueryFailure
from infra.local.athena.executions import QueryExecution, State, Transition
from infra.local.athena.faults import AthenaFaults, FaultRule

__all__ = [
    "AthenaEmulator",
    "AthenaFaults",
    "EventPublishError",
    "FaultRule",
    "QueryExecution",
    "QueryFailure",
    "State",
    "Transition",
]
