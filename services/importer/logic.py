"""importer decisions: check a run's result rows, hand them to one import job of the run's
target, and follow that job to its end.

A SegmentQuerySucceeded starts the work; neither Pinpoint (import jobs) nor Customer
Profiles (upload jobs) emits an event when a job ends, so the importer follows each job
itself: when it starts, the importer sends its own queue an ImportCheckDue delayed by a
few seconds, reads the job when it arrives and, until the job ends, sends the next with a
longer delay (`follow_run`, `check_delay`). A scheduled rule polls every running job once
a minute as the safety net (`poll_imports`). What differs between the targets is behind
the import-target port (`services.importer.targets`), chosen per run by its `target`.

The ledger (one item per run) makes every step happen once:

    (none) --claim--> SUBMITTING --job created, Started published--> RUNNING
    SUBMITTING --no import slot free / the target is full--> WAITING
    WAITING --a slot frees (poll or another run's end), oldest first--> SUBMITTING
    WAITING --the run's import timeout passes--> ENDING --> TIMED_OUT
    RUNNING --the poller decides the outcome--> ENDING --outcome published--> <ended>
    SUBMITTING --Pinpoint refuses the job--> FAILED
    (none) --dry run / nothing to import / unusable result--> <ended>

where <ended> is how the run ended: COMPLETE, PARTIAL, FAILED, TIMED_OUT, DRY_RUN or
NOTHING_TO_IMPORT (the status a reader of the table sees).

- The claim is a conditional put made *before* CreateImportJob / CreateUploadJob (neither
  takes a request token), so a redelivered SegmentQuerySucceeded never creates a second
  job. If the process dies between the claim and recording the job id, the redelivery finds
  the job (Pinpoint: by its file; Connect: by its display name, one per run) before creating
  one, and finishes it; a claim younger than `CLAIM_LEASE` belongs to a delivery still at
  work, so the message is retried later instead.
- An outcome is stored (ENDING) before it is published and the run is marked ended after,
  both conditionally: a duplicate tick never publishes it twice, and a tick that dies in
  between leaves it for the next tick to publish (same event, same id).
- Events get stable ids from the SegmentQuerySucceeded that started the run: a run
  announces one start and one ending at most.
- A run with a `sync_key` writes only what differs from the key's last successful sync
  (`services.importer.sync`); the key's state moves to this run's snapshot when the poll
  sees the job succeed, before the ending is stored, so a crash in between re-sends.
- Import slots: a target runs only so many jobs at once (Pinpoint: 10 per account; the
  importer keeps the same number per Customer Profiles domain, which publishes none). A run
  takes a slot (`ImportSlots`, a conditional set of holders) before its job is created and
  gives it back when it ends; a run that finds none, or that the target refuses for
  capacity, is recorded WAITING and its message acknowledged, so no message is
  dead-lettered for capacity. Waiting runs start oldest first (earliest deadline) when the
  poll or the end of another run finds a slot; the move WAITING -> SUBMITTING is
  conditional, so of two pollers only one starts a run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from contracts import (
    CompletedImport,
    EndpointImportCompleted,
    EndpointImportFailed,
    EndpointImportStarted,
    EngagementTarget,
    FailedImport,
    ImportCheck,
    ImportCheckDue,
    ImportCounts,
    ImportOutcome,
    RowRejection,
    SegmentQuerySucceeded,
    StartedImport,
    derived_event_id,
)
from services.common.run_ledger import Publish, RunStatus
from services.common.targets.connect.imports import DEFAULT_PROFILE_KEY
from services.common.targets.pinpoint.imports import (
    MIRRORED_PINPOINT_SEGMENT,
    PINPOINT_IMPORTS,
    ImportJobView,
)
from services.importer.rows import (
    MAX_SAMPLE,
    InvalidResultError,
    RowReport,
    Sink,
    Source,
    check_rows,
)
from services.importer.sync import (
    DiffReport,
    SyncCollector,
    SyncPlan,
    SyncState,
    SyncStates,
    merge,
    needs_json_file,
    read_snapshot,
    row_writer,
    snapshot_uri,
    spill_directory,
    sync_scope,
)
from services.importer.targets import (
    ConnectImportTarget,
    ConnectUploads,
    ImportTarget,
    JobView,
    PinpointImports,
    PinpointImportTarget,
    SegmentRef,
    TargetBusyError,
    TargetFullError,
)

__all__ = [
    "ConnectUploads",
    "ImportTarget",
    "PinpointImports",
    "TargetBusyError",
    "TargetFullError",
    "follow_run",
    "import_result",
    "poll_imports",
]

IMPORT_FILE_NAME = "endpoints.csv"
# Longer than the function's timeout: a younger claim may belong to a delivery still at work.
CLAIM_LEASE = timedelta(minutes=15)
MAX_IMPORT_BYTES = PINPOINT_IMPORTS.limits.max_file_bytes
MAX_FAILURE_SAMPLE = 20
MAX_FAILURE_LENGTH = 1024
# A run's job is read FIRST_CHECK_SECONDS after its start, then every FIRST_CHECK_SECONDS
# for CHECKS_PER_STEP readings, the interval doubling every CHECKS_PER_STEP readings up to
# LONGEST_CHECK_SECONDS, for FOLLOW_UP_CHECKS readings in all (about eight minutes); then
# the minute poll alone follows it.
FIRST_CHECK_SECONDS = 2
CHECKS_PER_STEP = 8
LONGEST_CHECK_SECONDS = 60
FOLLOW_UP_CHECKS = 40

Ending = EndpointImportCompleted | EndpointImportFailed


class Step(StrEnum):
    """What handling one SegmentQuerySucceeded did (for the log; the run's status says how
    the run stands)."""

    STARTED = "started"  # the import job was created
    WAITING = "waiting"  # no import slot was free: the run waits for one
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
    columns: tuple[str, ...] = ()  # the result's columns (Connect: the upload's Fields)
    sync: SyncPlan | None = None  # a run with a sync key: its snapshot and the last sync

    @property
    def application_id(self) -> str:
        return self.cause.data.application_id or ""

    @property
    def target(self) -> EngagementTarget:
        return self.cause.data.target


class ResultFiles(Protocol):
    def open_result(self, uri: str) -> AbstractContextManager[Source]:
        """The result file itself (never its prefix); raises ResultUnreadableError."""
        ...

    def create_import_file(self, uri: str) -> AbstractContextManager[Sink]:
        """A file written as it streams; dropped if the block raises."""
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

    def mark_checked(self, run_id: str, check: int) -> bool:
        """Record the `check`-th reading of a RUNNING run's job; False if the run is not
        RUNNING or its last reading was not the one before (a duplicate message)."""
        ...

    def mark_waiting(self, run_id: str) -> bool:
        """SUBMITTING -> WAITING; False if the run was not SUBMITTING."""
        ...

    def take_waiting(self, run_id: str, now: datetime) -> bool:
        """WAITING -> SUBMITTING claimed at `now`; False if another took it first."""
        ...

    def reclaim(self, run_id: str, claimed_at: datetime, now: datetime) -> bool:
        """A SUBMITTING run claimed at `claimed_at` is claimed again at `now`; False if it
        moved or another delivery reclaimed it first."""
        ...

    def begin_ending(
        self,
        run_id: str,
        outcome: Ending,
        result: RunStatus,
        now: datetime,
        *,
        current: RunStatus = RunStatus.RUNNING,
    ) -> bool:
        """`current` (RUNNING, or WAITING for a run that never got a slot) -> ENDING with the
        outcome; False if the run was not in `current`."""
        ...

    def mark_ended(self, run_id: str, result: RunStatus) -> bool:
        """ENDING -> the status of `result`; False if the run was not ENDING."""
        ...

    def open_runs(self, status: RunStatus, limit: int) -> list[ImportRecord]:
        """Up to `limit` runs in `status`, earliest deadline first."""
        ...


class ImportSlots(Protocol):
    """How many jobs of a scope run at once: a run holds a slot from before its job is
    created until it ends. Both calls are idempotent per run."""

    def take(self, scope: str, run_id: str, most: int) -> bool:
        """Hold a slot of `scope` for `run_id` (True if it holds one already); False if
        `most` runs hold one."""
        ...

    def release(self, scope: str, run_id: str) -> None: ...

    def holders(self, scope: str) -> frozenset[str]: ...


class FollowUps(Protocol):
    def send(self, due: ImportCheckDue, *, delay_seconds: int, trace_header: str | None) -> None:
        """Deliver `due` to the importer's own queue `delay_seconds` from now."""
        ...


