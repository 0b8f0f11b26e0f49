"""Fault injection for tests: make the next N calls throttle (429) or fail (500)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import InternalServerError, PinpointError, TooManyRequestsError


@dataclass
class _Fault:
    operation: str | None  # None: any operation
    remaining: int
    make_error: Callable[[], PinpointError]


class FaultInjector:
    """Queued faults, consumed in the order they were added by the calls they match."""

    def __init__(self) -> None:
        self._faults: list[_Fault] = []

    def throttle(self, operation: str | None = None, times: int = 1) -> None:
        """The next ``times`` matching calls answer 429 TooManyRequestsException."""
        self._add(operation, times, lambda: TooManyRequestsError("Too many requests"))

    def server_error(self, operation: str | None = None, times: int = 1) -> None:
        """The next ``times`` matching calls answer 500 InternalServerErrorException."""
        self._add(operation, times, lambda: InternalServerError("Internal server error"))

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> int:
        return sum(fault.remaining for fault in self._faults)

    def take(self, operation: str) -> PinpointError | None:
        """The error this call must answer with, if a fault is queued for it."""
        for fault in self._faults:
            if fault.operation in (None, operation):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault.make_error()
        return None

    def _add(self, operation: str | None, times: int, make: Callable[[], PinpointError]) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        self._faults.append(_Fault(operation, times, make))
