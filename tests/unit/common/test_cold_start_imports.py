"""What a handler's import leaves for later: the X-Ray SDK, Powertools' batch package, and
the validators of models the service does not use (see bench/cold_start.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from services.common.observability import LazyTracer

ROOT = Path(__file__).resolve().parents[3]
HANDLERS = sorted(
    f"services.{path.parent.name}.handler" for path in ROOT.glob("services/*/handler.py")
)
DEFERRED = ("aws_xray_sdk.core", "aws_lambda_powertools.utilities.batch", "requests")


def test_importing_every_handler_defers_the_heavy_packages() -> None:
    code = (
        "import sys, json\n"
        + "".join(f"import {module}\n" for module in HANDLERS)
        + "from contracts import CatalogEntryChanged\n"
        + f"print(json.dumps({{name: name in sys.modules for name in {DEFERRED!r}}}))\n"
        + "print(json.dumps(CatalogEntryChanged.__pydantic_complete__))\n"
    )
    output = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
        check=True,
    )
    loaded, built = (json.loads(line) for line in output.stdout.splitlines()[-2:])
    assert len(HANDLERS) >= 8
    assert loaded == dict.fromkeys(DEFERRED, False)
    assert built is False  # no service imports it, so nothing built its validator


def test_the_lazy_tracer_is_built_by_the_first_traced_call() -> None:
    tracer = LazyTracer()

    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"echo": event["value"]}

    assert object.__getattribute__(tracer, "_tracer") is None
    assert handler.__name__ == "handler"
    assert handler({"value": 1}, None) == {"echo": 1}
    real = object.__getattribute__(tracer, "_tracer")
    assert real is not None
    assert handler({"value": 2}, None) == {"echo": 2}
    assert object.__getattribute__(tracer, "_tracer") is real


def test_the_lazy_tracer_reads_and_writes_the_real_tracers_attributes() -> None:
    tracer = LazyTracer()
    saved = tracer.service
    try:
        tracer.service = "renamed"
        assert tracer.real.service == "renamed"
        assert tracer.service == "renamed"
    finally:
        tracer.service = saved
