"""X-Ray on the local cloud: what the Lambda service and EventBridge do for traces.

In Lambda, the service writes each invocation's function segment and hands the function a
`_X_AMZN_TRACE_ID` naming it; the X-Ray SDK then makes a facade segment from that variable
and streams every subsegment the code closes. EventBridge passes a PutEvents entry's
`TraceHeader` to SQS targets as the message's `AWSTraceHeader`. moto does neither, so this
module does both, and stores every document in moto's X-Ray, where plain
`boto3.client("xray").batch_get_traces` finds them.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Tracer
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter
from aws_xray_sdk.core.lambda_launcher import LambdaContext
from aws_xray_sdk.core.models.trace_header import TraceHeader
from aws_xray_sdk.core.models.traceid import TraceId
from moto.events.models import EventsBackend
from moto.sqs.models import SQSBackend
from moto.xray.models import xray_backends

from services.common.observability import tracer as project_tracer

TRACE_ENV = "_X_AMZN_TRACE_ID"

# The trace header of the PutEvents entry being delivered right now (moto delivers inline).
_delivering_header: ContextVar[str | None] = ContextVar("delivering_header", default=None)


class _CapturingEmitter(UDPEmitter):  # type: ignore[misc]
    """Hands each finished entity to a sink instead of the X-Ray daemon's UDP port."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        super().__init__()
        self._sink = sink

    def send_entity(self, entity: Any) -> None:
        self._sink(entity.serialize())


class TraceHeaderForwarding:
    """Carries PutEvents' `TraceHeader` to SQS targets as `AWSTraceHeader`, like EventBridge."""

    def __init__(self) -> None:
        self._originals: dict[str, Any] = {}

    def install(self) -> None:
        if self._originals:
            return
        put_events = EventsBackend.put_events
        send_message = SQSBackend.send_message
        self._originals = {"put_events": put_events, "send_message": send_message}

        def put_events_one_by_one(backend: EventsBackend, entries: list[dict[str, Any]]) -> Any:
            if len(entries) > 10:  # let moto refuse it as EventBridge does
                return put_events(backend, entries)
            results: list[dict[str, Any]] = []
            for entry in entries:
                token = _delivering_header.set(entry.get("TraceHeader"))
                try:
                    results += put_events(backend, [entry])
                finally:
                    _delivering_header.reset(token)
            return results

        def send_with_trace_header(backend: SQSBackend, *args: Any, **kwargs: Any) -> Any:
            header = _delivering_header.get()
            # moto's rule delivery passes keywords; leave any other caller's call untouched.
            if header and len(args) <= 2 and not kwargs.get("system_attributes"):
                kwargs["system_attributes"] = {
                    "AWSTraceHeader": {"StringValue": header, "DataType": "String"}
                }
            return send_message(backend, *args, **kwargs)

        EventsBackend.put_events = put_events_one_by_one  # type: ignore[method-assign,assignment]
        SQSBackend.send_message = send_with_trace_header  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if not self._originals:
            return
        EventsBackend.put_events = self._originals["put_events"]  # type: ignore[method-assign]
        SQSBackend.send_message = self._originals["send_message"]  # type: ignore[method-assign]
        self._originals = {}


@dataclass
class TracedInvocation:
    header: str
    fault: bool = False


class XRayCapture:
    """Captures the segments the services emit and stores them in moto's X-Ray."""

    def __init__(self, *, region: str = "us-east-1", account_id: str = "123456789012") -> None:
        self._region = region
        self._account_id = account_id
        self.documents: list[dict[str, Any]] = []
        self._forwarding = TraceHeaderForwarding()
        self._saved: dict[str, Any] | None = None

    def install(self) -> None:
        if self._saved is not None:
            return
        # Build the project's tracer first: building it outside Lambda switches the SDK off,
        # and that must be part of the state saved here, or uninstall would leave the SDK on
        # under a tracer that thinks it is disabled.
        project_tracer.real  # noqa: B018 - built for its side effect
        self._saved = {
            "context": xray_recorder.context,
            "emitter": xray_recorder.emitter,
            "sampling": xray_recorder.sampling,
            "streaming_threshold": xray_recorder.streaming_threshold,
            "sdk_enabled": global_sdk_config.sdk_enabled(),
            "tracer_disabled": Tracer._config["disabled"],
            "project_tracer_disabled": project_tracer.disabled,
        }
        xray_recorder.configure(
            context=LambdaContext(),
            emitter=_CapturingEmitter(self._store),
            sampling=False,  # record every invocation, as an always-sampled trace would
            streaming_threshold=0,  # as in Lambda: each closed subsegment is sent at once
        )
        global_sdk_config.set_sdk_enabled(True)
        # Powertools switches tracing off for good when first built outside Lambda (in its
        # shared config and on the instance); the local cloud is a Lambda environment.
        Tracer._config["disabled"] = False
        project_tracer.disabled = False
        self._forwarding.install()

    def uninstall(self) -> None:
        if self._saved is None:
            return
        self._forwarding.uninstall()
        saved, self._saved = self._saved, None
        xray_recorder.configure(
            context=saved["context"],
            emitter=saved["emitter"],
            sampling=saved["sampling"],
            streaming_threshold=saved["streaming_threshold"],
        )
        global_sdk_config.set_sdk_enabled(saved["sdk_enabled"])
        Tracer._config["disabled"] = saved["tracer_disabled"]
        project_tracer.disabled = saved["project_tracer_disabled"]

    def __enter__(self) -> XRayCapture:
        self.install()
        return self

    def __exit__(self, *_: object) -> None:
        self.uninstall()

    @contextmanager
    def invocation(
        self, function_name: str, trace_header: str | None, function_arn: str | None = None
    ) -> Iterator[TracedInvocation]:
        """Wrap one invocation; its `header` is the `_X_AMZN_TRACE_ID` for the handler.

        The function segment continues the trace of `trace_header` (the message's
        AWSTraceHeader) or starts a new one, and records a fault when the handler fails
        (an exception, or `fault` set by a runtime that catches the handler's errors).
        """
        # The SDK's Lambda context keeps its facade segment until the trace *root* changes,
        # which in Lambda is per process; here every function shares one process, so each
        # invocation starts with a fresh context, as a new Lambda worker would.
        local = getattr(xray_recorder.context, "_local", None)
        if local is not None:
            local.__dict__.clear()
        upstream = TraceHeader.from_header_str(trace_header) if trace_header else TraceHeader()
        trace_id = upstream.root or TraceId().to_id()
        segment_id = secrets.token_hex(8)
        started = time.time()
        traced = TracedInvocation(header=f"Root={trace_id};Parent={segment_id};Sampled=1")
        try:
            yield traced
        except BaseException:
            traced.fault = True
            raise
        finally:
            document: dict[str, Any] = {
                "name": function_name,
                "id": segment_id,
                "trace_id": trace_id,
                "start_time": started,
                "end_time": max(time.time(), started + 1e-6),
                "origin": "AWS::Lambda::Function",
                "fault": traced.fault,
            }
            if upstream.parent:
                document["parent_id"] = upstream.parent
            if function_arn:
                document["resource_arn"] = function_arn
            self._store(json.dumps(document))

    def trace_ids(self) -> list[str]:
        return sorted({doc["trace_id"] for doc in self.documents if "trace_id" in doc})

    def documents_of(self, trace_id: str) -> list[dict[str, Any]]:
        return [doc for doc in self.documents if doc.get("trace_id") == trace_id]

    def _store(self, document: str) -> None:
        parsed = json.loads(document)
        self.documents.append(parsed)
        xray_backends[self._account_id][self._region].process_segment(document)
