"""query-validator's composition root: settings in, the service's ports out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from contracts import SegmentQueryRejected
from services.common.clients import AwsClients
from services.common.function import given
from services.common.publisher import EventPublisher
from services.query_validator.adapters import DynamoRejectedRuns, RejectedRuns
from services.query_validator.logic import Deployment, Outcome
from services.query_validator.settings import Settings

Publish = Callable[[Sequence[Outcome]], object]


class _NotRecorded:
    """A deployment without the table (older templates): rejections are only published."""

    def record(self, rejected: SegmentQueryRejected, now: datetime) -> None:
        return None


@dataclass(frozen=True)
class QueryValidator:
    deployment: Deployment
    publish: Publish
    rejections: RejectedRuns


def bootstrap(
    settings: Settings | None = None,
    *,
    aws: AwsClients | None = None,
    publish: Publish | None = None,
    rejections: RejectedRuns | None = None,
) -> QueryValidator:
    settings = settings or Settings.from_environment()
    aws = aws or AwsClients()
    return QueryValidator(
        deployment=settings.deployment(),
        publish=given(publish, lambda: EventPublisher(settings.event_bus_name, aws.events).publish),
        rejections=given(rejections, lambda: _rejected_runs(settings, aws)),
    )


def _rejected_runs(settings: Settings, aws: AwsClients) -> RejectedRuns:
    table = settings.rejected_runs_table
    return DynamoRejectedRuns(aws.dynamodb, table) if table else _NotRecorded()
