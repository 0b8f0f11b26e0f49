"""Faults for any AWS operation on the local cloud: throttling, server errors, any error code.

The Pinpoint and Athena emulators have fault switches of their own; this module gives the
same to the services moto answers (DynamoDB, SNS, EventBridge, S3...). A rule answers
matching requests with an error *at botocore's before-send event*, exactly where the
emulators answer (`infra.local.botocore_hook`), so the error goes through botocore's parser
and retry handler like one from AWS: a throttled PutItem is retried with backoff by the
client's retry mode, and only what is still failing after that reaches the handler.

    faults = ServiceFaults()
    with LocalCloud(emulators=(*DEFAULT_EMULATORS, faults.factory)) as cloud:
        faults.fail("dynamodb", "PutItem", DYNAMODB_THROUGHPUT_EXCEEDED, times=3)
        ...
        faults.calls[("dynamodb", "PutItem")]   # every attempt, faulted or not

Install it before the clients it should reach are built (botocore copies its handlers into
each new client): as a LocalCloud emulator factory it is installed with the emulators,
before the cloud and its functions build theirs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import count
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.model import OperationModel

from infra.local.botocore_hook import (
    Uninstall,
    _RawBody,
    decode_request,
    encode_error,
    install_operation_handler,
)

DEFAULT_SERVICES = ("dynamodb", "sns", "events", "s3")

Params = Mapping[str, Any]
Match = Callable[[Params], bool]
"""Decides on a request's parameters (member names; flat form fields for query protocols)."""


@dataclass(frozen=True)
class ServiceError:
    """An error answer: code, HTTP status and message, as the service would send it."""

    code: str
    status: int
    message: str = "fault injected by the local cloud"

    @property
    def sender_fault(self) -> bool:
        return self.status < 500


# What the clients in this project meet most; botocore's standard retry mode retries all of
# them (throttling codes, 429s and 5xx).
THROTTLING = ServiceError("ThrottlingException", 400, "Rate exceeded")
DYNAMODB_THROUGHPUT_EXCEEDED = ServiceError(
    "ProvisionedThroughputExceededException",
    400,
    "The level of configured provisioned throughput for the table was exceeded.",
)
DYNAMODB_INTERNAL_ERROR = ServiceError("InternalServerError", 500, "Internal server error")
SNS_THROTTLED = ServiceError("Throttled", 429, "Rate exceeded")
SNS_INTERNAL_ERROR = ServiceError("InternalError", 500, "Internal error")
EVENTS_INTERNAL_ERROR = ServiceError("InternalException", 500, "Internal error")


@dataclass(eq=False)
class FaultRule:
    service: str
    operation: str | None  # None: every operation of the service
    error: ServiceError
    remaining: int | None  # None: until removed
    match: Match | None = None
    hits: int = 0
    _owner: ServiceFaults | None = field(default=None, repr=False)

    def applies(self, service: str, operation: str, params: Callable[[], Params]) -> bool:
        if self.service != service or self.operation not in (None, operation):
            return False
        return self.match is None or self.match(params())

    def remove(self) -> None:
        if self._owner is not None:
            self._owner.remove(self)


