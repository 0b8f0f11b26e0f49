"""The SQS batch loop every service's handler shares.

Each SQS message carries one EventBridge event. Every record is parsed with its contract and
handled on its own; a record that fails is reported in `batchItemFailures`, so SQS retries
only it and, after the queue's maxReceiveCount, moves it to the DLQ. One bad record never
holds back the rest of its batch.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from contracts import (
    EventContractError,
    EventRegistry,
    InvalidEventError,
    ParsedEvent,
    UnknownEventError,
)
from services.common.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


class BatchItemFailure(TypedDict):
    itemIdentifier: str


class PartialItemFailureResponse(TypedDict):
    """What a handler returns: the messages SQS should deliver again."""

    batchItemFailures: list[BatchItemFailure]


EventHandler = Callable[[ParsedEvent[BaseModel]], None]
# Called with the contract error (which carries the raw event, None when the body was not a
# JSON object). When a service gives one, it answers the bad event itself (e.g. publishes a
# rejection) and the message counts as handled; otherwise the message fails into the DLQ.
InvalidEventHandler = Callable[[EventContractError], None]


def parse_record(body: str, accepts: Sequence[type[BaseModel]]) -> ParsedEvent[BaseModel]:
    """The event in one SQS message body, parsed with one of the models the consumer accepts."""
    try:
        raw = json.loads(body)
    except json.JSONDecodeError as error:
        raise InvalidEventError(f"the message body is not JSON ({error.msg})") from None
    registry = _registry_of(tuple(accepts))
    try:
        return registry.parse(raw)
    except UnknownEventError as error:
        detail_type = error.detail_type
        if detail_type is None or registry.knows(detail_type):
            raise  # a version of an accepted detail-type that does not exist
        expected = ", ".join(getattr(model, "DETAIL_TYPE", model.__name__) for model in accepts)
        raise UnknownEventError(
            f"this consumer takes {expected}; got {detail_type!r}", raw=raw
        ) from None


@functools.cache
def _registry_of(accepts: tuple[type[BaseModel], ...]) -> EventRegistry:
    """The registry of one consumer's models: parsing needs no model it does not take, so a
    cold start defines only the contracts of its own side (see `contracts`)."""
    return EventRegistry(accepts)  # type: ignore[arg-type]  # routes hold event models


class BatchProcessingError(Exception):
    """Every record of a batch failed: the invocation fails, and SQS delivers them all again.

    Reporting every message id would have the same effect on the queue; failing the
    invocation also shows in Lambda's error metric. `failures` keeps each record's error.
    """

    def __init__(self, failures: Sequence[RecordFailure]) -> None:
        self.failures = tuple(failures)
        reasons = "".join(
            f"\n  {failure.message_id}: {type(failure.error).__name__}: {failure.error}"
            for failure in self.failures
        )
        super().__init__(f"All records failed processing ({len(self.failures)}):{reasons}")


@dataclass(frozen=True)
class RecordFailure:
    message_id: str
    error: Exception


SqsRecord = Mapping[str, Any]
RecordHandler = Callable[[SqsRecord], None]


def run_batch(records: Sequence[SqsRecord], handle_record: RecordHandler) -> list[RecordFailure]:
    """Each record handled on its own; what one raises fails that record alone."""
    failures = []
    for record in records:
        try:
            handle_record(record)
        except Exception as error:  # noqa: BLE001 - a failed record is reported, not raised
            failures.append(RecordFailure(str(record["messageId"]), error))
    if records and len(failures) == len(records):
        raise BatchProcessingError(failures) from failures[0].error
    return failures


def handle_event_batch(
    event: dict[str, Any],
    context: LambdaContext | None,
    handle: EventHandler,
    *,
    accepts: Sequence[type[BaseModel]],
    on_invalid: InvalidEventHandler | None = None,
) -> PartialItemFailureResponse:
    # The loop is this module's, not Powertools' BatchProcessor: importing Powertools' batch
    # package builds its pydantic parser models (SQS, DynamoDB, Kinesis, Kafka) whenever
    # pydantic is loaded and imports every event data class, about 0.4x an `import boto3`
    # on each cold start, for a loop this short (bench/cold_start.py, docs/BENCHMARKS.md).
    if not accepts:
        raise ValueError("a consumer must accept at least one event model")
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise ValueError("not an SQS batch: the event has no Records list")

    def handle_record(record: SqsRecord) -> None:
        try:
            parsed = parse_record(record["body"], accepts)
        except EventContractError as error:
            _report_invalid(str(record["messageId"]), error)
            if on_invalid is None:
                raise
            on_invalid(error)
            return
        with tracer.provider.in_subsegment(f"## {parsed.envelope.detail_type}") as subsegment:
            # None when tracing is off (POWERTOOLS_TRACE_DISABLED) or no segment is open.
            if subsegment is not None:
                for key, value in _trace_annotations(parsed).items():
                    subsegment.put_annotation(key, value)
            handle(parsed)

    failures = run_batch(records, handle_record)
    return {"batchItemFailures": [{"itemIdentifier": f.message_id} for f in failures]}


def _report_invalid(message_id: str, error: EventContractError) -> None:
    # The contract error names fields and problems, never the values: safe to log.
    logger.warning(
        "event does not fit its contract",
        extra={"message_id": message_id, "problem": str(error)},
    )
    metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)


def _trace_annotations(parsed: ParsedEvent[BaseModel]) -> dict[str, str]:
    """Annotations that make a run's traces findable: correlation id, and run id if any."""
    annotations = {"detail_type": parsed.envelope.detail_type}
    metadata = getattr(parsed.detail, "metadata", None)
    correlation_id = getattr(metadata, "correlation_id", None)
    if correlation_id:
        annotations["correlation_id"] = correlation_id
    run_id = getattr(getattr(parsed.detail, "data", None), "run_id", None)
    if run_id:
        annotations["run_id"] = run_id
    return annotations
