"""query-validator: answers every SegmentQueryRequested with Validated or Rejected.

A request that does not fit its contract (no query, a query too long, a bad run id) is
rejected like a bad query, so the requester hears why instead of the message ending in the
DLQ. Only messages that are not such a request at all go there.
"""

from __future__ import annotations

from services.common.init_phase import init_phase

with init_phase():  # the handler's imports are its cold start
    from aws_lambda_powertools.metrics import MetricUnit

    from contracts import (
        EventContractError,
        ParsedEvent,
        SegmentQueryRejected,
        SegmentQueryRequested,
        utc_now,
    )
    from services.common.function import LambdaFunction, Routes, route
    from services.common.observability import logger, metrics
    from services.query_validator.bootstrap import QueryValidator, bootstrap
    from services.query_validator.logic import Outcome, answer, answer_unreadable


def _publish(validator: QueryValidator, outcome: Outcome) -> None:
    if isinstance(outcome, SegmentQueryRejected):  # recorded before it is told
        validator.rejections.record(outcome, utc_now())
    validator.publish([outcome])
    run_id = outcome.data.run_id
    if isinstance(outcome, SegmentQueryRejected):
        codes = [reason.code for reason in outcome.data.reasons]
        logger.info("query rejected", extra={"run_id": run_id, "codes": codes})
        metrics.add_metric(name="QueriesRejected", unit=MetricUnit.Count, value=1)
    else:
        logger.info(
            "query validated",
            extra={
                "run_id": run_id,
                "application_id": outcome.data.application_id,
                "columns": outcome.data.columns,
                "tables": outcome.data.tables,
            },
        )
        metrics.add_metric(name="QueriesValidated", unit=MetricUnit.Count, value=1)


def on_request(validator: QueryValidator, parsed: ParsedEvent[SegmentQueryRequested]) -> None:
    _publish(validator, answer(parsed.detail, parsed.envelope, validator.deployment, utc_now()))


def on_unreadable(validator: QueryValidator, error: EventContractError) -> None:
    rejected = answer_unreadable(error, utc_now())
    if rejected is None:
        raise error  # not a request anyone could follow: let it reach the DLQ
    _publish(validator, rejected)


ROUTES = Routes(route(SegmentQueryRequested, on_request), on_invalid=on_unreadable)
lambda_handler = LambdaFunction(bootstrap, ROUTES)
