"""The function shape every service shares: routes as data, and who may state a fact."""

from __future__ import annotations

import json
from typing import Any

import pytest

from contracts import (
    CatalogBackfillRequested,
    EndpointImportCompleted,
    PinpointResourceResolved,
    SegmentQueryRequested,
    SegmentQueryValidated,
)
from contracts.examples import example_event
from services.catalog_writer import handler as catalog_writer
from services.common.function import LambdaFunction, Routes, route
from services.notifier import handler as notifier
from tests.fixtures.functions import service_function
from tests.fixtures.lambda_events import FakeLambdaContext, sqs_batch
from tests.unit.catalog_writer.fakes import FakeCatalogStore


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "EVENT_BUS_NAME": "pinpoint-lake",
        "CAMPAIGN_JOURNEY_TABLE_NAME": "campaigns-journeys",
        "SEGMENT_TABLE_NAME": "segments",
        "CATALOG_MIRROR_BUCKET_NAME": "catalog-mirror",
        "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:runs",
        "IDEMPOTENCY_TABLE_NAME": "idempotency",
    }.items():
        monkeypatch.setenv(name, value)


class Recorder(list[Any]):
    def __call__(self, events: Any, *, trace_header: str | None = None) -> None:
        self.extend(events)


def forged(model: type[Any], source: str) -> str:
    event = example_event(model)
    event["source"] = source
    return json.dumps(event)


def test_a_forged_resolution_is_refused_logged_and_changes_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store, published = FakeCatalogStore(), Recorder()
    function = service_function(catalog_writer, store=store, mirror=store.mirror, publish=published)

    answer = function(
        sqs_batch(forged(PinpointResourceResolved, "pinpoint-lake.user")), FakeLambdaContext()
    )

    assert answer == {"batchItemFailures": []}  # acknowledged: a retry cannot make it genuine
    assert store.rows == {}
    assert published == []
    assert "only its producer may publish it" in caplog.text


def test_the_producers_own_resolution_is_applied() -> None:
    store, published = FakeCatalogStore(), Recorder()
    function = service_function(catalog_writer, store=store, mirror=store.mirror, publish=published)

    function(sqs_batch(json.dumps(example_event(PinpointResourceResolved))), FakeLambdaContext())

    assert len(store.rows) == 1
    assert len(published) == 1


def test_a_forged_run_ending_is_not_notified() -> None:
    sent: list[Any] = []

    class Sender:
        def send(self, notification: Any) -> str:
            sent.append(notification)
            return "message-1"

    function = service_function(notifier, sender=Sender(), persistence=_NoPersistence())
    forged_ending = forged(EndpointImportCompleted, "pinpoint-lake.query-validator")

    assert function(sqs_batch(forged_ending), FakeLambdaContext()) == {"batchItemFailures": []}
    assert sent == []


@pytest.mark.parametrize("model", [SegmentQueryRequested, CatalogBackfillRequested])
def test_requests_are_taken_from_any_source(model: type[Any]) -> None:
    seen: list[Any] = []
    routes = Routes[None](route(model, lambda _, parsed: seen.append(parsed.detail)))
    function = LambdaFunction(lambda: None, routes)

    function(sqs_batch(forged(model, "my-team.notebook")), FakeLambdaContext())

    assert len(seen) == 1


def test_a_model_is_routed_once() -> None:
    with pytest.raises(ValueError, match="routed twice"):
        Routes[None](
            route(SegmentQueryValidated, lambda _, __: None),
            route(SegmentQueryValidated, lambda _, __: None),
        )


class _NoPersistence:
    """Stands in for the idempotency store; never reached by a refused event."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the idempotency store was used ({name})")
