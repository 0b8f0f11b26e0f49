"""query-validator's composition root: settings in, the service's ports out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.common.clients import AwsClients
from services.common.function import given
from services.common.publisher import EventPublisher
from services.query_validator.logic import Deployment, Outcome
from services.query_validator.settings import Settings

Publish = Callable[[Sequence[Outcome]], object]


@dataclass(frozen=True)
class QueryValidator:
    deployment: Deployment
    publish: Publish


def bootstrap(
    settings: Settings | None = None,
    *,
    aws: AwsClients | None = None,
    publish: Publish | None = None,
) -> QueryValidator:
    settings = settings or Settings.from_environment()
    aws = aws or AwsClients()
    return QueryValidator(
        deployment=settings.deployment(),
        publish=given(publish, lambda: EventPublisher(settings.event_bus_name, aws.events).publish),
    )
