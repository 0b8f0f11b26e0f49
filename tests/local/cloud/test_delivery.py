"""Redelivery: every message twice, late and shuffled, on the toy stack."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local import LocalCloud
from infra.local.delivery import Redelivery, not_scheduled
from infra.local.runtime import QueueSource

TOY_TEMPLATE = Path(__file__).parent / "toy-template.yaml"
TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(template=TOY_TEMPLATE, emulators=[]) as running:
        yield running


def _put(cloud: LocalCloud, details: list[dict[str, Any]]) -> None:
    events = boto3.client("events")
    for start in range(0, len(details), 10):
        events.put_events(
            Entries=[
                {
                    "EventBusName": cloud.outputs["EventBusName"],
                    "Source": "toy.producer",
                    "DetailType": "Toy Happened",
                    "Detail": json.dumps(detail),
                    "TraceHeader": TRACE_HEADER,
                }
                for detail in details[start : start + 10]
            ]
        )


def _records(cloud: LocalCloud) -> list[dict[str, Any]]:
    return [
        record
        for invocation in cloud.invocations
        if isinstance(invocation.event, dict)
        for record in invocation.event.get("Records", [])
    ]


def _details(cloud: LocalCloud) -> list[dict[str, Any]]:
    """What the toy producer sent, as delivered (the stack's scheduled ticks left out)."""
    bodies = [json.loads(record["body"]) for record in _records(cloud)]
    return [body["detail"] for body in bodies if body.get("source") == "toy.producer"]


def _ticks(cloud: LocalCloud) -> int:
    bodies = [json.loads(record["body"]) for record in _records(cloud)]
    return sum(body.get("detail-type") == "Scheduled Event" for body in bodies)


def _redeliver(cloud: LocalCloud, **options: Any) -> Redelivery:
    return Redelivery(**options).install(cloud.runtime, boto3.client("sqs"))


def test_every_message_reaches_the_function_twice_in_shuffled_order(cloud: LocalCloud) -> None:
    redelivery = _redeliver(cloud, seed=3, late_share=1.0)
    _put(cloud, [{"seq": n} for n in range(12)])
    cloud.run_until_idle()

    seen = [detail["seq"] for detail in _details(cloud)]
    assert Counter(seen) == dict.fromkeys(range(12), 2)
    assert seen != sorted(seen)  # held until quiet, then all 24 released in shuffled order
    assert len(redelivery.captured) == 12
    assert set(redelivery.deliveries.values()) == {2}
    # Both deliveries keep the message's trace, as a redelivered SQS message does.
    assert {
        record["attributes"].get("AWSTraceHeader")
        for record in _records(cloud)
        if json.loads(record["body"]).get("source") == "toy.producer"
    } == {TRACE_HEADER}
    assert cloud.dead_letters() == {"ToyDeadLetterQueue": []}


def _pump_when_the_window_closes(cloud: LocalCloud) -> int:
    """One round once the toy mapping's 1 s batching window is over (Lambda's poller waits
    that long for a batch smaller than BatchSize)."""
    cloud.clock.advance(1.001)
    return cloud.runtime.pump_round()


def test_deliveries_come_back_within_the_delay_or_once_quiet(cloud: LocalCloud) -> None:
    redelivery = _redeliver(cloud, seed=1, copies=2, max_delay_rounds=0, late_share=0.0)
    _put(cloud, [{"seq": 1}])
    cloud.runtime.tick_hooks()  # nothing held yet
    assert _pump_when_the_window_closes(cloud) == 1  # taken off the queue, not delivered
    assert _details(cloud) == []
    assert redelivery.busy()
    assert redelivery.tick() == 3  # due at once: the original and two copies
    assert not redelivery.busy()
    _pump_when_the_window_closes(cloud)
    assert _details(cloud) == [{"seq": 1}] * 3


def test_late_deliveries_wait_for_a_quiet_round(cloud: LocalCloud) -> None:
    redelivery = _redeliver(cloud, seed=1, late_share=1.0)
    _put(cloud, [{"seq": 1}])
    cloud.runtime.tick_hooks()
    _pump_when_the_window_closes(cloud)
    assert redelivery.tick() == 0  # a message was received since the last round
    assert redelivery.tick() == 2  # nothing since: the system is quiet
    _pump_when_the_window_closes(cloud)
    assert _details(cloud) == [{"seq": 1}] * 2


def test_failing_messages_keep_their_receive_count_and_reach_the_dlq(cloud: LocalCloud) -> None:
    _redeliver(cloud, seed=5)
    _put(cloud, [{"behaviour": "ok"}, {"behaviour": "fail"}])
    cloud.run_until_idle()

    behaviours = Counter(detail["behaviour"] for detail in _details(cloud))
    # Two deliveries of each; each failing delivery is tried maxReceiveCount (5) times.
    assert behaviours == {"ok": 2, "fail": 10}
    dead = cloud.dead_letters()["ToyDeadLetterQueue"]
    assert [json.loads(m["Body"])["detail"] for m in dead] == [{"behaviour": "fail"}] * 2


def test_scheduled_events_and_unwatched_functions_pass_once(cloud: LocalCloud) -> None:
    redelivery = _redeliver(cloud, functions={"some-other-function"})
    _put(cloud, [{"seq": 1}])
    cloud.run_until_idle()
    assert _details(cloud) == [{"seq": 1}]
    assert redelivery.captured == []

    cloud.runtime.receive_filters.clear()
    _redeliver(cloud)
    cloud.advance(300)  # the toy stack's rate(5 minutes) rule fires once
    cloud.run_until_idle()
    assert _ticks(cloud) == 1


def test_only_non_scheduled_bodies_are_captured() -> None:
    source = QueueSource("Q", "arn:aws:sqs:us-east-1:1:q", "https://q", "fn")
    tick = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    assert not not_scheduled(source, json.dumps(tick))
    assert not_scheduled(source, json.dumps({**tick, "source": "toy.producer"}))
    assert not_scheduled(source, "not json")


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="late_share"):
        Redelivery(late_share=1.5)
    with pytest.raises(ValueError, match="copies"):
        Redelivery(copies=-1)
