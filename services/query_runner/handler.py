"""query-runner: starts validated queries on Athena and ends runs from Athena's own events."""

from __future__ import annotations

from services.common.init_phase import init_phase

with init_phase():  # the handler's imports are its cold start
    from aws_lambda_powertools.metrics import MetricUnit

    from contracts import (
        AthenaQueryStateChange,
        ParsedEvent,
        ScheduledEvent,
        SegmentQueryValidated,
        utc_now,
    )
    from services.common.function import LambdaFunction, Routes, route
    from services.common.observability import logger, metrics
    from services.query_runner.bootstrap import QueryRunner, bootstrap
    from services.query_runner.logic import finish_run, start_run, stop_overdue


def on_validated(runner: QueryRunner, parsed: ParsedEvent[SegmentQueryValidated]) -> None:
    detail = parsed.detail
    run = detail.data
    codes = runner.rules.reasons(run.request.query, run.target)
    if codes:
        # The validator never admits such a query: this event did not come from it.
        logger.warning(
            "validated run refused: its query breaks the validator's rules",
            extra={"run_id": run.run_id, "codes": codes},
        )
        metrics.add_metric(name="ValidatedRunsRefused", unit=MetricUnit.Count, value=1)
        return
    execution = start_run(detail, runner.ports, runner.placement, utc_now())
    logger.info("query started", extra={"run_id": detail.data.run_id, "execution": execution})


def on_athena_state(runner: QueryRunner, parsed: ParsedEvent[AthenaQueryStateChange]) -> None:
    status = finish_run(parsed.detail, runner.ports)
    if status is not None:
        logger.info("run ended", extra={"status": status.value})


def on_schedule(runner: QueryRunner, parsed: ParsedEvent[ScheduledEvent]) -> None:
    # Deadlines were stamped with this function's clock, so the sweep judges them by the
    # same clock now (a sweep delivered late still judges the runs as they are).
    stopped = stop_overdue(utc_now(), runner.ports, runner.placement)
    if stopped:
        logger.warning("stopped overdue queries", extra={"run_ids": stopped})


ROUTES = Routes(
    route(SegmentQueryValidated, on_validated),
    route(AthenaQueryStateChange, on_athena_state),
    route(ScheduledEvent, on_schedule),
)
lambda_handler = LambdaFunction(bootstrap, ROUTES)
