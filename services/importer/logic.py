"""importer decisions: check a run's result rows, hand them to one Pinpoint import job, and
follow that job to its end.

A SegmentQuerySucceeded starts the work; Pinpoint emits no event when an import job ends,
so a scheduled rule polls the running ones (`poll_imports`).

The ledger (one item per run) makes every step happen once:

    (none) --claim--> SUBMITTING --job created, Started published--> RUNNING
    RUNNING --the poller decides the outcome--> ENDING --outcome published--> <ended>
    SUBMITTING --Pinpoint refuses the job--> FAILED
    (none) --dry run / nothing to import / unusable result--> <ended>

where <ended> is how the run ended: COMPLETE, PARTIAL, FAILED, TIMED_OUT, DRY_RUN or
NOTHING_TO_IMPORT (the status a reader of the table sees).

- The claim is a conditional put made *before* CreateImportJob (Pinpoint has no request
  token), so a redelivered SegmentQuerySucceeded never creates a second job. If the process
  dies between the claim and recording the job id, the redelivery finds the job by its
  file (one file per run) before creating one; a claim younger than `CLAIM_LEASE` belongs
  to a delivery still at work, so the message is retried later instead.
- An outcome is stored (ENDING) before it is published and the run is marked ended after,
  both conditionally: a duplicate tick never publishes it twice, and a tick that dies in
  between leaves it for the next tick to publish (same event, same id).
- Events get stable ids from the SegmentQuerySucceeded that started the run: a run
  announces one start and one ending at most.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from contracts import (
    CompletedImport,
    EndpointImportCompleted,
    EndpointImportFailed,
    EndpointImportStarted,
    FailedImport,
    ImportCounts,
    ImportOutcome,
    RowRejection,
    SegmentQuerySucceeded,
    StartedImport,
    derived_event_id,
)
from services.common.run_ledger import Publish, RunStatus
from services.common.targets.pinpoint.imports import (
    PINPOINT_IMPORTS,
    ImportJobSpec,
    ImportJobView,
    is_resource_id,
)
from services.importer.rows import InvalidResultError, RowReport, Sink, Source, check_rows

IMPORT_FILE_NAME = "endpoints.csv"
# Longer than the function's timeout: a younger claim may belong to a delivery still at work.
CLAIM_LEASE = timedelta(minutes=15)
MAX_IMPORT_BYTES = PINPOINT_IMPORTS.limits.max_file_bytes
MAX_FAILURE_SAMPLE = 20
MAX_FAILURE_LENGTH = 1024

Ending = EndpointImportCompleted | EndpointImportFailed


class Step(StrEnum):
    """What handling one SegmentQuerySucceeded did (for the log; the run's status says how
    the run stands)."""

    STARTED = "started"  # the import job was created
    RESUMED = "resumed"  # a delivery that stopped midway was finished
    ENDED = "ended"  # the run ended without a job (dry run, nothing to import, failed)
    DUPLICATE = "duplicate"


class ResultUnreadableError(Exception):
    """The result file cannot be read (gone, or not ours to read); the message says why."""


class JobLookupError(Exception):
    """GetImportJob failed for a reason other than the job being gone."""


class ImportRefusedError(Exception):
    """Pinpoint will not take the import job however often it is asked (bad request, no such
    project or segment, not allowed). Throttling and server errors are not refusals."""


class ImportInProgressError(RuntimeError):
    """Another delivery of the same run is creating its import job; retry the message later."""


@dataclass(frozen=True)
class ImportRecord:
    run_id: str
    status: RunStatus
    cause: SegmentQuerySucceeded
    import_file: str
    deadline: datetime
    claimed_at: datetime
    counts: ImportCounts
    rejection_sample: tuple[RowRejection, ...] = ()
    import_job_id: str | None = None
    result: RunStatus | None = None  # how the run ends, decided at ENDING
    outcome: Ending | None = None  # kept from ENDING on, so it is published as decided
    trace_header: str | None = None  # the trace the run started in; its events continue it

    @property
    def application_id(self) -> str:
        return self.cause.data.application_id or ""


class ResultFiles(Protocol):
    def open_result(self, uri: str) -> AbstractContextManager[Source]:
        """The result file itself (never its prefix); raises ResultUnreadableError."""
        ...

    def create_import_file(self, uri: str) -> AbstractContextManager[Sink]:
        """A file written as it streams; dropped if the block raises."""
        ...


class PinpointImports(Protocol):
    def create(self, application_id: str, spec: ImportJobSpec) -> str:
        """The new job's id; raises ImportRefusedError when Pinpoint will not take it."""
        ...

    def find(self, application_id: str, s3_url: str) -> str | None:
        """The id of a job already importing `s3_url`, if any."""
        ...

    def get(self, application_id: str, job_id: str) -> ImportJobView | None:
        """None when the job does not exist; raises JobLookupError when it cannot be read."""
        ...


