"""Keeping the services' output off the CLI's own: their logs, metrics and warnings go to a file.

On the local cloud the services run in the CLI's process. Their JSON logs, Powertools' EMF
metric lines (printed to stdout) and Powertools' warnings ("No application metrics to
publish", which a function that published no metric sees on every invocation) all belong
to the services, so they are written to one log file and stdout carries only what the
command prints (with `--json`, exactly one JSON document).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from services.common.observability import logger as service_logger


@contextlib.contextmanager
def services_log_to(path: Path) -> Iterator[TextIO]:
    """While inside, the services' logs, metric lines and warnings go to `path`."""
    handler = service_logger.registered_handler
    warned = logging.getLogger("py.warnings")  # where logging.captureWarnings sends them
    with path.open("a", encoding="utf-8") as log_file:
        to_file = logging.StreamHandler(log_file)
        stream = handler if isinstance(handler, logging.StreamHandler) else None
        previous = stream.setStream(log_file) if stream else None
        propagate = warned.propagate
        warned.addHandler(to_file)
        warned.propagate = False
        logging.captureWarnings(True)
        try:
            with contextlib.redirect_stdout(log_file):
                yield log_file
        finally:
            logging.captureWarnings(False)
            warned.removeHandler(to_file)
            warned.propagate = propagate
            if stream:
                stream.setStream(previous or sys.stdout)
