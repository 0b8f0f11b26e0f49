"""query-runner's composition root: settings in, the service's ports out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.common.clients import AwsClients
from services.common.function import given
from services.common.publisher import EventPublisher, current_trace_header
from services.common.run_ledger import Publish
from services.query_runner.adapters import AthenaApi, QueryRunLedger
from services.query_runner.logic import Athena, Ports, QueryPlacement, QueryRules, RunLedger
from services.query_runner.rules import ValidatorRules
from services.query_runner.settings import Settings


@dataclass(frozen=True)
class QueryRunner:
    ports: Ports
    placement: QueryPlacement
    rules: QueryRules


def bootstrap(
    settings: Settings | None = None,
    *,
    aws: AwsClients | None = None,
    athena: Athena | None = None,
    ledger: RunLedger | None = None,
    publish: Publish | None = None,
    rules: QueryRules | None = None,
) -> QueryRunner:
    settings = settings or Settings.from_environment()
    aws = aws or AwsClients()
    return QueryRunner(
        ports=Ports(
            athena=given(athena, lambda: AthenaApi(aws.athena)),
            ledger=given(ledger, lambda: QueryRunLedger(aws.dynamodb, settings.runs_table)),
            # A run's events carry the trace it started in (stored on its record).
            publish=given(
                publish, lambda: EventPublisher(settings.event_bus_name, aws.events).publish
            ),
            trace_header=current_trace_header,
        ),
        placement=QueryPlacement(
            workgroup=settings.workgroup,
            catalog=settings.catalog,
            database=settings.database,
            results_bucket=settings.results_bucket,
            timeout=timedelta(seconds=settings.query_timeout_seconds),
        ),
        rules=given(
            rules,
            lambda: ValidatorRules(settings.catalog, settings.database, settings.allowed_databases),
        ),
    )