class ProducedResults(Protocol):
    def produced(self, run_id: str, query_execution_id: str) -> bool:
        """Whether the runner ended `run_id` with that execution as SUCCEEDED."""
        ...


@dataclass(frozen=True)
class Ports:
    files: ResultFiles
    pinpoint: PinpointImports
    ledger: ImportLedger
    publish: Publish
    # The X-Ray trace header of the invocation at work (None when not tracing).
    trace_header: Callable[[], str | None] = lambda: None
    connect: ConnectUploads | None = None  # None: the connect target is off
    # The runner's ledger, asked whether it produced a result (None: not asked).
    produced: ProducedResults | None = None
    # The last successful sync of each sync key (None: runs with a sync key fail).
    sync_states: SyncStates | None = None
    slots: ImportSlots | None = None  # None: no cap of the importer's own
    follow_ups: FollowUps | None = None  # None: only the minute poll follows jobs


@dataclass(frozen=True)
class ImportPlacement:
    results_bucket: str
    role_arn: str
    timeout: timedelta
    max_jobs_per_poll: int = 25
    max_concurrent_imports: int = 10  # import slots per scope (Pinpoint: its own limit)
    connect_domain: str | None = None  # the stack's Customer Profiles domain (None: off)
    profile_key: str = DEFAULT_PROFILE_KEY  # the profile field a row's Id goes to
    data_expiry_days: int | None = None  # how long uploaded profiles live (None: 14 days)
    monitored_projects: tuple[str, ...] = ()  # the Pinpoint projects runs may import into

    def import_file(self, run_id: str, file_name: str = IMPORT_FILE_NAME) -> str:
        """One file per run: the target is given this key, never a prefix."""
        return f"s3://{self.results_bucket}/imports/{run_id}/{file_name}"


