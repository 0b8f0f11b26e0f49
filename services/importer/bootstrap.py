"""importer's composition root: settings in, the service's ports out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.common.clients import AwsClients
from services.common.function import given
from services.common.publisher import EventPublisher, current_trace_header
from services.common.run_ledger import Publish
from services.importer.adapters import (
    ConnectUploadJobs,
    DynamoImportLedger,
    DynamoImportSlots,
    DynamoSyncStates,
    PinpointImportJobs,
    RunnerLedger,
    S3ResultFiles,
    SqsFollowUps,
)
from services.importer.logic import (
    ConnectUploads,
    FollowUps,
    ImportLedger,
    ImportPlacement,
    ImportSlots,
    PinpointImports,
    Ports,
    ProducedResults,
    ResultFiles,
)
from services.importer.settings import Settings
from services.importer.sync import SyncStates


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
    connect: ConnectUploads | None = None,
    produced: ProducedResults | None = None,
    sync_states: SyncStates | None = None,
    slots: ImportSlots | None = None,
    follow_ups: FollowUps | None = None,
) -> Importer:
    settings = settings or Settings.from_environment()
    aws = aws or AwsClients()
    return Importer(
        ports=Ports(
            files=given(files, lambda: S3ResultFiles(aws.s3)),
            pinpoint=given(pinpoint, lambda: PinpointImportJobs(aws.pinpoint)),
            ledger=given(ledger, lambda: DynamoImportLedger(aws.dynamodb, settings.runs_table)),
            # A run's ending carries the trace the import started in (stored on its record).
            publish=given(
                publish, lambda: EventPublisher(settings.event_bus_name, aws.events).publish
            ),
            trace_header=current_trace_header,
            # Built only when the stack names a Customer Profiles domain (the target is on).
            connect=None
            if settings.connect_domain is None
            else given(connect, lambda: ConnectUploadJobs(aws.customer_profiles, aws.s3)),
            produced=_runner_ledger(settings, aws) if produced is None else produced,
            sync_states=given(
                sync_states, lambda: DynamoSyncStates(aws.dynamodb, settings.runs_table)
            ),
            # Slots live in the run table, beside the runs that hold them.
            slots=given(slots, lambda: DynamoImportSlots(aws.dynamodb, settings.runs_table)),
            follow_ups=_follow_ups(settings, aws) if follow_ups is None else follow_ups,
        ),
        placement=ImportPlacement(
            results_bucket=settings.results_bucket,
            role_arn=settings.import_role_arn,
            timeout=timedelta(seconds=settings.import_timeout_seconds),
            max_jobs_per_poll=settings.max_jobs_per_poll,
            max_concurrent_imports=settings.max_concurrent_imports,
            connect_domain=settings.connect_domain,
            profile_key=settings.connect_profile_key,
            data_expiry_days=settings.connect_data_expiry_days,
            monitored_projects=settings.monitored_project_ids,
        ),
    )


def _runner_ledger(settings: Settings, aws: AwsClients) -> ProducedResults | None:
    """The runner's ledger, when the stack names it (the template always does)."""
    if settings.query_runs_table is None:
        return None
    return RunnerLedger(aws.dynamodb, settings.query_runs_table)


def _follow_ups(settings: Settings, aws: AwsClients) -> FollowUps | None:
    """Follow-ups to the importer's own queue, when the stack names it (the template does)."""
    if settings.follow_up_queue_url is None:
        return None
    return SqsFollowUps(aws.sqs, settings.follow_up_queue_url)