class ServiceFaults:
    """Fault rules for the botocore clients of `services`; an emulator for LocalCloud."""

    def __init__(self, services: Iterable[str] = DEFAULT_SERVICES) -> None:
        self.services = tuple(services)
        self.calls: Counter[tuple[str, str]] = Counter()
        """Attempts seen per (service, operation): retries and faulted attempts included."""
        self.injected: Counter[tuple[str, str, str]] = Counter()
        """Faults answered per (service, operation, error code)."""
        self._rules: list[FaultRule] = []
        self._uninstalls: list[Uninstall] = []
        self._request_ids = count(1)

    # -- rules

    def fail(
        self,
        service: str,
        operation: str | None,
        error: ServiceError,
        *,
        times: int | None = 1,
        match: Match | None = None,
    ) -> FaultRule:
        """The next `times` matching calls (every one while `times` is None) answer `error`.

        Rules are tried in the order they were added; the first that applies answers.
        """
        if service not in self.services:
            raise ValueError(f"{service} is not among the faulted services {self.services}")
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None: until removed)")
        rule = FaultRule(service, operation, error, times, match, _owner=self)
        self._rules.append(rule)
        return rule

    def remove(self, rule: FaultRule) -> None:
        if rule in self._rules:
            self._rules.remove(rule)

    def clear(self) -> None:
        self._rules.clear()

    def pending(self) -> int | None:
        """Faults still to answer; None when a rule stays until removed."""
        if any(rule.remaining is None for rule in self._rules):
            return None
        return sum(rule.remaining or 0 for rule in self._rules)

    # -- the emulator protocol (LocalCloud installs, ticks and uninstalls it)

    def factory(self, _setup: object) -> ServiceFaults:
        return self

    def install(self) -> ServiceFaults:
        if not self._uninstalls:
            for service in self.services:
                self._uninstalls.append(
                    install_operation_handler(service, self._handler_for(service))
                )
        return self

    def uninstall(self) -> None:
        while self._uninstalls:
            self._uninstalls.pop()()

    def tick(self) -> None:
        return None

    def busy(self) -> bool:
        return False

    # -- answering

    def _handler_for(
        self, service: str
    ) -> Callable[[OperationModel, AWSPreparedRequest], AWSResponse | None]:
        def handle(operation: OperationModel, request: AWSPreparedRequest) -> AWSResponse | None:
            self.calls[(service, operation.name)] += 1
            decoded: list[Params] = []

            def params() -> Params:
                if not decoded:
                    decoded.append(_params(operation, request))
                return decoded[0]

            for rule in self._rules:
                if rule.applies(service, operation.name, params):
                    self._spend(rule)
                    self.injected[(service, operation.name, rule.error.code)] += 1
                    return error_response(
                        operation, rule.error, request_id=f"fault-{next(self._request_ids)}"
                    )
            return None  # moto answers

        return handle

    def _spend(self, rule: FaultRule) -> None:
        rule.hits += 1
        if rule.remaining is not None:
            rule.remaining -= 1
            if rule.remaining == 0:
                self.remove(rule)


def _params(operation: OperationModel, request: AWSPreparedRequest) -> Params:
    protocol = operation.metadata["protocol"]
    if protocol in {"json", "rest-json"}:
        return decode_request(operation, request).params
    if protocol in {"query", "ec2"}:
        body = request.body or b""
        text = body.decode() if isinstance(body, bytes) else str(body)
        return dict(parse_qsl(text, keep_blank_values=True))
    return {}


def error_response(
    operation: OperationModel, error: ServiceError, *, request_id: str
) -> AWSResponse:
    """The error as the operation's protocol puts it on the wire."""
    protocol = operation.metadata["protocol"]
    if protocol in {"json", "rest-json"}:
        return encode_error(
            operation,
            status=error.status,
            code=error.code,
            message=error.message,
            request_id=request_id,
        )
    message = escape(error.message)
    if protocol in {"query", "ec2"}:
        kind = "Sender" if error.sender_fault else "Receiver"
        xmlns = operation.metadata.get("xmlNamespace", "")
        body = (
            f'<ErrorResponse xmlns="{escape(xmlns)}"><Error><Type>{kind}</Type>'
            f"<Code>{escape(error.code)}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    elif protocol == "rest-xml":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Error><Code>{escape(error.code)}</Code><Message>{message}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
    else:
        raise NotImplementedError(f"protocol {protocol!r} is not supported by the fault injector")
    raw = body.encode("utf-8")
    headers = HTTPHeaders()
    headers["x-amzn-RequestId"] = request_id
    headers["Content-Type"] = "text/xml"
    headers["Content-Length"] = str(len(raw))
    return AWSResponse(f"https://{protocol}.local/", error.status, headers, _RawBody(raw))
