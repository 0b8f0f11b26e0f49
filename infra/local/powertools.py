"""Giving the shared Powertools singletons each function's identity for one invocation.

In Lambda every function is its own process, so Powertools reads POWERTOOLS_SERVICE_NAME
and POWERTOOLS_METRICS_NAMESPACE from the function's environment when
`services.common.observability` is imported. The local cloud runs every function in one
process, where that module was imported once, so for each invocation the logger, metrics
and tracer are pointed at the function's service and namespace, and restored after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from services.common.observability import logger, metrics, tracer

SERVICE = "POWERTOOLS_SERVICE_NAME"
NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"


@contextlib.contextmanager
def function_identity(environment: Mapping[str, str]) -> Iterator[None]:
    provider = metrics.provider
    saved = (provider.namespace, provider.service, logger.service, tracer.service)
    service = environment.get(SERVICE) or saved[2]
    provider.namespace = environment.get(NAMESPACE) or provider.namespace
    provider.service = service
    logger.service = service
    logger.append_keys(service=service)
    tracer.service = service
    try:
        yield
    finally:
        provider.namespace, provider.service, logger.service, tracer.service = saved
        logger.append_keys(service=saved[2])
