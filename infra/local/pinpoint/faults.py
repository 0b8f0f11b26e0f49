"""Fault injection for tests: make the next N calls throttle (429) or fail (500)."""

from __future__ import annotations

from infra.local.api_emulator import FaultInjector as _SharedFaultInjector

from .errors import InternalServerError, TooManyRequestsError


class FaultInjector(_SharedFaultInjector):
    """Pinpoint's faults: 429 TooManyRequestsException, 500 InternalServerErrorException."""

    def __init__(self) -> None:
        super().__init__(
            throttling=lambda: TooManyRequestsError("Too many requests"),
            server_error=lambda: InternalServerError("Internal server error"),
        )
