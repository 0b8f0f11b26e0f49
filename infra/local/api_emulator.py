"""The shared glue of the local cloud's API emulators (Pinpoint, Customer Profiles, campaigns).

An emulator answers plain boto3 calls of one service in process (see
``infra/local/botocore_hook.py``): :class:`ApiEmulator` decodes the HTTP request botocore
prepared, applies injected faults, lets the subclass validate it, runs the operation,
encodes the answer with the botocore output shape and hands the call to the CloudTrail
recorder. A subclass supplies the operation table and, where the service has them, its
validation, masking and time-driven work (:meth:`ApiEmulator._advance`).

Operations missing from the table fall through to moto.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, ClassVar, Self, TypeVar
from urllib.parse import urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.model import OperationModel, Shape

from infra.local.botocore_hook import (
    DecodedRequest,
    Uninstall,
    decode_request,
    encode_error,
    encode_response,
    install_operation_handler,
)
from infra.local.clock import VirtualClock
from infra.local.cloudtrail import ApiCall, CloudTrailRecorder, mask_sensitive
from infra.local.model_validation import validation_errors, validation_message

Params = dict[str, Any]
Operation = Callable[[Params], Mapping[str, Any]]
T = TypeVar("T")


class ApiError(Exception):
    """An error the real service would answer with: HTTP status + modeled error code.

    ``extra`` holds further members of the error shape (``state`` of
    InvalidCampaignStateException, say), encoded into the error body.
    """

    status = 400
    code = "BadRequestException"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra


class IdSource:
    """Ids and request ids from a seeded generator, so local runs are reproducible."""

    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)  # noqa: S311 - ids for an emulator, not secrets

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def resource_id(self) -> str:
        """32 lowercase hex characters (Pinpoint and Customer Profiles ids)."""
        return uuid.UUID(int=self._random.getrandbits(128), version=4).hex

    def cohort_id(self) -> str:
        return str(self._random.randrange(100))

    def token_bytes(self, size: int) -> bytes:
        return self._random.getrandbits(size * 8).to_bytes(size, "big")


# --------------------------------------------------------------------------- faults


@dataclass
class _Fault:
    operation: str | None  # None: any operation
    remaining: int | None  # None: until cleared (an outage)
    make_error: Callable[[], ApiError]


class FaultInjector:
    """Queued faults, consumed in the order they were added by the calls they match.

    ``throttling`` and ``server_error`` build the service's own error (Pinpoint's
    TooManyRequestsException, Customer Profiles' ThrottlingException...).
    """

    def __init__(
        self, throttling: Callable[[], ApiError], server_error: Callable[[], ApiError]
    ) -> None:
        self._faults: list[_Fault] = []
        self._throttling = throttling
        self._server_error = server_error

    def throttle(self, operation: str | None = None, times: int = 1) -> None:
        """The next ``times`` matching calls answer the service's 429 throttling error."""
        self._add(operation, times, self._throttling)

    def server_error(self, operation: str | None = None, times: int = 1) -> None:
        """The next ``times`` matching calls answer the service's 500 error."""
        self._add(operation, times, self._server_error)

    def outage(self, operation: str | None = None) -> None:
        """Every matching call answers the service's 500 error until :meth:`clear`."""
        self._faults.append(_Fault(operation, None, self._server_error))

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> int:
        """Faults still queued (an outage counts as none: it has no end)."""
        return sum(fault.remaining or 0 for fault in self._faults)

    def take(self, operation: str) -> ApiError | None:
        """The error this call must answer with, if a fault is queued for it."""
        for fault in self._faults:
            if fault.operation in (None, operation):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                return fault.make_error()
        return None

    def _add(self, operation: str | None, times: int, make: Callable[[], ApiError]) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        self._faults.append(_Fault(operation, times, make))


# --------------------------------------------------------------------------- paging


def offset_page(
    items: Sequence[T], size: int, token: str | None, invalid_token: Callable[[], Exception]
) -> tuple[list[T], str | None]:
    """One page of ``items`` and the token of the next one (``None`` on the last page).

    A token is the base64 of the next offset: opaque to callers, and a tampered one is
    answered with ``invalid_token()`` as AWS answers it (400).
    """
    start = _offset(token, invalid_token)
    chunk = list(items[start : start + size])
    next_offset = start + size
    next_token = _token(next_offset) if next_offset < len(items) else None
    return chunk, next_token


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str | None, invalid_token: Callable[[], Exception]) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, number = text.partition(":")
        if prefix != "offset":
            raise ValueError(text)
        return max(int(number), 0)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid_token() from None


# --------------------------------------------------------------------------- the emulator


