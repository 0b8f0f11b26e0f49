"""importer logic: outcomes, one job per run whatever is redelivered, the poller's endings."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts import (
    REGISTRY,
    EndpointImportCompleted,
    EndpointImportFailed,
    EndpointImportStarted,
    ImportCounts,
    ImportOutcome,
    SegmentQuerySucceeded,
)
from contracts.examples import APP_ID, RUN_ID, example_event
from infra.local.athena.csv_format import csv_line
from services.common.run_ledger import RunStatus
from services.importer import logic
from services.importer.logic import (
    CLAIM_LEASE,
    ImportInProgressError,
    ImportPlacement,
    Ports,
    Step,
    import_result,
    poll_imports,
)

from .fakes import CrashError, FakeFiles, FakeLedger, FakePinpoint, Published

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
PLACEMENT = ImportPlacement(
    results_bucket="results",
    role_arn="arn:aws:iam::123456789012:role/pinpoint-import",
    timeout=timedelta(hours=1),
    max_jobs_per_poll=25,
)
IMPORT_FILE = f"s3://results/imports/{RUN_ID}/endpoints.csv"
HEADER = ["Id", "Attributes.tier", "Metrics.score"]
Row = list[str | None]
GOOD_ROWS: list[Row] = [["e1", "gold", "9.5"], ["e2", "silver", None], ["e3", None, "1"]]


def result_csv(rows: list[Row], header: list[str] = HEADER) -> bytes:
    return (csv_line(header) + "".join(csv_line(row) for row in rows)).encode()


def succeeded(**request: Any) -> SegmentQuerySucceeded:
    raw = example_event(SegmentQuerySucceeded)
    raw["detail"]["data"]["request"] |= request
    return REGISTRY.parse_as(raw, SegmentQuerySucceeded).detail


class World:
    def __init__(self) -> None:
        self.files = FakeFiles()
        self.pinpoint = FakePinpoint()
        self.ledger = FakeLedger()
        self.published = Published()
        self.ports = Ports(self.files, self.pinpoint, self.ledger, self.published)

    def result(self, event: SegmentQuerySucceeded, body: bytes) -> None:
        self.files.objects[event.data.result_location] = body

    def run(self, event: SegmentQuerySucceeded, now: datetime = NOW) -> Step:
        return import_result(event, self.ports, PLACEMENT, now)

    def poll(self, now: datetime, placement: ImportPlacement = PLACEMENT) -> logic.PollReport:
        return poll_imports(now, self.ports, placement)

    def only_job(self) -> str:
        (job_id,) = self.pinpoint.jobs
        return job_id


@pytest.fixture
def world() -> World:
    return World()


def test_checked_rows_go_to_one_import_job_that_is_followed_to_completion(world: World) -> None:
    event = succeeded()
    world.result(event, result_csv([*GOOD_ROWS, [None, "gold", "1"], ["e4", "x", "many"]]))

    assert world.run(event) is Step.STARTED

    # Exactly the result file was read; the import file is one key under imports/<run_id>/
    assert world.files.reads == [event.data.result_location]
    written = world.files.objects[IMPORT_FILE].decode()
    assert written.splitlines()[0] == "Id,Attributes.tier,Metrics.score"
    assert len(written.splitlines()) == 1 + 3
    job_id = world.only_job()
    app, spec = world.pinpoint.specs[job_id]
    assert app == APP_ID
    assert spec.s3_url == IMPORT_FILE
    assert spec.role_arn == PLACEMENT.role_arn
    assert spec.segment_name == "Clicked in the last 30 days"
    assert spec.segment_id is None

    (started,) = world.published
    assert isinstance(started, EndpointImportStarted)
    assert started.data.import_job_id == job_id
    assert started.data.import_file == IMPORT_FILE
    assert started.data.counts == ImportCounts(
        rows_read=5,
        rows_rejected=2,
        rows_to_import=3,
        rows_in_result=5,
        rows_sent=3,
        rows_unchanged=0,
        rows_cleared=0,
    )
    assert [(r.row_number, r.code, r.column) for r in started.data.rejection_sample] == [
        (4, "MISSING_ID", "Id"),
        (5, "NOT_A_NUMBER", "Metrics.score"),
    ]
    assert started.metadata.correlation_id == RUN_ID
    assert started.metadata.causation_id == event.metadata.event_id

    assert world.poll(NOW + timedelta(minutes=1)).waiting == [RUN_ID]
    segment_id = "ab" * 16
    world.pinpoint.finish(job_id, "COMPLETED", total_processed=3, segment_id=segment_id)
    report = world.poll(NOW + timedelta(minutes=2))
    assert report.ended == {RUN_ID: RunStatus.COMPLETE}
    assert world.poll(NOW + timedelta(minutes=3)).ended == {}

    completed = world.published[-1]
    assert isinstance(completed, EndpointImportCompleted)
    assert len(world.published) == 2
    data = completed.data
    assert data.outcome is ImportOutcome.COMPLETE
    assert (data.import_job_id, data.endpoints_imported, data.pinpoint_failures) == (job_id, 3, 0)
    assert data.segment_id == segment_id
    assert data.counts == started.data.counts
    assert data.rejection_sample == started.data.rejection_sample
    assert completed.metadata.causation_id == event.metadata.event_id
    assert completed.metadata.occurred_at == NOW + timedelta(minutes=2)
    record = world.ledger.get(RUN_ID)
    assert record is not None
    assert (record.status, record.result) == (RunStatus.COMPLETE, RunStatus.COMPLETE)


def test_a_job_with_failures_is_partial_with_a_sample_of_them(world: World) -> None:
    event = succeeded()
    world.result(event, result_csv(GOOD_ROWS))
    world.run(event)
    failures = tuple(f"row {n}: {'x' * 2000}" for n in range(30))
    world.pinpoint.finish(
        world.only_job(), "COMPLETED", total_processed=3, total_failures=1, failures=failures
    )

    world.poll(NOW + timedelta(minutes=5))

    completed = world.published[-1]
    assert isinstance(completed, EndpointImportCompleted)
    assert completed.data.outcome is ImportOutcome.PARTIAL
    assert (completed.data.endpoints_imported, completed.data.pinpoint_failures) == (2, 1)
    assert len(completed.data.pinpoint_failure_sample) == 20
    assert all(len(text) == 1024 for text in completed.data.pinpoint_failure_sample)


def test_a_failed_job_fails_the_run_with_its_failures(world: World) -> None:
    event = succeeded()
    world.result(event, result_csv(GOOD_ROWS))
    world.run(event)
    job_id = world.only_job()
    world.pinpoint.finish(job_id, "FAILED", failures=("No CSV files found",))

    assert world.poll(NOW + timedelta(minutes=5)).ended == {RUN_ID: RunStatus.FAILED}

    failed = world.published[-1]
    assert isinstance(failed, EndpointImportFailed)
    assert failed.data.import_job_id == job_id
    assert failed.data.pinpoint_failure_sample == ["No CSV files found"]
    assert failed.data.counts.rows_to_import == 3
    assert job_id in failed.data.reason


def test_a_job_past_its_deadline_fails_the_run_once(world: World) -> None:
    event = succeeded()
    world.result(event, result_csv(GOOD_ROWS))
    world.run(event)
    world.pinpoint.finish(world.only_job(), "PROCESSING")

    assert world.poll(NOW + timedelta(minutes=59)).ended == {}
    assert world.poll(NOW + timedelta(minutes=60)).ended == {RUN_ID: RunStatus.TIMED_OUT}
    assert world.poll(NOW + timedelta(minutes=61)).ended == {}

    failed = world.published[-1]
    assert isinstance(failed, EndpointImportFailed)
    assert "did not finish within 3600 seconds" in failed.data.reason
    assert "PROCESSING" in failed.data.reason
    assert len(world.published) == 2
    assert world.ledger.runs[RUN_ID].status is RunStatus.TIMED_OUT


def test_a_job_that_cannot_be_read_waits_until_the_deadline(world: World) -> None:
    event = succeeded()
    world.result(event, result_csv(GOOD_ROWS))
    world.run(event)
    world.pinpoint.unreadable = True

    early = world.poll(NOW + timedelta(minutes=5))
    late = world.poll(NOW + timedelta(hours=2))

    assert (early.unreadable, early.ended) == ([RUN_ID], {})
    assert late.ended == {RUN_ID: RunStatus.TIMED_OUT}
    assert "TooManyRequestsException" in world.published[-1].data.reason


def test_a_job_that_disappeared_fails_the_run(world: World) -> None:
    event = succeeded()
    world.result(event, result_csv(GOOD_ROWS))
    world.run(event)
    world.pinpoint.jobs.clear()

    assert world.poll(NOW + timedelta(minutes=1)).ended == {RUN_ID: RunStatus.FAILED}
    assert "no longer exists" in world.published[-1].data.reason


def test_a_dry_run_reports_the_checks_and_imports_nothing(world: World) -> None:
    event = succeeded(dry_run=True)
    world.result(event, result_csv([*GOOD_ROWS, ["", "gold", "1"]]))

    assert world.run(event) is Step.ENDED
    assert world.run(event) is Step.DUPLICATE

    assert world.pinpoint.jobs == {}
    assert IMPORT_FILE not in world.files.objects
    (completed,) = world.published
    assert isinstance(completed, EndpointImportCompleted)
    assert completed.data.outcome is ImportOutcome.DRY_RUN
    assert completed.data.import_job_id is None
    assert completed.data.counts == ImportCounts(
        rows_read=4,
        rows_rejected=1,
        rows_to_import=3,
        rows_in_result=4,
        rows_sent=3,
        rows_unchanged=0,
        rows_cleared=0,
    )
    assert [r.code for r in completed.data.rejection_sample] == ["MISSING_ID"]
    assert world.ledger.runs[RUN_ID].status is RunStatus.DRY_RUN


def test_no_valid_rows_means_nothing_to_import_and_no_job(world: World) -> None:
    event = succeeded()
    bad: list[Row] = [[None, "gold", "1"]] * 25
    world.result(event, result_csv(bad))

    assert world.run(event) is Step.ENDED

    assert world.pinpoint.jobs == {}
    (completed,) = world.published
    assert isinstance(completed, EndpointImportCompleted)
    assert completed.data.outcome is ImportOutcome.NOTHING_TO_IMPORT
    assert completed.data.counts == ImportCounts(
        rows_read=25,
        rows_rejected=25,
        rows_to_import=0,
        rows_in_result=25,
        rows_sent=0,
        rows_unchanged=0,
        rows_cleared=0,
    )
    assert len(completed.data.rejection_sample) == 20
    assert [r.row_number for r in completed.data.rejection_sample] == list(range(1, 21))
    assert world.ledger.runs[RUN_ID].status is RunStatus.NOTHING_TO_IMPORT


def test_an_empty_result_is_nothing_to_import(world: World) -> None:
    event = succeeded()
    world.result(event, result_csv([]))

    assert world.run(event) is Step.ENDED
    assert world.published[0].data.counts == ImportCounts(
        rows_in_result=0, rows_sent=0, rows_unchanged=0, rows_cleared=0
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "cannot be read (NoSuchKey)"),
        (result_csv([["gold"]], header=["Attributes.tier"]), "no Id column"),
        (result_csv([["e1", "x"]], header=["Id", "Nickname"]), "'Nickname'"),
        (b"", "no header row"),
        (b'"I\xffd"\n"e1"\n', "not UTF-8"),
    ],
)
def test_a_result_that_cannot_be_imported_fails_the_run(
    world: World, body: bytes | None, reason: str
) -> None:
    event = succeeded()
    if body is not None:
        world.result(event, body)

    assert world.run(event) is Step.ENDED
    assert world.run(event) is Step.DUPLICATE

    (failed,) = world.published
    assert isinstance(failed, EndpointImportFailed)
    assert reason in failed.data.reason
    assert failed.data.import_job_id is None
    assert world.pinpoint.jobs == {}
    if body:
        assert world.files.dropped == [IMPORT_FILE]  # a half-written file is not kept


def test_an_import_file_over_pinpoints_limit_fails_the_run(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logic, "MAX_IMPORT_BYTES", 40)
    event = succeeded()
    world.result(event, result_csv(GOOD_ROWS))

    assert world.run(event) is Step.ENDED

    assert world.pinpoint.jobs == {}
    assert "a Pinpoint import job takes at most 40 bytes" in world.published[0].data.reason


def test_segment_refresh_passes_the_segment_id(world: World) -> None:
    segment_id = "cd" * 16
    event = succeeded(segment_name=None, segment_id=segment_id)
    world.result(event, result_csv(GOOD_ROWS))
    world.run(event)
    job_id = world.only_job()

    _, spec = world.pinpoint.specs[job_id]
    assert (spec.segment_name, spec.segment_id) == (None, segment_id)
    world.pinpoint.finish(job_id, "COMPLETED", total_processed=3)  # no SegmentId in the answer
    world.poll(NOW + timedelta(minutes=1))
    assert world.published[-1].data.segment_id == segment_id


def test_an_import_job_pinpoint_refuses_fails_the_run_once(world: World) -> None:
    event = succeeded(segment_name=None, segment_id="cd" * 16)
    world.result(event, result_csv(GOOD_ROWS))
    world.pinpoint.refusal = "BadRequestException: Segment cdcd is not an imported segment"

    assert world.run(event) is Step.ENDED
    assert world.run(event, NOW + timedelta(hours=1)) is Step.DUPLICATE

    (failed,) = world.published
    assert isinstance(failed, EndpointImportFailed)
    assert failed.data.reason.startswith("Pinpoint refused the import job: BadRequestException")
    assert failed.data.counts.rows_to_import == 3
    record = world.ledger.get(RUN_ID)
    assert record is not None
    assert (record.status, record.result) == (RunStatus.FAILED, RunStatus.FAILED)


def test_a_redelivered_result_never_creates_a_second_job(world: World) -> None:
    event = succeeded()
    world.result(event, result_csv(GOOD_ROWS))

    assert world.run(event) is Step.STARTED
    assert world.run(event, NOW + timedelta(hours=1)) is Step.DUPLICATE
    world.pinpoint.finish(world.only_job(), "COMPLETED", total_processed=3)
    world.poll(NOW + timedelta(minutes=1))
    assert world.run(event, NOW + timedelta(hours=2)) is Step.DUPLICATE

    assert len(world.pinpoint.jobs) == 1
    assert [type(e) for e in world.published] == [EndpointImportStarted, EndpointImportCompleted]


@pytest.mark.parametrize("crash", ["claim", "create", "publish", "mark_running"])
def test_a_delivery_that_dies_midway_is_finished_by_the_redelivery_with_one_job(
    world: World, crash: str
) -> None:
    event = succeeded()
    world.result(event, result_csv(GOOD_ROWS))
    if crash == "create":
        world.pinpoint.crash_after_create = True
    elif crash == "publish":
        world.ports = replace(world.ports, publish=_crash_once(world.published))
    else:
        world.ledger.crash_on.add(crash)

    with pytest.raises(CrashError):
        world.run(event)
    if crash != "mark_running":
        # The claim is young: it may be a delivery still at work, so the message waits.
        with pytest.raises(ImportInProgressError):
            world.run(event, NOW + timedelta(minutes=1))
    step = world.run(event, NOW + CLAIM_LEASE + timedelta(minutes=15))

    assert step is (Step.DUPLICATE if crash == "mark_running" else Step.RESUMED)
    assert len(world.pinpoint.jobs) == 1
    record = world.ledger.get(RUN_ID)
    assert record is not None
    assert (record.status, record.import_job_id) == (RunStatus.RUNNING, world.only_job())
    started = [e for e in world.published if isinstance(e, EndpointImportStarted)]
    assert started
    assert len({e.detail_json() for e in started}) == 1  # republished as it was, same id


def _crash_once(published: Published) -> Any:
    crashed: list[bool] = []

    def publish(events: Any, *, trace_header: str | None = None) -> None:
        if not crashed:
            crashed.append(True)
            raise CrashError("publishing")
        published(events, trace_header=trace_header)

    return publish


def test_a_concurrent_duplicate_waits_for_the_delivery_that_claimed_the_run(
    world: World,
) -> None:
    event = succeeded()
    world.result(event, result_csv(GOOD_ROWS))
    world.ledger.crash_on.add("claim")
    with pytest.raises(CrashError):
        world.run(event)  # the first delivery is still "at work" (claimed, no job yet)

    # A second delivery checks the rows itself, loses the claim, and is retried later.
    world.ledger.runs[RUN_ID] = replace(world.ledger.runs[RUN_ID], claimed_at=NOW)
    with pytest.raises(ImportInProgressError):
        import_result(event, world.ports, PLACEMENT, NOW + timedelta(minutes=2))
    assert world.pinpoint.jobs == {}


def test_a_duplicate_tick_reading_a_stale_index_does_not_end_the_run_twice(
    world: World,
) -> None:
    event = succeeded()
    world.result(event, result_csv(GOOD_ROWS))
    world.run(event)
    world.pinpoint.finish(world.only_job(), "COMPLETED", total_processed=3)
    before = dict(world.ledger.runs)

    world.poll(NOW + timedelta(minutes=1))
    world.ledger.stale_index = before  # the second tick still sees the run as RUNNING
    assert world.poll(NOW + timedelta(minutes=1)).ended == {}

    assert [type(e) for e in world.published] == [EndpointImportStarted, EndpointImportCompleted]


def test_an_ending_stored_but_not_published_is_published_by_a_later_tick(
    world: World,
) -> None:
    event = succeeded()
    world.result(event, result_csv(GOOD_ROWS))
    world.run(event)
    world.pinpoint.finish(world.only_job(), "COMPLETED", total_processed=3)
    world.ledger.crash_on.add("begin_ending")
    tick = NOW + timedelta(minutes=1)

    with pytest.raises(CrashError):
        world.poll(tick)
    assert world.poll(tick + timedelta(minutes=1)).ended == {}  # maybe still publishing
    report = world.poll(tick + CLAIM_LEASE)
    assert world.poll(tick + CLAIM_LEASE + timedelta(minutes=1)).ended == {}

    assert report.ended == {RUN_ID: RunStatus.COMPLETE}
    (completed,) = [e for e in world.published if isinstance(e, EndpointImportCompleted)]
    assert completed.metadata.occurred_at == tick  # the outcome as it was decided
    record = world.ledger.get(RUN_ID)
    assert record is not None
    assert record.status is RunStatus.COMPLETE


def test_each_tick_reads_at_most_the_configured_number_of_jobs(world: World) -> None:
    for n in range(3):
        event = succeeded(run_id=f"run-{n}")
        raw = event.model_dump(mode="json")
        raw["data"]["run_id"] = f"run-{n}"
        raw["data"]["result_location"] = f"s3://results/athena/run-{n}/q.csv"
        event = SegmentQuerySucceeded.model_validate(raw)
        world.result(event, result_csv(GOOD_ROWS))
        world.run(event, NOW + timedelta(minutes=n))
    small = replace(PLACEMENT, max_jobs_per_poll=2)

    report = world.poll(NOW + timedelta(minutes=5), small)

    assert report.waiting == ["run-0", "run-1"]  # earliest deadline first
    assert len(world.pinpoint.gets) == 2


def test_one_poll_ending_two_runs_publishes_each_in_the_trace_its_import_started_in(
    world: World,
) -> None:
    """The trace header travels on each run's record, not on a side channel keyed by the
    batch, so a poll that ends several runs keeps every run in its own trace."""
    traces: dict[str, str] = {}
    for run_id, trace in (("run-a", "Root=1-aaaa"), ("run-b", "Root=1-bbbb")):
        raw = example_event(SegmentQuerySucceeded)
        raw["detail"]["data"]["run_id"] = run_id
        raw["detail"]["metadata"] |= {"correlation_id": run_id, "event_id": f"event-{run_id}"}
        raw["detail"]["data"]["result_location"] = f"s3://results/athena/{run_id}.csv"
        event = REGISTRY.parse_as(raw, SegmentQuerySucceeded).detail
        world.result(event, result_csv(GOOD_ROWS))
        world.ports = replace(world.ports, trace_header=functools.partial(str, trace))
        assert world.run(event) is Step.STARTED
        traces[run_id] = trace
    world.ports = replace(world.ports, trace_header=lambda: "Root=1-the-poll")
    for job_id in world.pinpoint.jobs:
        world.pinpoint.finish(job_id, "COMPLETED", total_processed=3)

    report = world.poll(NOW + timedelta(minutes=2))

    assert report.ended == {"run-a": RunStatus.COMPLETE, "run-b": RunStatus.COMPLETE}
    for published in world.published:
        run_id = published.metadata.correlation_id
        assert world.published.trace_headers[published.event_id] == traces[run_id]


class FakeRunnerLedger:
    def __init__(self, *produced: tuple[str, str]) -> None:
        self.results = set(produced)

    def produced(self, run_id: str, query_execution_id: str) -> bool:
        return (run_id, query_execution_id) in self.results


def test_only_a_result_the_runner_produced_for_a_monitored_project_is_taken(
    world: World,
) -> None:
    event = succeeded()
    run = event.data
    placement = replace(
        PLACEMENT, results_bucket="pinpoint-lake-results", monitored_projects=(APP_ID,)
    )
    genuine = replace(world.ports, produced=FakeRunnerLedger((run.run_id, run.query_execution_id)))
    assert logic.refusal(event, genuine, placement) is None

    def with_data(**data: Any) -> SegmentQuerySucceeded:
        return event.model_copy(update={"data": run.model_copy(update=data)})

    elsewhere = with_data(result_location="s3://someone-elses-bucket/athena/x.csv")
    assert "not under s3://pinpoint-lake-results/athena/" in str(
        logic.refusal(elsewhere, genuine, placement)
    )
    climbing = with_data(result_location="s3://pinpoint-lake-results/athena/../crm/x.csv")
    assert logic.refusal(climbing, genuine, placement) is not None
    other_project = with_data(application_id="f" * 32)
    assert "not monitored" in str(logic.refusal(other_project, genuine, placement))
    never_ran = replace(world.ports, produced=FakeRunnerLedger())
    assert "runner's ledger" in str(logic.refusal(event, never_ran, placement))
