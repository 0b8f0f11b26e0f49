"""name-resolver: turns resource changes into named, resolved resources."""

from __future__ import annotations

from services.common.init_phase import init_phase

with init_phase():  # the handler's imports are its cold start
    from aws_lambda_powertools.metrics import MetricUnit

    from contracts import ParsedEvent, PinpointResourceChanged
    from services.common.function import LambdaFunction, Routes, route
    from services.common.observability import logger, metrics
    from services.name_resolver.bootstrap import NameResolver, bootstrap
    from services.name_resolver.logic import resolve


def on_change(resolver: NameResolver, parsed: ParsedEvent[PinpointResourceChanged]) -> None:
    change = parsed.detail.data
    target = resolver.targets.get(change.platform)
    if target is None:
        # Only a target the stack runs produces changes; one of another is acknowledged.
        logger.warning(
            "change of a target this stack does not run", extra={"platform": change.platform}
        )
        metrics.add_metric(name="InactiveTargetSkipped", unit=MetricUnit.Count, value=1)
        return
    resolved = resolve(parsed.detail, target.resources, target.reader)
    if resolved is None:
        # Not cataloged: unpublished (a DRAFT journey) or another scope's resource.
        metrics.add_metric(name="DraftJourneysSkipped", unit=MetricUnit.Count, value=1)
        return
    resolver.publish([resolved])
    metrics.add_metric(name="ResourcesResolved", unit=MetricUnit.Count, value=1)


ROUTES = Routes(
    route(PinpointResourceChanged, on_change),
    per_batch=lambda resolver, context: resolver.for_batch(context),
)
lambda_handler = LambdaFunction(bootstrap, ROUTES)
