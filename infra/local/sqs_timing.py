"""moto's SQS on the local cloud's virtual clock, and what the runtime needs to wait for.

moto reads the wall clock for everything timed in a queue: a received message's visibility
timeout, a message's DelaySeconds, its SentTimestamp and retention. On the local cloud the
rest of the world (schedules, Athena, Pinpoint's import jobs) lives on the virtual clock,
so here SQS does too: a failed message comes back after its queue's VisibilityTimeout and a
delayed one after its delay *in virtual time*, and `LocalRuntime` moves the clock to those
moments as it does to a scheduled rule's (see `next_moment`).

Long polling (WaitTimeSeconds) would wait on a clock that moves only when told to, so a
receive answers at once with what is visible, as a long poll does that finds messages. A
message is visible from the moment its visibility timeout ends (moto: strictly after it,
which on a clock that stands still would hide for good a message set to VisibilityTimeout
0).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from infra.local.clock import VirtualClock


class SqsOnVirtualTime:
    """install()/uninstall() around a local cloud, like the emulators and speed-ups."""

    def __init__(self, clock: VirtualClock, region: str) -> None:
        self._clock = clock
        self._region = region
        self._originals: dict[str, Any] = {}

    def install(self) -> None:
        if self._originals:
            return
        models = _models()
        self._originals = {
            "millis": models.unix_time_millis,
            "seconds": models.unix_time,
            "receive": models.SQSBackend.receive_message,
            "visible": models.Message.visible,
        }
        models.unix_time_millis = _reading(self._millis, self._originals["millis"])
        models.unix_time = _reading(self._seconds, self._originals["seconds"])
        models.SQSBackend.receive_message = _without_long_polling(self._originals["receive"])
        models.Message.visible = property(_visible_from(self._millis))

    def uninstall(self) -> None:
        if not self._originals:
            return
        models = _models()
        models.unix_time_millis = self._originals["millis"]
        models.unix_time = self._originals["seconds"]
        models.SQSBackend.receive_message = self._originals["receive"]
        models.Message.visible = self._originals["visible"]
        self._originals = {}

    def _seconds(self) -> float:
        return self._clock.now().timestamp()

    def _millis(self) -> float:
        return self._clock.now().timestamp() * 1000.0

    # -- what the runtime waits for

    def visible(self, queue_url: str) -> tuple[int, float | None]:
        """How many messages can be received now, and since when (epoch seconds) the one
        visible longest has been: a batching window counts from then."""
        now_ms, count, since = self._millis(), 0, None
        for message in self._messages(queue_url):
            if message.visible and not message.delayed:
                count += 1
                available = max(
                    float(message.sent_timestamp or 0), message.delayed_until, message.visible_at
                )
                since = available if since is None else min(since, available)
        return count, None if since is None else min(since, now_ms) / 1000.0

    def next_visible(self, queue_url: str) -> float | None:
        """When (epoch seconds) the next hidden message (in flight, or delayed) is visible."""
        moments = [
            max(message.visible_at, message.delayed_until) / 1000.0
            for message in self._messages(queue_url)
            if not message.visible or message.delayed
        ]
        return min(moments) if moments else None

    def _messages(self, queue_url: str) -> list[Any]:
        account, name = queue_url.rstrip("/").rsplit("/", 2)[-2:]
        backend = _models().sqs_backends[account][self._region]
        queue = backend.queues.get(name)
        return list(queue._messages) if queue is not None else []  # moto's own state


def _reading(clock: Callable[[], float], original: Callable[..., float]) -> Callable[..., float]:
    def now(dt: Any = None) -> float:
        return clock() if dt is None else float(original(dt))

    return now


def _visible_from(clock: Callable[[], float]) -> Callable[[Any], bool]:
    # moto shows a message strictly after `visible_at`; on a clock that does not move
    # between calls that would hide for good a message whose visibility was set to 0.
    def visible(message: Any) -> bool:
        return bool(clock() >= message.visible_at)

    return visible


def _without_long_polling(receive: Callable[..., Any]) -> Callable[..., Any]:
    def receive_message(
        backend: Any, queue_name: str, count: int, wait_seconds_timeout: int, *rest: Any
    ) -> Any:
        return receive(backend, queue_name, count, 0, *rest)

    return receive_message


def _models() -> Any:
    # moto is imported only when a local cloud starts.
    return importlib.import_module("moto.sqs.models")