def refusal(event: SegmentQuerySucceeded, ports: Ports, placement: ImportPlacement) -> str | None:
    """Why the importer will not touch this result at all, or None. The runner only ever
    reports results it produced, under the results bucket's Athena prefix, for a monitored
    project: an event that says otherwise did not come from it (defence in depth behind the
    bus policy and the producer check), so nothing is imported and nothing is announced."""
    run = event.data
    prefix = f"s3://{placement.results_bucket}/athena/"
    if not run.result_location.startswith(prefix) or "/../" in run.result_location:
        return f"the result is not under {prefix}"
    if (
        run.target is EngagementTarget.PINPOINT
        and placement.monitored_projects
        and run.application_id not in placement.monitored_projects
    ):
        return f"project {run.application_id} is not monitored by this deployment"
    if ports.produced is not None and not ports.produced.produced(
        run.run_id, run.query_execution_id
    ):
        return "the runner's ledger has no such succeeded query for this run"
    return None


def import_target(
    event: SegmentQuerySucceeded, ports: Ports, placement: ImportPlacement
) -> ImportTarget | str:
    """The run's import target, or why the importer will not import into it."""
    run = event.data
    if run.target is EngagementTarget.PINPOINT:
        return PinpointImportTarget(ports.pinpoint, placement.role_arn)
    if ports.connect is None or placement.connect_domain is None:
        return "the connect target is off in this deployment (no Customer Profiles domain)"
    if run.domain_name != placement.connect_domain:
        return (
            f"domain {run.domain_name} is not the deployment's Customer Profiles domain "
            f"({placement.connect_domain})"
        )
    return ConnectImportTarget.for_profile_key(
        ports.connect, placement.profile_key, placement.data_expiry_days
    )


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
    target = import_target(event, ports, placement)
    record = ports.ledger.get(run.run_id)
    if isinstance(target, str):  # a target this deployment does not import into
        refused = _failed(event, now, target)
        return Step.DUPLICATE if record is not None else _end_early(event, ports, now, refused)
    if record is not None:
        resumable = record.status is RunStatus.SUBMITTING
        if not resumable:
            return Step.DUPLICATE
        return _submit(record, ports, target, placement, now, resumed=True)
    return _claim(event, ports, target, placement, now)


@dataclass(frozen=True)
class _Checked:
    """What checking (and writing) a result found, before the run is claimed."""

    import_file: str
    counts: ImportCounts
    sample: tuple[RowRejection, ...]
    columns: tuple[str, ...]
    ending: Ending | None  # the run's ending when it needs no job
    sync: SyncPlan | None = None


def _claim(
    event: SegmentQuerySucceeded,
    ports: Ports,
    target: ImportTarget,
    placement: ImportPlacement,
    now: datetime,
) -> Step:
    """Check and write the rows, claim the run, then submit its job."""
    run = event.data
    scope = sync_scope(run)
    if scope is None:
        import_file = placement.import_file(run.run_id, target.file_name)
        report, ending = _check(event, ports, target, import_file, now)
        checked = _Checked(import_file, report.counts, tuple(report.sample), report.columns, ending)
    else:
        checked = _check_sync(event, ports, target, placement, scope=scope, now=now)
    if checked.ending is not None:
        return _end_early(event, ports, now, checked.ending, sync=checked.sync)
    record = ImportRecord(
        run_id=run.run_id,
        status=RunStatus.SUBMITTING,
        cause=event,
        import_file=checked.import_file,
        deadline=now + placement.timeout,
        claimed_at=now,
        counts=checked.counts,
        rejection_sample=checked.sample,
        trace_header=ports.trace_header(),
        columns=checked.columns,
        sync=checked.sync,
    )
    if ports.ledger.claim(record):
        return _submit(record, ports, target, placement, now, resumed=False)
    existing = ports.ledger.get(run.run_id)  # another delivery claimed it first
    if existing is not None and existing.status is RunStatus.SUBMITTING:
        return _submit(existing, ports, target, placement, now, resumed=True)
    return Step.DUPLICATE


