"""importer: turns a run's result file into a Pinpoint import job and follows it to its end."""

from __future__ import annotations

from services.common.init_phase import init_phase

with init_phase():  # the handler's imports are its cold start
    from aws_lambda_powertools.metrics import MetricUnit

    from contracts import (
        ImportCheckDue,
        ParsedEvent,
        ScheduledEvent,
        SegmentQuerySucceeded,
        utc_now,
    )
    from services.common.function import LambdaFunction, Routes, route
    from services.common.observability import logger, metrics
    from services.importer.bootstrap import Importer, bootstrap
    from services.importer.logic import follow_run, import_result, poll_imports, refusal


def on_result(importer: Importer, parsed: ParsedEvent[SegmentQuerySucceeded]) -> None:
    detail = parsed.detail
    reason = refusal(detail, importer.ports, importer.placement)
    if reason is not None:
        logger.warning(
            "result refused: the runner did not produce it",
            extra={"run_id": detail.data.run_id, "reason": reason},
        )
        metrics.add_metric(name="ResultsRefused", unit=MetricUnit.Count, value=1)
        return
    step = import_result(detail, importer.ports, importer.placement, utc_now())
    # Counts and codes only: rows and their values never reach the log.
    logger.info("import step", extra={"run_id": detail.data.run_id, "step": step.value})


def on_schedule(importer: Importer, parsed: ParsedEvent[ScheduledEvent]) -> None:
    # The runs' claims and deadlines were stamped with this function's clock, so the poll
    # judges them by the same clock (not the envelope's time: a poll retried or delivered
    # late reads the jobs now).
    report = poll_imports(utc_now(), importer.ports, importer.placement)
    if report.ended:
        logger.info(
            "imports ended",
            extra={"ended": {run: result.value for run, result in report.ended.items()}},
        )
        metrics.add_metric(name="ImportsEnded", unit=MetricUnit.Count, value=len(report.ended))
    if report.unreadable:
        logger.warning("import jobs not readable this time", extra={"runs": report.unreadable})
    if report.not_started:
        logger.warning("runs not started this time", extra={"errors": report.not_started})


def on_check(importer: Importer, parsed: ParsedEvent[ImportCheckDue]) -> None:
    # The importer's own follow-up of one running job (sent to its queue with a delay).
    report = follow_run(parsed.detail, utc_now(), importer.ports, importer.placement)
    if report.ended:
        logger.info(
            "import ended",
            extra={"ended": {run: result.value for run, result in report.ended.items()}},
        )
        metrics.add_metric(name="ImportsEnded", unit=MetricUnit.Count, value=len(report.ended))


ROUTES = Routes(
    route(SegmentQuerySucceeded, on_result),
    route(ScheduledEvent, on_schedule),
    route(ImportCheckDue, on_check),
)
lambda_handler = LambdaFunction(bootstrap, ROUTES)
