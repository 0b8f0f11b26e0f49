"""The shared SQS batch loop: per-record parsing, partial failures, poison messages."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pydantic import BaseModel

from contracts import (
    EventContractError,
    ParsedEvent,
    SegmentQueryRequested,
    SegmentQueryValidated,
)
from contracts.examples import example_event
from services.common.batch import BatchProcessingError, handle_event_batch
from services.common.observability import tracer


@pytest.fixture(autouse=True)
def _metrics_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "pinpoint-lake-tests")


def _sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def _validated(run_id: str) -> str:
    raw = example_event(SegmentQueryValidated)
    raw["detail"]["data"]["run_id"] = run_id
    return json.dumps(raw)


def test_every_good_record_is_handled_and_bad_ones_are_reported() -> None:
    handled: list[str] = []

    def handle(parsed: ParsedEvent[BaseModel]) -> None:
        assert isinstance(parsed.detail, SegmentQueryValidated)
        if parsed.detail.data.run_id == "explodes":
            raise RuntimeError("downstream failure")
        handled.append(parsed.detail.data.run_id)

    response = handle_event_batch(
        _sqs_event(
            _validated("run-1"),
            "not json",
            _validated("explodes"),
            json.dumps(example_event(SegmentQueryRequested)),  # not this consumer's event
            _validated("run-2"),
        ),
        None,
        handle,
        accepts=[SegmentQueryValidated],
    )

    assert handled == ["run-1", "run-2"]
    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": "m1"},
            {"itemIdentifier": "m2"},
            {"itemIdentifier": "m3"},
        ]
    }


def test_a_consumer_may_answer_invalid_events_itself() -> None:
    answered: list[tuple[Mapping[str, Any] | None, str]] = []
    problems: list[tuple[str, str, str]] = []

    def on_invalid(error: EventContractError) -> None:
        answered.append((error.raw, str(error)))
        problems.extend((p.part, p.path, p.kind) for p in error.problems)

    bad_request = example_event(SegmentQueryRequested)
    bad_request["detail"]["data"]["query"] = ""

    response = handle_event_batch(
        _sqs_event(json.dumps(bad_request), "[1, 2"),
        None,
        lambda parsed: None,
        accepts=[SegmentQueryRequested],
        on_invalid=on_invalid,
    )

    assert response == {"batchItemFailures": []}
    assert answered[0][0] == bad_request
    assert "data.query: String should have at least 1 character" in answered[0][1]
    assert answered[1] == (None, "the message body is not JSON (Expecting ',' delimiter)")
    # The error keeps its structure: no consumer parses the body again to learn the field.
    assert problems == [("detail", "data.query", "string_too_short")]


def test_a_consumer_must_accept_something() -> None:
    with pytest.raises(ValueError, match="at least one event model"):
        handle_event_batch(_sqs_event(), None, lambda parsed: None, accepts=[])


def test_records_are_handled_when_tracing_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """With tracing off (POWERTOOLS_TRACE_DISABLED) the SDK opens no subsegment: the
    record is still handled, only not annotated."""

    @contextlib.contextmanager
    def no_subsegment(name: str) -> Iterator[None]:
        yield None

    monkeypatch.setattr(tracer.provider, "in_subsegment", no_subsegment)
    handled: list[str] = []

    response = handle_event_batch(
        _sqs_event(json.dumps(example_event(SegmentQueryRequested))),
        None,
        lambda parsed: handled.append(parsed.envelope.detail_type),
        accepts=[SegmentQueryRequested],
    )

    assert response == {"batchItemFailures": []}
    assert handled == ["SegmentQueryRequested"]


def test_a_batch_whose_every_record_fails_fails_the_invocation_with_each_error() -> None:
    # SQS then delivers every message again; the error keeps why each one failed.
    def handle(parsed: ParsedEvent[BaseModel]) -> None:
        raise RuntimeError("downstream failure")

    with pytest.raises(BatchProcessingError, match=r"All records failed processing \(2\)") as info:
        handle_event_batch(
            _sqs_event(_validated("run-1"), "not json"),
            None,
            handle,
            accepts=[SegmentQueryValidated],
        )

    failures = info.value.failures
    assert [failure.message_id for failure in failures] == ["m0", "m1"]
    assert isinstance(failures[0].error, RuntimeError)
    assert isinstance(failures[1].error, EventContractError)
    assert handle_event_batch(_sqs_event(), None, handle, accepts=[SegmentQueryValidated]) == {
        "batchItemFailures": []
    }


@pytest.mark.parametrize("event", [{}, {"Records": "m0"}, {"records": []}])
def test_an_event_that_is_no_sqs_batch_is_refused(event: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not an SQS batch"):
        handle_event_batch(event, None, lambda parsed: None, accepts=[SegmentQueryValidated])