def _check(
    event: SegmentQuerySucceeded,
    ports: Ports,
    target: ImportTarget,
    import_file: str,
    now: datetime,
) -> tuple[RowReport, Ending | None]:
    """Check (and, unless a dry run, write) the rows; the ending if no job is needed."""
    run = event.data
    report = RowReport()
    vocabulary = target.vocabulary
    try:
        with ports.files.open_result(run.result_location) as source:
            if run.request.dry_run:
                report = check_rows(source, _CountingSink(), vocabulary=vocabulary)
            else:
                with ports.files.create_import_file(import_file) as sink:
                    shaped = target.shaped(sink, _shaping(event, import_file))
                    report = check_rows(source, shaped, vocabulary=vocabulary)
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
    most = min(MAX_IMPORT_BYTES, vocabulary.limits.max_file_bytes)
    if report.bytes_written > most:
        reason = (
            f"the import file is {report.bytes_written} bytes; a {vocabulary.target} "
            f"{target.job_label} takes at most {most} bytes"
        )
        return report, _failed(event, now, reason, counts)
    return report, None


class _Unchanged(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside the file writers to drop the files of a sync with nothing to send."""

    def __init__(self, diff: DiffReport) -> None:
        super().__init__("nothing changed since the last sync")
        self.diff = diff


def _check_sync(
    event: SegmentQuerySucceeded,
    ports: Ports,
    target: ImportTarget,
    placement: ImportPlacement,
    *,
    scope: str,
    now: datetime,
) -> _Checked:
    """Check the rows, sort them, and write what differs from the key's last successful
    sync to the import file, and every member to this run's snapshot
    (`services.importer.sync`). Nothing changed: no file and no job."""
    run = event.data
    vocabulary = target.vocabulary
    json_file = needs_json_file(vocabulary, mirror=run.request.mirror)
    import_file = placement.import_file(run.run_id, target.file_name_for(json_file=json_file))
    snapshot = snapshot_uri(placement.results_bucket, scope, run.run_id)
    report, diff, failed = RowReport(), DiffReport(), None
    previous = None if ports.sync_states is None else ports.sync_states.last(scope)
    refreshes = run.request.segment_name is not None or run.request.segment_id is not None
    if ports.sync_states is None:
        failed = "this deployment keeps no sync state, so a sync_key cannot be honoured"
    elif json_file and refreshes and vocabulary.segment_is_the_import:
        failed = MIRRORED_PINPOINT_SEGMENT  # the validator refuses it; a check in depth
    else:
        try:
            report, diff = _write_sync(
                event,
                ports,
                target,
                (import_file, snapshot),
                json_file=json_file,
                previous=previous,
            )
        except ResultUnreadableError as error:
            failed = str(error)
        except InvalidResultError as error:
            failed = f"the result file cannot be imported: {error}"
    counts = ImportCounts(
        rows_read=report.rows_read,
        rows_rejected=report.rows_rejected + diff.duplicates_rejected,
        rows_to_import=diff.lines,
        rows_in_result=report.rows_read,
        rows_sent=diff.rows_sent,
        rows_unchanged=diff.rows_unchanged,
        rows_cleared=diff.rows_cleared,
    )
    rejected = sorted([*report.sample, *diff.sample], key=lambda r: r.row_number)
    sample = tuple(rejected[:MAX_SAMPLE])
    plan = SyncPlan(scope, snapshot, tuple(sorted(report.columns)), previous)
    ending: Ending | None = None
    most = min(MAX_IMPORT_BYTES, vocabulary.limits.max_file_bytes)
    if failed is not None:
        ending = _failed(event, now, failed, counts)
    elif run.request.dry_run:
        ending = _completed(event, now, ImportOutcome.DRY_RUN, counts, sample)
    elif diff.changes == 0:
        ending = _completed(event, now, ImportOutcome.NOTHING_TO_IMPORT, counts, sample)
    elif diff.bytes_written > most:
        reason = (
            f"the import file is {diff.bytes_written} bytes; a {vocabulary.target} "
            f"{target.job_label} takes at most {most} bytes"
        )
        ending = _failed(event, now, reason, counts)
    return _Checked(import_file, counts, sample, report.columns, ending, plan)


def _write_sync(
    event: SegmentQuerySucceeded,
    ports: Ports,
    target: ImportTarget,
    files: tuple[str, str],
    *,
    json_file: bool,
    previous: SyncState | None,
) -> tuple[RowReport, DiffReport]:
    """The checks, the sort and the merge; the files are dropped when nothing changed."""
    request = event.data.request
    vocabulary = target.vocabulary
    import_file, snapshot = files
    try:
        with ExitStack() as stack:
            collector = SyncCollector(vocabulary, spill_directory(stack))
            with ports.files.open_result(event.data.result_location) as source:
                report = check_rows(
                    source, collector, vocabulary=vocabulary, on_rejected=collector.rejected
                )
            compared = previous
            if previous is None or previous.columns != tuple(sorted(report.columns)):
                compared = None  # a full sync: the columns changed
            last = _previous_members(ports, compared, stack)
            if last is None:
                compared, last = None, iter(())  # the snapshot is gone: a full sync
            sink: Sink = _CountingSink()
            snapshot_sink: Sink = _CountingSink()
            if not request.dry_run:
                sink = stack.enter_context(ports.files.create_import_file(import_file))
                snapshot_sink = stack.enter_context(ports.files.create_import_file(snapshot))
            marker = target.sync_marker(request)
            writer = row_writer(vocabulary, sink, collector, json_file=json_file, marker=marker)
            refreshes = request.segment_name is not None or request.segment_id is not None
            diff = merge(
                collector.sorter.sorted(stack),
                last,
                writer,
                snapshot_sink,
                mirror=request.mirror and compared is not None,
                list_members=vocabulary.segment_is_the_import and refreshes,
                sample_room=max(MAX_SAMPLE - len(report.sample), 0),
            )
            diff.bytes_written = writer.bytes_written
            if diff.changes == 0 and not request.dry_run:
                raise _Unchanged(diff)
    except _Unchanged as unchanged:
        return report, unchanged.diff
    return report, diff


def _previous_members(
    ports: Ports, compared: SyncState | None, stack: ExitStack
) -> Iterator[tuple[bytes, bytes]] | None:
    """The members of the last sync, in key order; None when its snapshot is gone."""
    if compared is None:
        return iter(())
    try:
        source = stack.enter_context(ports.files.open_result(compared.snapshot))
    except ResultUnreadableError:
        return None
    return read_snapshot(source)


def _shaping(event: SegmentQuerySucceeded, import_file: str) -> ImportRecord:
    """What shaping the file may read of the run before it is claimed."""
    at = event.metadata.occurred_at
    return ImportRecord(
        run_id=event.data.run_id,
        status=RunStatus.SUBMITTING,
        cause=event,
        import_file=import_file,
        deadline=at,
        claimed_at=at,
        counts=ImportCounts(),
    )


def _submit(
    record: ImportRecord,
    ports: Ports,
    target: ImportTarget,
    placement: ImportPlacement,
    now: datetime,
    *,
    resumed: bool,
) -> Step:
    """A delivery's part: a new claim, or one a stopped delivery left SUBMITTING."""
    if resumed:
        if now - record.claimed_at < CLAIM_LEASE:
            raise ImportInProgressError(
                f"run {record.run_id} is being submitted by another delivery; retry later"
            )
        if not ports.ledger.reclaim(record.run_id, record.claimed_at, now):
            return Step.DUPLICATE  # a poller or another delivery took it over
    elif ports.slots is not None and ports.ledger.open_runs(RunStatus.WAITING, 1):
        # Runs are waiting for slots: this one queues behind them (oldest first).
        _wait(record, ports)
        start_waiting(now, ports, placement)
        return Step.WAITING
    return _start(record, ports, target, placement, now, resumed=resumed)


def _start(
    record: ImportRecord,
    ports: Ports,
    target: ImportTarget,
    placement: ImportPlacement,
    now: datetime,
    *,
    resumed: bool,
) -> Step:
    """Take a slot and create the job of a run this invocation holds SUBMITTING."""
    scope = target.slot_scope(record)
    most = placement.max_concurrent_imports
    if ports.slots is not None and not ports.slots.take(scope, record.run_id, most):
        return _wait(record, ports)
    try:
        job_id = target.submit(record, resumed=resumed)
    except TargetFullError:
        # Jobs this importer does not count (another stack, the console) fill the target.
        _release(ports, scope, record.run_id)
        return _wait(record, ports)
    except ImportRefusedError as error:
        reason = f"{target.vocabulary.target} refused the {target.job_label}: {error}"
        failed = _failed(record.cause, now, reason, record.counts)
        ports.publish([failed], trace_header=record.trace_header)
        ports.ledger.mark_refused(record.run_id, failed)
        _release(ports, scope, record.run_id)
        return Step.ENDED
    ports.publish([_started(record, job_id)], trace_header=record.trace_header)
    if ports.ledger.mark_running(record.run_id, job_id):
        _check_later(record, 1, ports, now)
    return Step.RESUMED if resumed else Step.STARTED


def _wait(record: ImportRecord, ports: Ports) -> Step:
    """Park a SUBMITTING run until a slot frees; its message is acknowledged."""
    ports.ledger.mark_waiting(record.run_id)
    return Step.WAITING


def _release(ports: Ports, scope: str, run_id: str) -> None:
    if ports.slots is not None:
        ports.slots.release(scope, run_id)


def _end_early(
    event: SegmentQuerySucceeded,
    ports: Ports,
    now: datetime,
    ending: Ending,
    *,
    sync: SyncPlan | None = None,
) -> Step:
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
            sync=sync,
        )
    )
    return Step.ENDED


