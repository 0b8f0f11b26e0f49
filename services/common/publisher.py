"""Publishes contract events to EventBridge.

PutEvents takes at most 10 entries (and 256 KB) a call and can fail per entry. The publisher
chunks, retries only the failed entries with backoff, forwards the X-Ray trace header so a run
stays one trace, and raises when entries still fail, so a consumer reports its message as
failed and SQS redelivers it instead of losing the event.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contracts import MAX_ENTRY_BYTES, Event, PutEventsEntry, entry_size, put_events_entry

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

MAX_ENTRIES_PER_CALL = 10
# Entry codes worth another try; anything else (validation, access) fails at once.
RETRYABLE_CODES = frozenset(
    {"InternalFailure", "InternalException", "ThrottlingException", "ServiceUnavailable"}
)


@dataclass(frozen=True)
class PublishReceipt:
    event_id: str | None
    detail_type: str
    eventbridge_id: str


@dataclass(frozen=True)
class FailedEntry:
    event_id: str | None
    detail_type: str
    error_code: str
    error_message: str


class PublishError(RuntimeError):
    def __init__(self, failures: Sequence[FailedEntry], attempts: int) -> None:
        summary = ", ".join(f"{f.detail_type} {f.event_id} ({f.error_code})" for f in failures)
        super().__init__(
            f"{len(failures)} event(s) not published after {attempts} try(s): {summary}"
        )
        self.failures = list(failures)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter."""

    base_seconds: float = 0.1
    max_seconds: float = 2.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography


def current_trace_header() -> str | None:
    """The X-Ray trace header of the running segment or subsegment, if tracing is on."""
    # The SDK is imported with the first publish, not with the module (cold start).
    from aws_xray_sdk.core import xray_recorder  # noqa: PLC0415
    from aws_xray_sdk.core.models.dummy_entities import (  # noqa: PLC0415
        DummySegment,
        DummySubsegment,
    )
    from aws_xray_sdk.core.models.trace_header import TraceHeader  # noqa: PLC0415

    try:
        entity = xray_recorder.get_trace_entity()
    except Exception:  # noqa: BLE001 - no active trace is not an error worth failing a publish
        return None
    # With tracing off the SDK hands out dummy entities: no trace to continue.
    if entity is None or isinstance(entity, DummySegment | DummySubsegment):
        return None
    trace_id = getattr(entity, "trace_id", None)
    if not trace_id:
        return None
    sampled = 1 if getattr(entity, "sampled", False) else 0
    header = TraceHeader(root=trace_id, parent=entity.id, sampled=sampled)
    return str(header.to_header_str())


class EventPublisher:
    def __init__(
        self,
        event_bus_name: str,
        client: Callable[[], EventBridgeClient],
        *,
        max_attempts: int = 4,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
        trace_header: Callable[[], str | None] = current_trace_header,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._bus = event_bus_name
        self._client = client
        self._max_attempts = max_attempts
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self._trace_header = trace_header

    def publish(
        self, events: Sequence[Event], *, trace_header: str | None = None
    ) -> list[PublishReceipt]:
        """Publish every event or raise PublishError naming those that failed.

        Entries are built (and size-checked) before anything is sent, so an oversize event
        fails the call without publishing half of it. `trace_header` continues another
        trace than the current one: a run that ends in a later invocation (started by
        Athena's event or a schedule) stays in the trace where it began.
        """
        if not events:
            return []
        trace_header = trace_header or self._trace_header()
        entries = [
            put_events_entry(event, event_bus_name=self._bus, trace_header=trace_header)
            for event in events
        ]
        receipts: list[PublishReceipt] = []
        for chunk in _chunks(list(zip(events, entries, strict=True))):
            receipts += self._publish_chunk(chunk)
        return receipts

    def _publish_chunk(self, chunk: list[tuple[Event, PutEventsEntry]]) -> list[PublishReceipt]:
        pending = chunk
        receipts: list[PublishReceipt] = []
        for attempt in range(1, self._max_attempts + 1):
            if attempt > 1:
                self._sleep(self._backoff.delay(attempt - 1))
            response = self._client().put_events(Entries=[entry for _, entry in pending])
            retry: list[tuple[Event, PutEventsEntry]] = []
            failures: list[FailedEntry] = []
            for (event, entry), result in zip(pending, response["Entries"], strict=True):
                if "EventId" in result and not result.get("ErrorCode"):
                    receipts.append(_receipt(event, result["EventId"]))
                    continue
                failure = _failure(event, result)
                failures.append(failure)
                if failure.error_code in RETRYABLE_CODES:
                    retry.append((event, entry))
            if not failures:
                return receipts
            if len(retry) < len(failures) or attempt == self._max_attempts:
                raise PublishError(failures, attempt)
            pending = retry
        raise AssertionError("unreachable: the loop returns or raises")


def _receipt(event: Event, eventbridge_id: str) -> PublishReceipt:
    return PublishReceipt(event.event_id, event.DETAIL_TYPE, eventbridge_id)


def _failure(event: Event, result: Any) -> FailedEntry:
    return FailedEntry(
        event_id=event.event_id,
        detail_type=event.DETAIL_TYPE,
        error_code=str(result.get("ErrorCode") or "Unknown"),
        error_message=str(result.get("ErrorMessage") or "no message"),
    )


def _chunks(
    items: list[tuple[Event, PutEventsEntry]],
) -> Iterator[list[tuple[Event, PutEventsEntry]]]:
    """Groups of at most 10 entries whose sizes add up to at most EventBridge's limit."""
    chunk: list[tuple[Event, PutEventsEntry]] = []
    chunk_bytes = 0
    for item in items:
        size = entry_size(item[1])
        if chunk and (len(chunk) == MAX_ENTRIES_PER_CALL or chunk_bytes + size > MAX_ENTRY_BYTES):
            yield chunk
            chunk, chunk_bytes = [], 0
        chunk.append(item)
        chunk_bytes += size
    if chunk:
        yield chunk
