"""What a cold start does not do (see bench/cold_start.py and docs/BENCHMARKS.md).

A handler's import leaves the X-Ray SDK for the first traced call and the validators of
the models the service does not use unbuilt; nothing imports Powertools' batch package
(it builds Powertools' own pydantic parser models), not even the first invocation; only
the query-validator imports the SQL parser; the catalog's services do not build the
segmentation side's import vocabularies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.common.observability import LazyTracer
from tests.fixtures.interpreter import ROOT, fresh_python

HANDLERS = sorted(
    f"services.{path.parent.name}.handler" for path in ROOT.glob("services/*/handler.py")
)
DEFERRED = ("aws_xray_sdk.core", "aws_lambda_powertools.utilities.batch", "requests")
NEVER_IMPORTED = ("aws_lambda_powertools.utilities.batch", "aws_lambda_powertools.utilities.parser")
SQL_PARSER = "sqlglot"
CATALOG_HANDLERS = (
    "services.catalog_backfill.handler",
    "services.catalog_writer.handler",
    "services.log_ingester.handler",
    "services.name_resolver.handler",
)
IMPORT_VOCABULARIES = ("services.common.targets.imports", "services.common.targets.vocabularies")
# Clients come from botocore (services/common/clients.py); boto3 is imported only where a
# library needs it: Powertools' idempotency store (notifier) and DynamoDB's type
# (de)serializer (catalog-writer).
BOTO3_USERS = ("services.catalog_writer.handler", "services.notifier.handler")


def test_importing_every_handler_defers_the_heavy_packages() -> None:
    code = (
        "import sys, json\n"
        + "".join(f"import {module}\n" for module in HANDLERS)
        + "from contracts import CatalogEntryChanged\n"
        + f"print(json.dumps({{name: name in sys.modules for name in {DEFERRED!r}}}))\n"
        + "print(json.dumps(CatalogEntryChanged.__pydantic_complete__))\n"
    )
    output = fresh_python(code)
    loaded, built = (json.loads(line) for line in output.stdout.splitlines()[-2:])
    assert len(HANDLERS) >= 8
    assert loaded == dict.fromkeys(DEFERRED, False)
    assert built is False  # no service imports it, so nothing built its validator


def _loaded_after(code: str, names: tuple[str, ...], **environment: str) -> dict[str, bool]:
    """Which of `names` a fresh interpreter has imported after running `code`."""
    script = (
        code
        + f"\nimport sys, json\nprint(json.dumps({{n: n in sys.modules for n in {names!r}}}))\n"
    )
    output = fresh_python(script, **environment)
    loaded: dict[str, bool] = json.loads(output.stdout.splitlines()[-1])
    return loaded


@pytest.mark.parametrize("handler", HANDLERS)
def test_only_the_validator_imports_the_sql_parser(handler: str) -> None:
    loaded = _loaded_after(f"import {handler}", (SQL_PARSER, *IMPORT_VOCABULARIES))
    assert loaded[SQL_PARSER] is (handler == "services.query_validator.handler")
    if handler in CATALOG_HANDLERS:
        assert not any(loaded[name] for name in IMPORT_VOCABULARIES), loaded


@pytest.mark.parametrize("handler", HANDLERS)
def test_only_handlers_whose_libraries_need_it_import_boto3(handler: str) -> None:
    loaded = _loaded_after(f"import {handler}", ("boto3", "s3transfer", "botocore.client"))
    needs_boto3 = handler in BOTO3_USERS
    assert loaded == {"boto3": needs_boto3, "s3transfer": needs_boto3, "botocore.client": True}


def test_the_first_invocation_does_not_import_powertools_batch_or_parser_models() -> None:
    # A batch of one event the catalog-writer does not take: parsed, refused, and failed.
    call = (
        "import json\n"
        "from services.catalog_writer.handler import lambda_handler\n"
        "from services.common.batch import BatchProcessingError\n"
        "from contracts import CatalogEntryChanged\n"
        "from contracts.examples import example_event\n"
        "from tests.fixtures.lambda_events import FakeLambdaContext, sqs_batch\n"
        "try:\n"
        "    lambda_handler(sqs_batch(example_event(CatalogEntryChanged)), FakeLambdaContext())\n"
        "except BatchProcessingError as error:\n"
        "    assert 'UnknownEventError' in str(error), error\n"
        "else:\n"
        "    raise AssertionError('the refused record did not fail its batch')\n"
    )
    loaded = _loaded_after(
        call,
        NEVER_IMPORTED,
        POWERTOOLS_SERVICE_NAME="catalog-writer",
        POWERTOOLS_METRICS_NAMESPACE="pinpoint-lake-tests",
        POWERTOOLS_TRACE_DISABLED="true",
        EVENT_BUS_NAME="bus",
        CAMPAIGN_JOURNEY_TABLE_NAME="campaigns",
        SEGMENT_TABLE_NAME="segments",
        CATALOG_MIRROR_BUCKET_NAME="catalog-mirror",
    )
    assert loaded == dict.fromkeys(NEVER_IMPORTED, False)


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