# ---------------------------------------------------------------------------- the poller


@dataclass
class PollReport:
    ended: dict[str, RunStatus] = field(default_factory=dict)  # run id -> how it ended
    waiting: list[str] = field(default_factory=list)  # still running
    unreadable: list[str] = field(default_factory=list)  # GetImportJob failed this time
    started: list[str] = field(default_factory=list)  # waiting runs that got a slot
    queued: list[str] = field(default_factory=list)  # runs still waiting for a slot
    # Runs a poll could not start this time (run id -> the error's type); tried again later.
    not_started: dict[str, str] = field(default_factory=dict)


def poll_imports(now: datetime, ports: Ports, placement: ImportPlacement) -> PollReport:
    """Follow the running import jobs (at most `max_jobs_per_poll`), end the finished, and
    start waiting runs in the slots that freed."""
    report = PollReport()
    limit = placement.max_jobs_per_poll
    for stale in ports.ledger.open_runs(RunStatus.ENDING, limit):
        _finish_ending(stale.run_id, now, ports, placement, report)
    for record in ports.ledger.open_runs(RunStatus.RUNNING, limit):
        _follow_running(record, now, ports, placement, report)
    for stopped in ports.ledger.open_runs(RunStatus.SUBMITTING, limit):
        _resume_stopped(stopped, now, ports, placement, report)
    start_waiting(now, ports, placement, report)
    return report


