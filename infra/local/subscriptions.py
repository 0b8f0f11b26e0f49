"""Watching the bus from outside the system, the way a subscriber's own queue would.

`cloud.subscribe("watch", {"detail-type": ["CatalogEntryChanged"]})` creates a queue and a
rule on the project's bus; `received()` returns every event delivered so far, oldest first
(a subscriber sees at-least-once delivery too, so repeats are kept).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Subscription:
    sqs: Any
    queue_url: str
    events: list[dict[str, Any]] = field(default_factory=list)

    def received(self) -> list[dict[str, Any]]:
        while True:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            messages = response.get("Messages", [])
            if not messages:
                break
            for message in messages:
                self.events.append(json.loads(message["Body"]))
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(messages)
                ],
            )
        return list(self.events)

    def of_type(self, detail_type: str) -> list[dict[str, Any]]:
        return [event for event in self.received() if event.get("detail-type") == detail_type]


def subscribe(
    events: Any, sqs: Any, *, bus_name: str, name: str, pattern: dict[str, Any]
) -> Subscription:
    """A queue named `name` receiving what `pattern` matches on `bus_name`."""
    queue_url = sqs.create_queue(QueueName=f"subscriber-{name}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    events.put_rule(
        Name=f"subscriber-{name}", EventBusName=bus_name, EventPattern=json.dumps(pattern)
    )
    events.put_targets(
        Rule=f"subscriber-{name}",
        EventBusName=bus_name,
        Targets=[{"Id": "subscriber", "Arn": queue_arn}],
    )
    return Subscription(sqs=sqs, queue_url=queue_url)
