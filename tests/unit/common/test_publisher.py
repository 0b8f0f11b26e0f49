"""The EventBridge publisher, against botocore's Stubber (real request validation)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import xray_recorder
from botocore.stub import Stubber

from contracts import EventTooLargeError, Rejection, SegmentQueryRejected, SegmentQueryValidated
from contracts.examples import project_examples
from services.common.publisher import (
    Backoff,
    EventPublisher,
    PublishError,
    current_trace_header,
)

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture
def client() -> Any:
    return boto3.client(
        "events", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s"
    )


@pytest.fixture
def stubber(client: Any) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _events(count: int) -> list[SegmentQueryValidated]:
    template = project_examples()[5]
    assert isinstance(template, SegmentQueryValidated)
    return [
        SegmentQueryValidated.new(template.data, correlation_id="run", event_id=f"event-{i}")
        for i in range(count)
    ]


def _publisher(client: Any, sleeps: list[float] | None = None, **kwargs: Any) -> EventPublisher:
    recorded = sleeps if sleeps is not None else []
    return EventPublisher(
        "pinpoint-lake",
        lambda: client,
        sleep=recorded.append,
        trace_header=lambda: TRACE,
        backoff=Backoff(base_seconds=0.1, max_seconds=1.0),
        **kwargs,
    )


def _ok(count: int, start: int = 0) -> dict[str, Any]:
    return {
        "FailedEntryCount": 0,
        "Entries": [{"EventId": f"eb-{start + i}"} for i in range(count)],
    }


def _expect(
    stubber: Stubber, events: list[SegmentQueryValidated], response: dict[str, Any]
) -> None:
    entries = [
        {
            "Source": "pinpoint-lake.query-validator",
            "DetailType": "SegmentQueryValidated",
            "Detail": event.detail_json(),
            "EventBusName": "pinpoint-lake",
            "TraceHeader": TRACE,
        }
        for event in events
    ]
    stubber.add_response("put_events", response, {"Entries": entries})


def test_events_go_out_in_chunks_of_ten_with_receipts(client: Any, stubber: Stubber) -> None:
    events = _events(23)
    _expect(stubber, events[:10], _ok(10))
    _expect(stubber, events[10:20], _ok(10, 10))
    _expect(stubber, events[20:], _ok(3, 20))

    receipts = _publisher(client).publish(events)

    assert [r.event_id for r in receipts] == [f"event-{i}" for i in range(23)]
    assert receipts[22].eventbridge_id == "eb-22"
    assert {r.detail_type for r in receipts} == {"SegmentQueryValidated"}


def test_chunks_also_respect_the_request_size_limit(client: Any, stubber: Stubber) -> None:
    rejected = project_examples()[6]
    assert isinstance(rejected, SegmentQueryRejected)

    reasons = [Rejection(code="BIG", message="x" * 1000)] * 100  # ~100 KB an event
    big = [
        rejected.model_copy(update={"data": rejected.data.model_copy(update={"reasons": reasons})})
        for _ in range(3)
    ]
    stubber.add_response("put_events", _ok(2), None)
    stubber.add_response("put_events", _ok(1, 2), None)

    assert len(_publisher(client).publish(big)) == 3


def test_a_partial_failure_retries_only_the_failed_entries(client: Any, stubber: Stubber) -> None:
    events = _events(3)
    sleeps: list[float] = []
    _expect(
        stubber,
        events,
        {
            "FailedEntryCount": 1,
            "Entries": [
                {"EventId": "eb-0"},
                {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"},
                {"EventId": "eb-2"},
            ],
        },
    )
    _expect(stubber, [events[1]], _ok(1, 1))

    receipts = _publisher(client, sleeps).publish(events)

    assert sorted(r.eventbridge_id for r in receipts) == ["eb-0", "eb-1", "eb-2"]
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 0.1


def test_entries_that_keep_failing_raise_after_the_last_attempt(
    client: Any, stubber: Stubber
) -> None:
    events = _events(2)
    throttled = {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}
    _expect(stubber, events, {"FailedEntryCount": 1, "Entries": [{"EventId": "e"}, throttled]})
    _expect(stubber, [events[1]], {"FailedEntryCount": 1, "Entries": [throttled]})
    _expect(stubber, [events[1]], {"FailedEntryCount": 1, "Entries": [throttled]})
    sleeps: list[float] = []

    with pytest.raises(
        PublishError, match=r"1 event\(s\) not published after 3 try\(s\)"
    ) as caught:
        _publisher(client, sleeps, max_attempts=3).publish(events)

    assert caught.value.failures[0].event_id == "event-1"
    assert caught.value.failures[0].error_code == "ThrottlingException"
    assert len(sleeps) == 2
    assert sleeps[1] <= 0.2  # backoff ceiling doubles


def test_a_non_retryable_failure_raises_at_once(client: Any, stubber: Stubber) -> None:
    events = _events(1)
    _expect(
        stubber,
        events,
        {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "MalformedDetail", "ErrorMessage": "?"}]},
    )

    with pytest.raises(PublishError, match="MalformedDetail"):
        _publisher(client).publish(events)


def test_an_oversize_event_fails_before_anything_is_sent(client: Any, stubber: Stubber) -> None:
    rejected = project_examples()[6]
    assert isinstance(rejected, SegmentQueryRejected)

    reasons = [Rejection(code="BIG", message="x" * 1024)] * 300
    huge = rejected.model_copy(
        update={"data": rejected.data.model_copy(update={"reasons": reasons})}
    )

    with pytest.raises(EventTooLargeError):
        _publisher(client).publish([*_events(1), huge])


def test_nothing_to_publish_makes_no_call(client: Any, stubber: Stubber) -> None:
    assert _publisher(client).publish([]) == []


def test_max_attempts_must_allow_one_try(client: Any) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        _publisher(client, max_attempts=0)


@pytest.fixture
def xray_sdk_on() -> Iterator[None]:
    # Powertools switches the SDK off process-wide when built outside Lambda.
    was_enabled = global_sdk_config.sdk_enabled()
    global_sdk_config.set_sdk_enabled(True)
    yield
    global_sdk_config.set_sdk_enabled(was_enabled)


def test_no_trace_header_while_tracing_is_off() -> None:
    was_enabled = global_sdk_config.sdk_enabled()
    global_sdk_config.set_sdk_enabled(False)
    try:
        xray_recorder.begin_segment("disabled")
        assert current_trace_header() is None
        xray_recorder.end_segment()
    finally:
        global_sdk_config.set_sdk_enabled(was_enabled)


@pytest.mark.usefixtures("xray_sdk_on")
def test_the_current_xray_segment_becomes_the_trace_header() -> None:
    assert current_trace_header() is None  # no segment open
    segment = xray_recorder.begin_segment("query-validator", sampling=1)
    try:
        subsegment = xray_recorder.begin_subsegment("publish")
        header = current_trace_header()
        xray_recorder.end_subsegment()
    finally:
        xray_recorder.end_segment()

    assert header == f"Root={segment.trace_id};Parent={subsegment.id};Sampled=1"


def test_backoff_grows_exponentially_up_to_its_ceiling() -> None:
    backoff = Backoff(base_seconds=0.5, max_seconds=2.0)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (8, 2.0)]:
        assert all(0 <= backoff.delay(attempt) <= ceiling for _ in range(50))