class ImportLedger(Protocol):
    def get(self, run_id: str) -> ImportRecord | None: ...

    def claim(self, record: ImportRecord) -> bool:
        """Record a SUBMITTING run unless the run is already recorded; False if it was."""
        ...

    def save_ended(self, record: ImportRecord) -> None:
        """Record a run that ended without an import job, unless it is already recorded."""
        ...

    def mark_running(self, run_id: str, import_job_id: str) -> bool:
        """SUBMITTING -> RUNNING with the job id; False if the run was not SUBMITTING."""
        ...

    def mark_refused(self, run_id: str, outcome: Ending) -> bool:
        """SUBMITTING -> FAILED with the outcome; False if the run was not SUBMITTING."""
        ...

    def begin_ending(self, run_id: str, outcome: Ending, result: RunStatus, now: datetime) -> bool:
        """RUNNING -> ENDING with the outcome; False if the run was not RUNNING."""
        ...

    def mark_ended(self, run_id: str, result: RunStatus) -> bool:
        """ENDING -> the status of `result`; False if the run was not ENDING."""
        ...

    def open_runs(self, status: RunStatus, limit: int) -> list[ImportRecord]:
        """Up to `limit` runs in `status`, earliest deadline first."""
        ...


@dataclass(frozen=True)
class Ports:
    files: ResultFiles
    pinpoint: PinpointImports
    ledger: ImportLedger
    publish: Publish
    # The X-Ray trace header of the invocation at work (None when not tracing).
    trace_header: Callable[[], str | None] = lambda: None


@dataclass(frozen=True)
class ImportPlacement:
    results_bucket: str
    role_arn: str
    timeout: timedelta
    max_jobs_per_poll: int = 25

    def import_file(self, run_id: str) -> str:
        """One file per run: Pinpoint is given this key, never a prefix."""
        return f"s3://{self.results_bucket}/imports/{run_id}/{IMPORT_FILE_NAME}"


class _CountingSink:
    """A dry run writes nothing; the copy still runs so the checks are the same."""

    def write(self, data: bytes | memoryview, /) -> int:
        return len(data)


# ---------------------------------------------------------------------------- the result


def import_result(
    event: SegmentQuerySucceeded, ports: Ports, placement: ImportPlacement, now: datetime
) -> Step:
    """Check the result rows and start their import job (once per run)."""
    run = event.data
    record = ports.ledger.get(run.run_id)
    if record is not None:
        if record.status is RunStatus.SUBMITTING:
            return _submit(record, ports, placement, now, resumed=True)
        return Step.DUPLICATE
    import_file = placement.import_file(run.run_id)
    report, ending = _check(event, ports, import_file, now)
    if ending is not None:
        return _end_early(event, ports, now, ending)
    record = ImportRecord(
        run_id=run.run_id,
        status=RunStatus.SUBMITTING,
        cause=event,
        import_file=import_file,
        deadline=now + placement.timeout,
        claimed_at=now,
        counts=report.counts,
        rejection_sample=tuple(report.sample),
        trace_header=ports.trace_header(),
    )
    if ports.ledger.claim(record):
        return _submit(record, ports, placement, now, resumed=False)
    existing = ports.ledger.get(run.run_id)  # another delivery claimed it first
    if existing is not None and existing.status is RunStatus.SUBMITTING:
        return _submit(existing, ports, placement, now, resumed=True)
    return Step.DUPLICATE


def _check(
    event: SegmentQuerySucceeded, ports: Ports, import_file: str, now: datetime
) -> tuple[RowReport, Ending | None]:
    """Check (and, unless a dry run, write) the rows; the ending if no job is needed."""
    run = event.data
    report = RowReport()
    try:
        with ports.files.open_result(run.result_location) as source:
            if run.request.dry_run:
                report = check_rows(source, _CountingSink())
            else:
                with ports.files.create_import_file(import_file) as sink:
                    report = check_rows(source, sink)
    except ResultUnreadableError as error:
        return report, _failed(event, now, str(error))
    except InvalidResultError as error:
        return report, _failed(event, now, f"the result file cannot be imported: {error}")
    counts = report.counts
    if run.request.dry_run:
        return report, _completed(event, now, ImportOutcome.DRY_RUN, counts, report.sample)
    if report.rows_to_import == 0:
        outcome = ImportOutcome.NOTHING_TO_IMPORT
        return report, _completed(event, now, outcome, counts, report.sample)
    if report.bytes_written > MAX_IMPORT_BYTES:
        reason = (
            f"the import file is {report.bytes_written} bytes; a Pinpoint import job takes "
            f"at most {MAX_IMPORT_BYTES} bytes"
        )
        return report, _failed(event, now, reason, counts)
    return report, None


