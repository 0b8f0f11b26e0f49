"""At-least-once delivery on the local cloud: every message twice, late, in shuffled order.

SQS standard queues and EventBridge promise at-least-once delivery in no particular order,
but the local pump hands each message over once, in the order it was sent. `Redelivery`
makes the worst case that AWS allows the normal case:

    redelivery = Redelivery(seed=7).install(cloud.runtime, boto3.client("sqs"))
    ...                      # drive the system as usual
    cloud.run_until_idle()   # each new message reached its function twice

It is a receive filter and a runtime hook at once. When the pump receives a message that is
new (first receive, not one it sent itself), the filter takes it off the queue and holds
`copies + 1` deliveries of it instead: each goes back onto the queue after a random number
of pump rounds, or, for a `late_share` of them, only once the system has gone quiet (no
message received since the previous round). Deliveries released together are shuffled. So
consumers see duplicates at once, duplicates long after the original, and originals
overtaken by younger messages. While it holds deliveries the hook is busy, so
`run_until_idle` waits for them (moving the virtual clock on, as it does for emulators).

Scheduled events ("Scheduled Event" from aws.events) pass untouched by default: the runtime
waits for held messages by moving the clock, which fires the schedules again, so copies of
them would keep an idle system busy for ever (and a duplicate tick is just another tick).
Messages retried after a failure pass untouched too: they already are a second delivery,
and holding them would reset their receive count (the DLQ would never be reached).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from infra.local.runtime import JsonDict, LocalRuntime, QueueSource

Capture = Callable[[QueueSource, str], bool]
"""Whether a new message (its queue's event source and body) is to be redelivered."""


def not_scheduled(source: QueueSource, body: str) -> bool:
    """Everything but EventBridge's scheduled events (see the module docstring)."""
    try:
        event = json.loads(body)
    except ValueError:
        return True
    return not (
        isinstance(event, dict)
        and event.get("source") == "aws.events"
        and event.get("detail-type") == "Scheduled Event"
    )


@dataclass(eq=False)
class HeldDelivery:
    """One delivery of a captured message, waiting for its round."""

    source: QueueSource
    body: str
    trace_header: str | None
    due_round: int | None  # None: held until the system is quiet
    fingerprint: str


@dataclass
class Redelivery:
    """Delivers each new message `copies + 1` times, late and shuffled (see the module doc).

    `functions` limits it to the event sources of these functions (physical names); None
    means every SQS event source. `seed` makes a run repeatable.
    """

    seed: int | None = 0
    copies: int = 1
    max_delay_rounds: int = 3
    late_share: float = 0.3
    functions: Collection[str] | None = None
    capture: Capture = not_scheduled
    captured: list[tuple[str, str]] = field(default_factory=list)
    """(function name, body) of every message taken off a queue, in the order received."""
    deliveries: Counter[str] = field(default_factory=Counter)
    """How often each captured body (by fingerprint) was put back on its queue."""

    def __post_init__(self) -> None:
        if self.copies < 0 or self.max_delay_rounds < 0 or not 0.0 <= self.late_share <= 1.0:
            raise ValueError("copies and max_delay_rounds must be >= 0, late_share in [0, 1]")
        self._random = random.Random(self.seed)  # noqa: S311 - shuffling, not secrets
        self._sqs: Any = None
        self._held: list[HeldDelivery] = []
        self._sent_ids: set[str] = set()
        self._round = 0
        self._received_since_tick = False

    def install(self, runtime: LocalRuntime, sqs: Any) -> Redelivery:
        """Start redelivering on `runtime`; `sqs` is a client of the same (local) cloud."""
        self._sqs = sqs
        runtime.add_receive_filter(self)
        runtime.add_hook(self)
        return self

    # -- the receive filter

    def __call__(self, source: QueueSource, messages: list[JsonDict]) -> list[JsonDict]:
        self._received_since_tick = True
        if not self._watches(source):
            return messages
        deliver_now = []
        for message in messages:
            if self._is_new(message) and self.capture(source, message["Body"]):
                self._take(source, message)
            else:
                deliver_now.append(message)
        return deliver_now

    def _watches(self, source: QueueSource) -> bool:
        if source.queue_url.endswith(".fifo"):
            return False  # FIFO queues promise order and deduplication: nothing to shuffle
        return self.functions is None or source.function_name in self.functions

    def _is_new(self, message: JsonDict) -> bool:
        if message["MessageId"] in self._sent_ids:
            return False
        receive_count = (message.get("Attributes") or {}).get("ApproximateReceiveCount", "1")
        return int(receive_count) <= 1

    def _take(self, source: QueueSource, message: JsonDict) -> None:
        self._sqs.delete_message(QueueUrl=source.queue_url, ReceiptHandle=message["ReceiptHandle"])
        body = str(message["Body"])
        trace_header = (message.get("Attributes") or {}).get("AWSTraceHeader")
        fingerprint = _fingerprint(source, body)
        self.captured.append((source.function_name, body))
        for _ in range(self.copies + 1):
            late = self._random.random() < self.late_share
            due = None if late else self._round + self._random.randint(0, self.max_delay_rounds)
            self._held.append(HeldDelivery(source, body, trace_header, due, fingerprint))

    # -- the runtime hook

    def tick(self) -> int:
        """Put back the deliveries due this round, shuffled; all of them once it is quiet."""
        self._round += 1
        quiet = not self._received_since_tick
        self._received_since_tick = False
        due = [
            held
            for held in self._held
            if quiet or (held.due_round is not None and held.due_round <= self._round)
        ]
        if not due:
            return 0
        self._held = [held for held in self._held if held not in due]
        self._random.shuffle(due)
        for held in due:
            self._send(held)
        return len(due)

    def busy(self) -> bool:
        return bool(self._held)

    def _send(self, held: HeldDelivery) -> None:
        extra: dict[str, Any] = {}
        if held.trace_header:
            extra["MessageSystemAttributes"] = {
                "AWSTraceHeader": {"StringValue": held.trace_header, "DataType": "String"}
            }
        response = self._sqs.send_message(
            QueueUrl=held.source.queue_url, MessageBody=held.body, **extra
        )
        self._sent_ids.add(str(response["MessageId"]))
        self.deliveries[held.fingerprint] += 1

    def delivered(self, source: QueueSource, body: str) -> int:
        """How often a captured message was put back on its queue so far."""
        return self.deliveries[_fingerprint(source, body)]


def _fingerprint(source: QueueSource, body: str) -> str:
    return hashlib.sha256(f"{source.queue_url}\n{body}".encode()).hexdigest()
