"""name-resolver: turns resource changes into named, resolved resources."""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from contracts import ParsedEvent, PinpointResourceChanged
from services.common.function import LambdaFunction, Routes, route
from services.common.observability import metrics
from services.name_resolver.bootstrap import NameResolver, bootstrap
from services.name_resolver.logic import resolve


def on_change(resolver: NameResolver, parsed: ParsedEvent[PinpointResourceChanged]) -> None:
    resolved = resolve(parsed.detail, resolver.resources, resolver.reader)
    if resolved is None:
        metrics.add_metric(name="DraftJourneysSkipped", unit=MetricUnit.Count, value=1)
        return
    resolver.publish([resolved])
    metrics.add_metric(name="ResourcesResolved", unit=MetricUnit.Count, value=1)


ROUTES = Routes(
    route(PinpointResourceChanged, on_change),
    per_batch=lambda resolver, context: resolver.for_batch(context),
)
lambda_handler = LambdaFunction(bootstrap, ROUTES)