def _submit(
    record: ImportRecord, ports: Ports, placement: ImportPlacement, now: datetime, *, resumed: bool
) -> Step:
    request = record.cause.data.request
    job_id = None
    if resumed:
        if now - record.claimed_at < CLAIM_LEASE:
            raise ImportInProgressError(
                f"run {record.run_id} is being submitted by another delivery; retry later"
            )
        job_id = ports.pinpoint.find(record.application_id, record.import_file)
    if job_id is None:
        spec = ImportJobSpec(
            s3_url=record.import_file,
            role_arn=placement.role_arn,
            segment_name=request.segment_name,
            segment_id=request.segment_id,
        )
        try:
            job_id = ports.pinpoint.create(record.application_id, spec)
        except ImportRefusedError as error:
            reason = f"Pinpoint refused the import job: {error}"
            failed = _failed(record.cause, now, reason, record.counts)
            ports.publish([failed], trace_header=record.trace_header)
            ports.ledger.mark_refused(record.run_id, failed)
            return Step.ENDED
    ports.publish([_started(record, job_id)], trace_header=record.trace_header)
    ports.ledger.mark_running(record.run_id, job_id)
    return Step.RESUMED if resumed else Step.STARTED


def _end_early(event: SegmentQuerySucceeded, ports: Ports, now: datetime, ending: Ending) -> Step:
    """Publish the ending of a run that needs no import job, then record it."""
    trace_header = ports.trace_header()
    ports.publish([ending], trace_header=trace_header)
    sample: tuple[RowRejection, ...] = ()
    if isinstance(ending, EndpointImportFailed):
        result = RunStatus.FAILED
    else:
        sample = tuple(ending.data.rejection_sample)
        result = RunStatus.of_outcome(ending.data.outcome)
    ports.ledger.save_ended(
        ImportRecord(
            run_id=event.data.run_id,
            status=result,
            cause=event,
            import_file="",
            deadline=now,
            claimed_at=now,
            counts=ending.data.counts,
            rejection_sample=sample,
            result=result,
            outcome=ending,
            trace_header=trace_header,
        )
    )
    return Step.ENDED


# ---------------------------------------------------------------------------- the poller


@dataclass
class PollReport:
    ended: dict[str, RunStatus] = field(default_factory=dict)  # run id -> how it ended
    waiting: list[str] = field(default_factory=list)  # still running
    unreadable: list[str] = field(default_factory=list)  # GetImportJob failed this time


def poll_imports(now: datetime, ports: Ports, placement: ImportPlacement) -> PollReport:
    """Follow the running import jobs (at most `max_jobs_per_poll`) and end the finished."""
    report = PollReport()
    limit = placement.max_jobs_per_poll
    for stale in ports.ledger.open_runs(RunStatus.ENDING, limit):
        _finish_ending(stale.run_id, now, ports, report)
    for record in ports.ledger.open_runs(RunStatus.RUNNING, limit):
        if record.import_job_id is None:
            continue  # cannot happen: RUNNING always carries the job id
        try:
            job = ports.pinpoint.get(record.application_id, record.import_job_id)
        except JobLookupError as error:
            if now < record.deadline:
                report.unreadable.append(record.run_id)
                continue
            job = ImportJobView(record.import_job_id, f"unknown ({error})")
        decided = _job_outcome(record, job, now, placement)
        if decided is None:
            report.waiting.append(record.run_id)
            continue
        ending, result = decided
        if not ports.ledger.begin_ending(record.run_id, ending, result, now):
            continue  # another tick is ending it
        ports.publish([ending], trace_header=record.trace_header)
        ports.ledger.mark_ended(record.run_id, result)
        report.ended[record.run_id] = result
    return report


def _finish_ending(run_id: str, now: datetime, ports: Ports, report: PollReport) -> None:
    """Publish an outcome a tick stored but may not have published (it stopped midway)."""
    record = ports.ledger.get(run_id)  # the index may lag: read the run itself
    if record is None or record.status is not RunStatus.ENDING or record.outcome is None:
        return
    if now - record.claimed_at < CLAIM_LEASE:
        return  # a tick is ending it right now
    ports.publish([record.outcome], trace_header=record.trace_header)
    result = record.result or RunStatus.FAILED
    if ports.ledger.mark_ended(run_id, result):
        report.ended[run_id] = result


