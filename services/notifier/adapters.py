"""SNS behind the notifier's sending port."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from services.notifier.logic import Notification

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class SnsNotifications:
    def __init__(self, client: Callable[[], SNSClient], topic_arn: str) -> None:
        self._client = client
        self._topic_arn = topic_arn

    def send(self, notification: Notification) -> str:
        response = self._client().publish(
            TopicArn=self._topic_arn,
            Subject=notification.subject,
            Message=json.dumps(notification.body, ensure_ascii=False, default=str),
            MessageAttributes={
                name: {"DataType": "String", "StringValue": value}
                for name, value in notification.attributes.items()
            },
        )
        return response["MessageId"]