class ApiEmulator:
    """Answers one botocore service in process; subclasses fill ``self._operations``."""

    service_name: ClassVar[str]
    """The botocore service name (``pinpoint``, ``customer-profiles``...)."""
    event_source: ClassVar[str]
    """CloudTrail's eventSource for the service."""
    not_logged: ClassVar[frozenset[str]] = frozenset()
    """Operations the service does not log to CloudTrail at all."""
    read_prefixes: ClassVar[tuple[str, ...]] = ("Get", "List")
    validation_error: ClassVar[type[ApiError] | None] = None
    """When set, every request is checked against the model and refused with this error."""

    def __init__(
        self,
        clock: VirtualClock,
        region: str,
        account_id: str,
        recorder: CloudTrailRecorder | None,
        *,
        faults: FaultInjector,
        seed: int | None,
    ) -> None:
        self.clock = clock
        self.region = region
        self.account_id = account_id
        self.recorder = recorder
        self.faults = faults
        self.calls: Counter[str] = Counter()
        """HTTP attempts answered per operation (retries and injected faults included)."""
        self._ids = IdSource(seed)
        self._operations: dict[str, Operation] = {}
        self._uninstall: Uninstall | None = None
        # Handlers may run on several threads (a pump with concurrency): one call at a time.
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ lifecycle

    def install(self) -> Self:
        """Answer the service's calls of every boto3/botocore client created from now on."""
        if self._uninstall is None:
            self._uninstall = install_operation_handler(self.service_name, self._handle)
        return self

    def uninstall(self) -> None:
        if self._uninstall is not None:
            self._uninstall()
            self._uninstall = None

    def __enter__(self) -> Self:
        return self.install()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.uninstall()

    def tick(self) -> None:
        """Call after the clock moved: jobs progress, due CloudTrail log files are written."""
        with self._lock:
            self._advance()
            if self.recorder is not None:
                self.recorder.flush_due()

    def next_moment(self) -> datetime | None:
        """When (virtual time) the emulator's own work next moves, if it knows: the runtime
        stops the clock there, so a job ends at its time rather than at the next tick."""
        with self._lock:
            return self._next_moment()

    def _next_moment(self) -> datetime | None:
        return None

    def busy(self) -> bool:
        """True while work waits on the clock or CloudTrail records wait for their file."""
        recorder_busy = self.recorder is not None and self.recorder.busy()
        return self._busy() or recorder_busy

    @property
    def operation_names(self) -> frozenset[str]:
        return frozenset(self._operations)

    def is_read_only(self, operation_name: str) -> bool:
        return operation_name.startswith(self.read_prefixes)

    # ------------------------------------------------------------------ subclass hooks

    def _advance(self) -> None:
        """Work the clock drives (jobs, schedules); runs under the lock."""

    def _busy(self) -> bool:
        return False

    def _validate(self, operation: OperationModel, params: Params) -> None:
        """Raise the service's validation error for a request the model refuses."""
        if self.validation_error is None or operation.input_shape is None:
            return
        errors = validation_errors(operation.input_shape, params)
        if errors:
            raise self.validation_error(validation_message(errors))

    def _error_extra(self, error: ApiError, request_id: str) -> dict[str, Any]:
        return dict(error.extra)

    def _mask(self, shape: Shape, body: Any) -> Any:
        """What CloudTrail shows of ``body`` (wire JSON of ``shape``): no sensitive member."""
        return mask_sensitive(shape, body)

    # ------------------------------------------------------------------ dispatch

    def _handle(self, operation: OperationModel, request: AWSPreparedRequest) -> AWSResponse | None:
        run = self._operations.get(operation.name)
        if run is None or not self._is_our_region(request.url):
            return None
        with self._lock:
            return self._answer(operation, request, run)

    def _answer(
        self, operation: OperationModel, request: AWSPreparedRequest, run: Operation
    ) -> AWSResponse:
        self.calls[operation.name] += 1
        decoded = decode_request(operation, request)
        request_id = self._ids.uuid()
        error: ApiError | None = None
        try:
            fault = self.faults.take(operation.name)
            if fault is not None:
                raise fault
            self._validate(operation, decoded.params)
            output = run(decoded.params)
            response = encode_response(operation, output, request_id=request_id)
        except ApiError as raised:
            error = raised
            response = encode_error(
                operation,
                status=raised.status,
                code=raised.code,
                message=raised.message,
                request_id=request_id,
                extra=self._error_extra(raised, request_id),
            )
        self._record(operation, decoded, request_id, response, error)
        return response

    def _is_our_region(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        return f".{self.region}." in f".{host}."

    # ------------------------------------------------------------------ CloudTrail

    def _record(
        self,
        operation: OperationModel,
        decoded: DecodedRequest,
        request_id: str,
        response: AWSResponse,
        error: ApiError | None,
    ) -> None:
        recorder = self.recorder
        if recorder is None or not recorder.enabled or operation.name in self.not_logged:
            return
        read_only = self.is_read_only(operation.name)
        if read_only and not recorder.record_reads:
            return
        response_elements = None
        if error is None:
            content = json.loads(response.content or b"null")
            response_elements = self._masked_payload(operation, content, "output")
        recorder.record(
            ApiCall(
                event_source=self.event_source,
                event_name=operation.name,
                request_parameters=self._request_parameters(operation, decoded),
                response_elements=response_elements or None,
                request_id=request_id,
                user_agent=decoded.user_agent,
                error_code=error.code if error else None,
                error_message=error.message if error else None,
                read_only=read_only,
            )
        )

    def _request_parameters(self, operation: OperationModel, decoded: DecodedRequest) -> Params:
        """CloudTrail's requestParameters: path and query parameters by wire name + the body."""
        parameters: Params = {**decoded.path_params, **decoded.query_params}
        body = self._masked_payload(operation, decoded.body, "input")
        if isinstance(body, dict):
            parameters.update(body)
        return parameters

    def _masked_payload(self, operation: OperationModel, body: Any, side: str) -> Any:
        shape = operation.input_shape if side == "input" else operation.output_shape
        if shape is None or body is None:
            return body
        payload = shape.serialization.get("payload")
        member = shape.members.get(payload) if payload else None
        return self._mask(member if member is not None else shape, body)
