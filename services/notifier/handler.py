"""notifier: one SNS message per ended run, never two for the same event."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyPersistenceLayerError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from contracts import Event, ParsedEvent
from services.common.batch import PartialItemFailureResponse, handle_event_batch
from services.common.clients import clients
from services.common.observability import logger, metrics, tracer
from services.notifier.adapters import SnsNotifications
from services.notifier.logic import TERMINAL_EVENTS, notification_for
from services.notifier.settings import get_settings

_events_by_type: dict[str, type[Event]] = {model.DETAIL_TYPE: model for model in TERMINAL_EVENTS}
# Event ids SNS accepted during the record being handled (see _handle).
_sent_now: set[str] = set()


@cache
def _config() -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="event_id", expires_after_seconds=get_settings().remember_seconds
    )


@cache
def _send_once() -> Callable[..., dict[str, str]]:
    """Sends a notification unless this event id was notified already (DynamoDB-backed)."""
    settings = get_settings()
    sns = SnsNotifications(clients.sns, settings.topic_arn)
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table, boto3_client=clients.dynamodb()
    )

    def send(*, ended: dict[str, Any]) -> dict[str, str]:
        event = _events_by_type[ended["detail_type"]].model_validate(ended["event"])
        notification = notification_for(event)
        message_id = sns.send(notification)
        _sent_now.add(ended["event_id"])
        metrics.add_metric(name="NotificationsSent", unit=MetricUnit.Count, value=1)
        logger.info(
            "run notification sent",
            extra={"run_id": notification.run_id, "outcome": notification.outcome},
        )
        return {"message_id": message_id}

    decorated: Callable[..., dict[str, str]] = idempotent_function(
        data_keyword_argument="ended", config=_config(), persistence_store=persistence
    )(send)
    return decorated


def _handle(parsed: ParsedEvent[BaseModel]) -> None:
    event = parsed.detail
    assert isinstance(event, Event)  # noqa: S101 - `accepts` lists only project events
    try:
        _send_once()(
            ended={
                "event_id": event.event_id,
                "detail_type": event.DETAIL_TYPE,
                "event": event.model_dump(mode="json"),
            }
        )
    except IdempotencyPersistenceLayerError:
        # SNS took the message but its "sent" record could not be saved. Failing the record
        # would have SQS bring it back once the in-progress mark expires and send it again.
        if event.event_id not in _sent_now:
            raise
        metrics.add_metric(name="NotificationRecordsNotSaved", unit=MetricUnit.Count, value=1)
        logger.warning("run notified, but its idempotency record was not saved")
    finally:
        _sent_now.discard(event.event_id)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    _config().register_lambda_context(context)
    return handle_event_batch(event, context, _handle, accepts=list(TERMINAL_EVENTS))