def _follow_running(
    record: ImportRecord,
    now: datetime,
    ports: Ports,
    placement: ImportPlacement,
    report: PollReport,
) -> None:
    """Read one running run's job and end the run if the job ended."""
    if record.import_job_id is None:
        return  # cannot happen: RUNNING always carries the job id
    target = import_target(record.cause, ports, placement)
    if isinstance(target, str):
        decided: tuple[Ending, RunStatus] | None = (
            _failed_job(record, now, target),
            RunStatus.FAILED,
        )
    else:
        try:
            decided = _follow(record, target, now, placement)
        except TargetBusyError:
            report.unreadable.append(record.run_id)
            return
    if decided is None:
        report.waiting.append(record.run_id)
        return
    ending, result = decided
    _end(record, ending, result, now=now, ports=ports, placement=placement, report=report)


def _end(
    record: ImportRecord,
    ending: Ending,
    result: RunStatus,
    *,
    now: datetime,
    ports: Ports,
    placement: ImportPlacement,
    report: PollReport,
) -> None:
    """Store the ending, publish it, mark the run ended and give its slot back."""
    if record.sync is not None and ports.sync_states is not None:
        _save_sync(record, ending, result, ports.sync_states)
    if not ports.ledger.begin_ending(record.run_id, ending, result, now, current=record.status):
        return  # another tick is ending it
    ports.publish([ending], trace_header=record.trace_header)
    if ports.ledger.mark_ended(record.run_id, result):
        report.ended[record.run_id] = result
    _release_slot_of(record, ports, placement)


def _release_slot_of(record: ImportRecord, ports: Ports, placement: ImportPlacement) -> None:
    target = import_target(record.cause, ports, placement)
    if not isinstance(target, str):
        _release(ports, target.slot_scope(record), record.run_id)


def _save_sync(record: ImportRecord, ending: Ending, result: RunStatus, states: SyncStates) -> None:
    """Make a succeeded run the key's last sync, before its ending is stored (a crash in
    between leaves the run RUNNING: the next tick saves it again, and a run of the key
    meanwhile compares with the older sync, so it re-sends rather than skips). A partial
    run may have lost any of its rows, so its snapshot is not trusted: the key keeps the
    last complete one (the next run re-sends what this one sent) and only learns the segment."""
    plan = record.sync
    if plan is None or result not in {RunStatus.COMPLETE, RunStatus.PARTIAL}:
        return
    segment_id = ending.data.segment_id if isinstance(ending, EndpointImportCompleted) else None
    snapshot, columns = plan.snapshot, plan.columns
    if result is RunStatus.PARTIAL:
        previous = plan.previous
        snapshot, columns = (previous.snapshot, previous.columns) if previous else ("", ())
    states.save(
        SyncState(
            scope=plan.scope,
            run_id=record.run_id,
            snapshot=snapshot,
            columns=columns,
            synced_at=record.cause.metadata.occurred_at,
            segment_id=segment_id or plan.segment_id,
        )
    )


def _finish_ending(
    run_id: str, now: datetime, ports: Ports, placement: ImportPlacement, report: PollReport
) -> None:
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
    _release_slot_of(record, ports, placement)


