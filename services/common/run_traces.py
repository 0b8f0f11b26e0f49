"""Keeping a run in one X-Ray trace when it ends in a later invocation.

A run's start is traced from the request onward, but its end is triggered by something
else: Athena's state-change event, or the schedule that polls import jobs. Each service
stores the trace header current when it starts its part of a run in its ledger, and
publishes the run's later events with that header, so validator -> runner -> importer ->
notifier stay one trace per run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from contracts import Event
from services.common.publisher import current_trace_header

TRACE_ATTRIBUTE = "trace_header"


class RunTraceHeaders:
    """Trace headers of the runs whose ledger items were read in this invocation."""

    def __init__(self) -> None:
        self._headers: dict[str, str] = {}

    @staticmethod
    def attribute() -> dict[str, Any]:
        """The ledger attribute to store with a new run item (empty when not tracing)."""
        header = current_trace_header()
        return {TRACE_ATTRIBUTE: {"S": header}} if header else {}

    def remember(self, item: Mapping[str, Any]) -> None:
        """Note the trace of a ledger item (a DynamoDB item keyed by `run_id`)."""
        if TRACE_ATTRIBUTE in item and "run_id" in item:
            self._headers[item["run_id"]["S"]] = item[TRACE_ATTRIBUTE]["S"]

    def header(self, run_id: str) -> str | None:
        return self._headers.get(run_id)

    def publishing_in_run_trace(
        self, publish: Callable[..., object]
    ) -> Callable[[Sequence[Event]], object]:
        """Wrap `EventPublisher.publish` so one run's events continue that run's trace."""

        def publish_events(events: Sequence[Event]) -> object:
            runs = {event.metadata.correlation_id for event in events}
            header = self.header(runs.pop()) if len(runs) == 1 else None
            return publish(events, trace_header=header)

        return publish_events
