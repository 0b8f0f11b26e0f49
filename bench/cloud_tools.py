"""What the benchmarks that run on the local cloud share."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

from infra.local import LocalCloud
from services.common.observability import logger as service_logger


@contextlib.contextmanager
def services_log_to(path: Path) -> Iterator[None]:
    """The services' JSON logs and metrics go to `path`, so the figures stay readable.

    Standard output goes there too while inside: report figures after leaving.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = service_logger.registered_handler
    with (
        path.open("a", encoding="utf-8") as log_file,
        contextlib.redirect_stdout(log_file),
        warnings.catch_warnings(),
    ):
        # A batch that publishes no metric is normal here (a skipped or repeated event).
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        previous = (
            handler.setStream(log_file) if isinstance(handler, logging.StreamHandler) else None
        )
        try:
            yield
        finally:
            if isinstance(handler, logging.StreamHandler) and previous is not None:
                handler.setStream(previous)


@contextlib.contextmanager
def only_function(cloud: LocalCloud, logical_id: str) -> Iterator[None]:
    """Pump only the queue of one function; the others keep their messages meanwhile."""
    runtime = cloud.runtime
    name = cloud.stack.physical_name(logical_id)
    saved = list(runtime.sources)
    runtime.sources[:] = [
        dataclasses.replace(source, enabled=source.enabled and source.function_name == name)
        for source in saved
    ]
    try:
        yield
    finally:
        runtime.sources[:] = saved


def batch_size(cloud: LocalCloud, logical_id: str) -> int:
    """The BatchSize of a function's SQS event source, as the template sets it."""
    name = cloud.stack.physical_name(logical_id)
    sizes = [source.batch_size for source in cloud.runtime.sources if source.function_name == name]
    if not sizes:
        raise LookupError(f"{logical_id} has no SQS event source in the template")
    return sizes[0]