def _resume_stopped(
    record: ImportRecord,
    now: datetime,
    ports: Ports,
    placement: ImportPlacement,
    report: PollReport,
) -> None:
    """Finish a SUBMITTING run whose invocation stopped midway and whose message is gone
    (it was acknowledged when the run went WAITING): the same resume a redelivery does."""
    if now - record.claimed_at < CLAIM_LEASE:
        return  # an invocation is submitting it right now
    target = import_target(record.cause, ports, placement)
    if isinstance(target, str) or not ports.ledger.reclaim(record.run_id, record.claimed_at, now):
        return
    step = _start_in_poll(record, ports, target, placement, now, report=report)
    if step not in {Step.WAITING, None}:
        report.started.append(record.run_id)


def _start_in_poll(
    record: ImportRecord,
    ports: Ports,
    target: ImportTarget,
    placement: ImportPlacement,
    now: datetime,
    *,
    report: PollReport,
) -> Step | None:
    """`_start` for a run the poll (or another run's delivery) holds: one run's failure
    (the target erring past the client's retries) must not fail the message that carries
    every other run's follow-up. The run stays claimed and a later poll resumes it once its
    claim lease is over (the job, if it was made, is found then)."""
    try:
        return _start(record, ports, target, placement, now, resumed=True)
    except Exception as error:  # noqa: BLE001 - reported, and retried by a later poll
        report.not_started[record.run_id] = type(error).__name__
        return None


# ---------------------------------------------------------------------------- follow-ups


