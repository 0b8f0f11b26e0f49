"""importer's composition root: settings in, the service's ports out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.common.clients import AwsClients
from services.common.publisher import EventPublisher
from services.importer.adapters import DynamoImportLedger, PinpointImportJobs, S3ResultFiles
from services.importer.logic import (
    ImportLedger,
    ImportPlacement,
    PinpointImports,
    Ports,
    Publish,
    ResultFiles,
)
from services.importer.settings import Settings


@dataclass(frozen=True)
class Importer:
    ports: Ports
    placement: ImportPlacement


def bootstrap(
    settings: Settings | None = None,
    *,
    aws: AwsClients | None = None,
    files: ResultFiles | None = None,
    pinpoint: PinpointImports | None = None,
    ledger: ImportLedger | None = None,
    publish: Publish | None = None,
) -> Importer:
    settings = settings or Settings.from_environment()
    aws = aws or AwsClients()
    dynamo_ledger = DynamoImportLedger(aws.dynamodb, settings.runs_table)
    if publish is None:
        # A run's ending is published in the trace the import started in, not the poll's.
        publish = dynamo_ledger.traces.publishing_in_run_trace(
            EventPublisher(settings.event_bus_name, aws.events).publish
        )
    return Importer(
        ports=Ports(
            files=files or S3ResultFiles(aws.s3),
            pinpoint=pinpoint or PinpointImportJobs(aws.pinpoint),
            ledger=ledger or dynamo_ledger,
            publish=publish,
        ),
        placement=ImportPlacement(
            results_bucket=settings.results_bucket,
            role_arn=settings.import_role_arn,
            timeout=timedelta(seconds=settings.import_timeout_seconds),
            max_jobs_per_poll=settings.max_jobs_per_poll,
        ),
    )
