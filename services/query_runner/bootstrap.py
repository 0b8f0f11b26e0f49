"""query-runner's composition root: settings in, the service's ports out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.common.clients import AwsClients
from services.common.publisher import EventPublisher
from services.query_runner.adapters import AthenaApi, DynamoRunLedger
from services.query_runner.logic import Athena, Ports, Publish, QueryPlacement, RunLedger
from services.query_runner.settings import Settings


@dataclass(frozen=True)
class QueryRunner:
    ports: Ports
    placement: QueryPlacement


def bootstrap(
    settings: Settings | None = None,
    *,
    aws: AwsClients | None = None,
    athena: Athena | None = None,
    ledger: RunLedger | None = None,
    publish: Publish | None = None,
) -> QueryRunner:
    settings = settings or Settings.from_environment()
    aws = aws or AwsClients()
    dynamo_ledger = DynamoRunLedger(aws.dynamodb, settings.runs_table)
    if publish is None:
        # A run's events stay in the trace the run started in, whoever ends it.
        publish = dynamo_ledger.traces.publishing_in_run_trace(
            EventPublisher(settings.event_bus_name, aws.events).publish
        )
    return QueryRunner(
        ports=Ports(
            athena=athena or AthenaApi(aws.athena), ledger=ledger or dynamo_ledger, publish=publish
        ),
        placement=QueryPlacement(
            workgroup=settings.workgroup,
            catalog=settings.catalog,
            database=settings.database,
            results_bucket=settings.results_bucket,
            timeout=timedelta(seconds=settings.query_timeout_seconds),
        ),
    )
