"""notifier: one SNS message per ended run, never two for the same event."""

from __future__ import annotations

from services.common.init_phase import init_phase

with init_phase():  # the handler's imports are its cold start
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyPersistenceLayerError,
    )

    from contracts import Event, ParsedEvent
    from services.common.function import LambdaFunction, Route, Routes
    from services.common.observability import logger, metrics
    from services.notifier.bootstrap import Notifier, bootstrap
    from services.notifier.logic import TERMINAL_EVENTS


def on_ended(notifier: Notifier, parsed: ParsedEvent[Event]) -> None:
    event = parsed.detail
    try:
        notifier.send_once(
            ended={
                "event_id": event.event_id,
                "detail_type": event.DETAIL_TYPE,
                "event": event.model_dump(mode="json"),
            }
        )
    except IdempotencyPersistenceLayerError:
        # SNS took the message but its "sent" record could not be saved. Failing the record
        # would have SQS bring it back once the in-progress mark expires and send it again.
        if event.event_id not in notifier.sent_now:
            raise
        metrics.add_metric(name="NotificationRecordsNotSaved", unit=MetricUnit.Count, value=1)
        logger.warning("run notified, but its idempotency record was not saved")
    finally:
        notifier.sent_now.discard(event.event_id)


ROUTES = Routes(
    *(Route[Notifier](model, on_ended) for model in TERMINAL_EVENTS),
    per_batch=lambda notifier, context: notifier.for_batch(context),
)
lambda_handler = LambdaFunction(bootstrap, ROUTES)
