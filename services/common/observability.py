"""Powertools logger, tracer and metrics: one of each per process, shared by every module.

Service name and metrics namespace come from POWERTOOLS_SERVICE_NAME and
POWERTOOLS_METRICS_NAMESPACE, which the template sets per function.

The tracer is built on first use, not at import: building it imports the X-Ray SDK and
patches botocore, which a cold start would otherwise pay before the handler is even
reached. It patches only what the services call (botocore, and http.client for the custom
resource's answer), not every library the SDK knows that happens to be installed.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

PATCHED_MODULES = ("botocore", "httplib")
SERVICE_VARIABLE = "POWERTOOLS_SERVICE_NAME"
NAMESPACE_VARIABLE = "POWERTOOLS_METRICS_NAMESPACE"

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


class LazyTracer:
    """The Powertools Tracer, built on first use; attributes are the real tracer's."""

    def __init__(self) -> None:
        object.__setattr__(self, "_tracer", None)

    @property
    def real(self) -> Tracer:
        tracer: Tracer | None = object.__getattribute__(self, "_tracer")
        if tracer is None:
            tracer = Tracer(patch_modules=PATCHED_MODULES)
            object.__setattr__(self, "_tracer", tracer)
        return tracer

    def capture_lambda_handler(self, handler: HandlerT) -> HandlerT:
        """`Tracer.capture_lambda_handler`, applied when the handler first runs."""
        traced: Callable[..., Any] | None = None

        @functools.wraps(handler)
        def run(event: Any, context: Any) -> Any:
            nonlocal traced
            if traced is None:
                traced = self.real.capture_lambda_handler(handler)
            return traced(event, context)

        return run  # type: ignore[return-value]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.real, name, value)


logger = Logger()
tracer = LazyTracer()
metrics = Metrics()


@contextlib.contextmanager
def function_identity(environment: Mapping[str, str]) -> Iterator[None]:
    """The one per-invocation contract between a host of several functions and the services.

    On Lambda every function is its own process and these singletons read their service name
    and namespace from the function's environment once. A host that runs several functions in
    one process (the local cloud) wraps each invocation in this, so the logs, metrics and
    trace of the call carry the invoked function's identity; it is restored after.
    """
    provider = metrics.provider
    saved = (provider.namespace, provider.service, logger.service, tracer.service)
    service = environment.get(SERVICE_VARIABLE) or saved[2]
    provider.namespace = environment.get(NAMESPACE_VARIABLE) or provider.namespace
    provider.service = service
    logger.service = service
    logger.append_keys(service=service)
    tracer.service = service
    try:
        yield
    finally:
        provider.namespace, provider.service, logger.service, tracer.service = saved
        logger.append_keys(service=saved[2])
