"""notifier's composition root: settings in, the service's ports out.

A notification is sent at most once per ended event: Powertools' idempotency utility keeps
a record per event id in DynamoDB, around the one call that sends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from contracts import Event
from services.common.clients import AwsClients
from services.common.function import given
from services.common.observability import logger, metrics
from services.notifier.adapters import SnsNotifications
from services.notifier.logic import TERMINAL_EVENTS, Notification, notification_for
from services.notifier.settings import Settings

_EVENTS_BY_TYPE: dict[str, type[Event]] = {model.DETAIL_TYPE: model for model in TERMINAL_EVENTS}


class Sender(Protocol):
    def send(self, notification: Notification) -> str:
        """The message id SNS gave the notification."""
        ...


class Notifier:
    def __init__(
        self, sender: Sender, persistence: BasePersistenceLayer, remember_seconds: int
    ) -> None:
        self._sender = sender
        self.config = IdempotencyConfig(
            event_key_jmespath="event_id", expires_after_seconds=remember_seconds
        )
        # Event ids SNS accepted during the record being handled (see handler.on_ended).
        self.sent_now: set[str] = set()
        self.send_once: Callable[..., dict[str, str]] = idempotent_function(
            data_keyword_argument="ended", config=self.config, persistence_store=persistence
        )(self._send)

    def for_batch(self, context: LambdaContext) -> Notifier:
        # Idempotency records expire with the invocation's remaining time in mind.
        self.config.register_lambda_context(context)
        return self

    def _send(self, *, ended: dict[str, Any]) -> dict[str, str]:
        event = _EVENTS_BY_TYPE[ended["detail_type"]].model_validate(ended["event"])
        notification = notification_for(event)
        message_id = self._sender.send(notification)
        self.sent_now.add(ended["event_id"])
        metrics.add_metric(name="NotificationsSent", unit=MetricUnit.Count, value=1)
        logger.info(
            "run notification sent",
            extra={"run_id": notification.run_id, "outcome": notification.outcome},
        )
        return {"message_id": message_id}


def bootstrap(
    settings: Settings | None = None,
    *,
    aws: AwsClients | None = None,
    sender: Sender | None = None,
    persistence: BasePersistenceLayer | None = None,
) -> Notifier:
    settings = settings or Settings.from_environment()
    aws = aws or AwsClients()
    return Notifier(
        sender=given(sender, lambda: SnsNotifications(aws.sns, settings.topic_arn)),
        persistence=given(
            persistence,
            lambda: DynamoDBPersistenceLayer(
                table_name=settings.idempotency_table, boto3_client=aws.dynamodb()
            ),
        ),
        remember_seconds=settings.remember_seconds,
    )