def _job_outcome(
    record: ImportRecord, job: ImportJobView | None, now: datetime, placement: ImportPlacement
) -> tuple[Ending, RunStatus] | None:
    """How the run ends given its job, or None while it should keep waiting."""
    job_id = record.import_job_id or ""
    if job is None:
        reason = f"the Pinpoint import job {job_id} no longer exists"
        return _failed_job(record, now, reason), RunStatus.FAILED
    failures = [text[:MAX_FAILURE_LENGTH] for text in job.failures[:MAX_FAILURE_SAMPLE]]
    if job.succeeded:
        outcome = ImportOutcome.PARTIAL if job.total_failures > 0 else ImportOutcome.COMPLETE
        segment_id = _pinpoint_id(job.segment_id) or record.cause.data.request.segment_id
        completed = _completed(
            record.cause,
            now,
            outcome,
            record.counts,
            record.rejection_sample,
            import_job_id=job_id,
            endpoints_imported=job.imported,
            pinpoint_failures=job.total_failures,
            pinpoint_failure_sample=failures,
            segment_id=segment_id,
        )
        return completed, RunStatus.of_outcome(outcome)
    if job.status == "FAILED":
        reason = (
            f"the Pinpoint import job {job_id} failed "
            f"({job.total_failures} failure(s) reported; see the failure sample)"
        )
        return _failed_job(record, now, reason, failures), RunStatus.FAILED
    if now >= record.deadline:
        seconds = int(placement.timeout.total_seconds())
        reason = (
            f"the Pinpoint import job {job_id} did not finish within {seconds} seconds "
            f"(last status {job.status})"
        )
        return _failed_job(record, now, reason, failures), RunStatus.TIMED_OUT
    return None


def _pinpoint_id(value: str | None) -> str | None:
    return value if is_resource_id(value) else None


# ---------------------------------------------------------------------------- events


def _ending_id(cause: SegmentQuerySucceeded) -> str:
    # One id for whichever way the run ends: a run announces one ending at most.
    return derived_event_id(cause.metadata.event_id, "import-ended")


def _started(record: ImportRecord, job_id: str) -> EndpointImportStarted:
    cause = record.cause
    run = cause.data
    return EndpointImportStarted.new(
        StartedImport(
            run_id=run.run_id,
            request=run.request,
            application_id=run.application_id,
            import_job_id=job_id,
            import_file=record.import_file,
            counts=record.counts,
            rejection_sample=list(record.rejection_sample),
        ),
        correlation_id=run.run_id,
        causation_id=cause.metadata.event_id,
        event_id=derived_event_id(cause.metadata.event_id, EndpointImportStarted.DETAIL_TYPE),
        occurred_at=record.claimed_at,  # the same event, however often it is republished
    )


def _completed(
    cause: SegmentQuerySucceeded,
    now: datetime,
    outcome: ImportOutcome,
    counts: ImportCounts,
    sample: Sequence[RowRejection],
    *,
    import_job_id: str | None = None,
    endpoints_imported: int = 0,
    pinpoint_failures: int = 0,
    pinpoint_failure_sample: Sequence[str] = (),
    segment_id: str | None = None,
) -> EndpointImportCompleted:
    run = cause.data
    return EndpointImportCompleted.new(
        CompletedImport(
            run_id=run.run_id,
            request=run.request,
            application_id=run.application_id,
            outcome=outcome,
            import_job_id=import_job_id,
            counts=counts,
            rejection_sample=list(sample),
            endpoints_imported=endpoints_imported,
            pinpoint_failures=pinpoint_failures,
            pinpoint_failure_sample=list(pinpoint_failure_sample),
            segment_id=segment_id,
        ),
        correlation_id=run.run_id,
        causation_id=cause.metadata.event_id,
        event_id=_ending_id(cause),
        occurred_at=now,
    )


def _failed(
    cause: SegmentQuerySucceeded,
    now: datetime,
    reason: str,
    counts: ImportCounts | None = None,
    *,
    import_job_id: str | None = None,
    failures: Sequence[str] = (),
) -> EndpointImportFailed:
    run = cause.data
    return EndpointImportFailed.new(
        FailedImport(
            run_id=run.run_id,
            request=run.request,
            application_id=run.application_id,
            import_job_id=import_job_id,
            counts=counts or ImportCounts(),
            reason=reason[:4096],
            pinpoint_failure_sample=list(failures),
        ),
        correlation_id=run.run_id,
        causation_id=cause.metadata.event_id,
        event_id=_ending_id(cause),
        occurred_at=now,
    )


def _failed_job(
    record: ImportRecord, now: datetime, reason: str, failures: Sequence[str] = ()
) -> EndpointImportFailed:
    return _failed(
        record.cause,
        now,
        reason,
        record.counts,
        import_job_id=record.import_job_id,
        failures=failures,
    )
