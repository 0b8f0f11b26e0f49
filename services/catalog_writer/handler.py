"""catalog-writer: applies resolved resources to the catalog tables and their mirror, and
announces changes."""

from __future__ import annotations

from services.common.init_phase import init_phase

with init_phase():  # the handler's imports are its cold start
    from aws_lambda_powertools.metrics import MetricUnit

    from contracts import ParsedEvent, PinpointResourceResolved
    from services.catalog_writer.bootstrap import CatalogWriter, bootstrap
    from services.catalog_writer.logic import apply_resolution
    from services.common.function import LambdaFunction, Routes, route
    from services.common.observability import logger, metrics


def on_resolved(writer: CatalogWriter, parsed: ParsedEvent[PinpointResourceResolved]) -> None:
    event = parsed.detail
    outcome = apply_resolution(event, writer.store, writer.publish, mirror=writer.mirror)
    logger.info(
        "resolution applied",
        extra={
            "outcome": outcome.value,
            "resource_type": event.data.resource_type.value,
            "resource_id": event.data.resource_id,
        },
    )
    metrics.add_metric(name=f"Catalog{outcome.value.title()}", unit=MetricUnit.Count, value=1)


ROUTES = Routes(route(PinpointResourceResolved, on_resolved))
lambda_handler = LambdaFunction(bootstrap, ROUTES)
