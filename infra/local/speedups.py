"""Keeps moto fast enough for bursts: what it recomputes per call, computed once or cheaply.

Two of moto's costs grow with a burst's size, and were most of a 1,000-resource catalog
run's time (`bench/end_to_end.py`):

- moto renders every EventBridge target's input through its input-template parser, which
  builds a new jsonpath_ng parser (a PLY grammar) for each of about eight paths, for every
  event and target: about 8 ms per delivery. A parsed jsonpath expression is immutable and
  its text fully determines it, so parses are memoized.
- moto's SQS asks every message in a queue whether it is visible and delayed on each send
  and receive, and each answer builds two datetimes to read the clock. The clock is read
  with `time.time()` instead, which is the same number without the objects.

Behaviour is unchanged; only repeated work goes. Installed while a local cloud runs.
"""

from __future__ import annotations

import functools
import importlib
import time
from typing import Any

_PARSE_CACHE_SIZE = 1024


class MotoSpeedups:
    """install()/uninstall() around a local cloud, like the emulators."""

    def __init__(self) -> None:
        self._originals: dict[str, Any] = {}

    def install(self) -> None:
        if self._originals:
            return
        jsonpath_ext, sqs_models = _module("jsonpath_ng.ext"), _module("moto.sqs.models")
        self._originals = {"parse": jsonpath_ext.parse, "millis": sqs_models.unix_time_millis}
        # moto imports `parse` from jsonpath_ng.ext inside the function, at each call.
        jsonpath_ext.parse = functools.lru_cache(maxsize=_PARSE_CACHE_SIZE)(jsonpath_ext.parse)
        sqs_models.unix_time_millis = _unix_time_millis(self._originals["millis"])

    def uninstall(self) -> None:
        if not self._originals:
            return
        _module("jsonpath_ng.ext").parse = self._originals["parse"]
        _module("moto.sqs.models").unix_time_millis = self._originals["millis"]
        self._originals = {}


def _unix_time_millis(original: Any) -> Any:
    def unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else float(original(dt))

    return unix_time_millis


def _module(name: str) -> Any:
    # moto and its dependencies are imported only when a local cloud starts.
    return importlib.import_module(name)