def check_delay(check: int) -> int | None:
    """Seconds from one reading of a run's job to the `check`-th; None once the follow-up
    is over (the minute poll goes on)."""
    if not 1 <= check <= FOLLOW_UP_CHECKS:
        return None
    interval: int = FIRST_CHECK_SECONDS * 2 ** ((check - 1) // CHECKS_PER_STEP)
    return min(interval, LONGEST_CHECK_SECONDS)


def _check_later(record: ImportRecord, check: int, ports: Ports, now: datetime) -> None:
    delay = check_delay(check)
    if ports.follow_ups is None or delay is None:
        return
    cause = record.cause.metadata.event_id
    due = ImportCheckDue.new(
        ImportCheck(run_id=record.run_id, check=check),
        correlation_id=record.run_id,
        causation_id=cause,
        event_id=derived_event_id(cause, ImportCheckDue.DETAIL_TYPE, str(check)),
        occurred_at=now,
    )
    ports.follow_ups.send(due, delay_seconds=delay, trace_header=record.trace_header)


def follow_run(
    due: ImportCheckDue, now: datetime, ports: Ports, placement: ImportPlacement
) -> PollReport:
    """Read one run's job when its check is due: end the run if the job ended (and start
    waiting runs in the slot it frees), else ask to be reminded later. A duplicate or late
    check, or one for a run that ended meanwhile, does nothing."""
    report = PollReport()
    run_id, check = due.data.run_id, due.data.check
    if not ports.ledger.mark_checked(run_id, check):
        return report
    record = ports.ledger.get(run_id)
    if record is None or record.status is not RunStatus.RUNNING:
        return report
    _follow_running(record, now, ports, placement, report)
    if report.ended:
        start_waiting(now, ports, placement, report)
    elif not report.waiting and not report.unreadable:
        return report  # another invocation is ending it
    else:
        _check_later(record, check + 1, ports, now)
    return report


# ---------------------------------------------------------------------------- waiting runs


def start_waiting(
    now: datetime, ports: Ports, placement: ImportPlacement, report: PollReport | None = None
) -> PollReport:
    """Start waiting runs, oldest first, while their scopes have free slots; end those whose
    import timeout passed while they waited."""
    report = report or PollReport()
    full: set[str] = set()  # scopes found without a free slot this time
    swept: set[str] = set()
    for record in ports.ledger.open_runs(RunStatus.WAITING, placement.max_jobs_per_poll):
        target = import_target(record.cause, ports, placement)
        if isinstance(target, str) or now >= record.deadline:
            ending, result = _not_started(record, target, now, placement)
            _end(record, ending, result, now=now, ports=ports, placement=placement, report=report)
            continue
        scope = target.slot_scope(record)
        if scope not in swept:
            _sweep(scope, ports)
            swept.add(scope)
        if scope in full or not ports.ledger.take_waiting(record.run_id, now):
            report.queued.append(record.run_id)
            continue  # full, or another poller is starting it
        claimed = replace(record, status=RunStatus.SUBMITTING, claimed_at=now)
        step = _start_in_poll(claimed, ports, target, placement, now, report=report)
        if step is Step.WAITING:
            full.add(scope)
            report.queued.append(record.run_id)
        elif step is not None:
            report.started.append(record.run_id)
    return report


def _sweep(scope: str, ports: Ports) -> None:
    """Give back slots held by runs that ended (an invocation stopped between the run's
    end and its release); a slot of a waiting run is its own again when it starts."""
    if ports.slots is None:
        return
    for run_id in ports.slots.holders(scope):
        holder = ports.ledger.get(run_id)
        if holder is None or holder.status.ended:
            ports.slots.release(scope, run_id)


def _not_started(
    record: ImportRecord, target: ImportTarget | str, now: datetime, placement: ImportPlacement
) -> tuple[EndpointImportFailed, RunStatus]:
    """How a waiting run ends that will not start: its target is off, or its time is up."""
    if isinstance(target, str):
        return _failed(record.cause, now, target, record.counts), RunStatus.FAILED
    seconds = int(placement.timeout.total_seconds())
    reason = (
        f"no {target.vocabulary.target} {target.job_label} slot freed within {seconds} "
        f"seconds: {placement.max_concurrent_imports} jobs were running the whole time"
    )
    return _failed(record.cause, now, reason, record.counts), RunStatus.TIMED_OUT


def _follow(
    record: ImportRecord, target: ImportTarget, now: datetime, placement: ImportPlacement
) -> tuple[Ending, RunStatus] | None:
    """Read the run's job (and, once it succeeded, its segment); how the run ends."""
    job_id = record.import_job_id or ""
    job: JobView | None
    try:
        job = target.get(record)
    except JobLookupError as error:
        if now < record.deadline:
            raise TargetBusyError(str(error)) from None
        job = ImportJobView(job_id, f"unknown ({error})")
    segment, segment_refusal = SegmentRef(), None
    if job is not None and job.succeeded:
        try:
            segment = target.segment(record, job)
        except ImportRefusedError as error:
            segment_refusal = str(error)
    return _job_outcome(
        record,
        target,
        job,
        now=now,
        placement=placement,
        segment=segment,
        segment_refusal=segment_refusal,
    )


def _job_outcome(
    record: ImportRecord,
    target: ImportTarget,
    job: JobView | None,
    *,
    now: datetime,
    placement: ImportPlacement,
    segment: SegmentRef,
    segment_refusal: str | None = None,
) -> tuple[Ending, RunStatus] | None:
    """How the run ends given its job, or None while it should keep waiting."""
    job_id = record.import_job_id or ""
    the_job = f"the {target.vocabulary.target} {target.job_label} {job_id}"
    if job is None:
        reason = f"{the_job} no longer exists"
        return _failed_job(record, now, reason), RunStatus.FAILED
    failures = tuple(text[:MAX_FAILURE_LENGTH] for text in job.failures[:MAX_FAILURE_SAMPLE])
    if job.succeeded and segment_refusal is not None:
        reason = (
            f"{the_job} succeeded, but its segment definition could not be created: "
            f"{segment_refusal}"
        )
        fields = job.failed_fields(failures)
        return _failed_job(record, now, reason, **fields), RunStatus.FAILED
    if job.succeeded:
        outcome = ImportOutcome.PARTIAL if job.partial else ImportOutcome.COMPLETE
        completed = _completed(
            record.cause,
            now,
            outcome,
            record.counts,
            record.rejection_sample,
            import_job_id=job_id,
            segment_id=segment.segment_id,
            segment_definition_name=segment.segment_definition_name,
            **job.completed_fields(failures),
        )
        return completed, RunStatus.of_outcome(outcome)
    if job.finished:
        reason = f"{the_job} failed ({job.failure_summary})"
        return _failed_job(record, now, reason, **job.failed_fields(failures)), RunStatus.FAILED
    if now >= record.deadline:
        seconds = int(placement.timeout.total_seconds())
        reason = f"{the_job} did not finish within {seconds} seconds (last status {job.status})"
        fields = job.failed_fields(failures)
        return _failed_job(record, now, reason, **fields), RunStatus.TIMED_OUT
    return None


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
            **run.where(),
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
    segment_id: str | None = None,
    **reported: Any,
) -> EndpointImportCompleted:
    """`reported`: what the target's job view says of the job (`completed_fields`)."""
    run = cause.data
    return EndpointImportCompleted.new(
        CompletedImport(
            run_id=run.run_id,
            request=run.request,
            outcome=outcome,
            import_job_id=import_job_id,
            counts=counts,
            rejection_sample=list(sample),
            segment_id=segment_id,
            **run.where(),
            **reported,
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
    **reported: Any,
) -> EndpointImportFailed:
    """`reported`: what the target's job view says of the job (`failed_fields`)."""
    run = cause.data
    return EndpointImportFailed.new(
        FailedImport(
            run_id=run.run_id,
            request=run.request,
            import_job_id=import_job_id,
            counts=counts or ImportCounts(),
            reason=reason[:4096],
            **run.where(),
            **reported,
        ),
        correlation_id=run.run_id,
        causation_id=cause.metadata.event_id,
        event_id=_ending_id(cause),
        occurred_at=now,
    )


def _failed_job(
    record: ImportRecord, now: datetime, reason: str, **reported: Any
) -> EndpointImportFailed:
    return _failed(
        record.cause, now, reason, record.counts, import_job_id=record.import_job_id, **reported
    )
