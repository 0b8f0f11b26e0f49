"""importer: runs wait for an import slot, start oldest first, and never start twice;
started jobs are followed by the importer's own delayed checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from contracts import (
    REGISTRY,
    EndpointImportCompleted,
    EndpointImportFailed,
    EndpointImportStarted,
    SegmentQuerySucceeded,
    derived_event_id,
)
from contracts.examples import example_event
from infra.local.athena.csv_format import csv_line
from services.common.run_ledger import RunStatus
from services.importer.logic import (
    CLAIM_LEASE,
    FOLLOW_UP_CHECKS,
    ImportPlacement,
    PollReport,
    Ports,
    Step,
    check_delay,
    follow_run,
    import_result,
    poll_imports,
    start_waiting,
)
from services.importer.targets import PINPOINT_SLOTS

from .fakes import (
    CrashError,
    FakeFiles,
    FakeFollowUps,
    FakeLedger,
    FakePinpoint,
    FakeSlots,
    Published,
)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
PLACEMENT = ImportPlacement(
    results_bucket="pinpoint-lake-results",
    role_arn="arn:aws:iam::123456789012:role/pinpoint-import",
    timeout=timedelta(hours=1),
    max_concurrent_imports=2,
)
ROWS = csv_line(["Id", "Attributes.tier"]) + csv_line(["e1", "gold"])


def run_event(name: str) -> SegmentQuerySucceeded:
    raw = example_event(SegmentQuerySucceeded)
    data = raw["detail"]["data"]
    data["run_id"] = data["request"]["run_id"] = raw["detail"]["metadata"]["correlation_id"] = name
    raw["detail"]["metadata"]["event_id"] = derived_event_id("test", name)
    data["result_location"] = f"s3://pinpoint-lake-results/athena/{name}/result.csv"
    return REGISTRY.parse_as(raw, SegmentQuerySucceeded).detail


class World:
    def __init__(self) -> None:
        self.files = FakeFiles()
        self.pinpoint = FakePinpoint()
        self.ledger = FakeLedger()
        self.slots = FakeSlots()
        self.published = Published()
        self.ports = Ports(self.files, self.pinpoint, self.ledger, self.published, slots=self.slots)

    def arrive(self, name: str, now: datetime = NOW) -> Step:
        event = run_event(name)
        self.files.objects[event.data.result_location] = ROWS.encode()
        return import_result(event, self.ports, PLACEMENT, now)

    def status(self, name: str) -> RunStatus:
        record = self.ledger.get(name)
        assert record is not None
        return record.status

    def job_of(self, name: str) -> str:
        record = self.ledger.get(name)
        assert record is not None
        assert record.import_job_id is not None
        return record.import_job_id

    def finish(self, name: str) -> None:
        self.pinpoint.finish(self.job_of(name), "COMPLETED", total_processed=1)

    def started(self) -> list[str]:
        return [e.data.run_id for e in self.published if isinstance(e, EndpointImportStarted)]

    def endings(self, name: str) -> list[EndpointImportCompleted | EndpointImportFailed]:
        return [
            e
            for e in self.published
            if isinstance(e, EndpointImportCompleted | EndpointImportFailed)
            and e.data.run_id == name
        ]


@pytest.fixture
def world() -> World:
    return World()


def test_a_run_without_a_free_slot_waits_and_starts_when_one_frees(world: World) -> None:
    assert [world.arrive(name) for name in ("a", "b", "c")] == [
        Step.STARTED,
        Step.STARTED,
        Step.WAITING,
    ]
    # The waiting run is recorded (its message is acknowledged), with no job and no event.
    assert world.status("c") is RunStatus.WAITING
    assert len(world.pinpoint.jobs) == 2
    assert world.started() == ["a", "b"]

    report = poll_imports(NOW + timedelta(minutes=1), world.ports, PLACEMENT)
    assert report.started == []
    assert report.queued == ["c"]

    world.finish("a")
    report = poll_imports(NOW + timedelta(minutes=2), world.ports, PLACEMENT)
    assert report.ended == {"a": RunStatus.COMPLETE}
    assert report.started == ["c"]
    assert world.status("c") is RunStatus.RUNNING
    assert world.slots.holders(PINPOINT_SLOTS) == {"b", "c"}
    assert world.slots.most_held[PINPOINT_SLOTS] == 2
    assert len(world.pinpoint.jobs) == 3


def test_waiting_runs_start_oldest_first_and_a_newcomer_queues_behind_them(world: World) -> None:
    for minute, name in enumerate(["a", "b", "old", "older"]):
        world.arrive(name, NOW + timedelta(minutes=minute))
    world.arrive("newcomer", NOW + timedelta(minutes=5))
    assert world.status("newcomer") is RunStatus.WAITING

    for name in ("a", "b"):
        world.finish(name)
    poll_imports(NOW + timedelta(minutes=6), world.ports, PLACEMENT)
    assert world.started() == ["a", "b", "old", "older"]
    assert world.status("newcomer") is RunStatus.WAITING

    # A run arriving while others wait does not take a slot that frees before they do.
    world.finish("old")
    world.arrive("latest", NOW + timedelta(minutes=7))
    poll_imports(NOW + timedelta(minutes=8), world.ports, PLACEMENT)
    assert world.started()[-1] == "newcomer"
    assert world.status("latest") is RunStatus.WAITING


def test_a_newcomer_does_not_take_a_free_slot_before_the_runs_waiting_for_it(
    world: World,
) -> None:
    world.pinpoint.full = True
    assert world.arrive("a") is Step.WAITING
    world.pinpoint.full = False  # the jobs of another stack ended; no poll since
    assert world.arrive("b") is Step.WAITING
    assert world.started() == ["a", "b"]  # started in the newcomer's delivery, oldest first


def test_a_target_full_of_jobs_the_importer_does_not_count_makes_the_run_wait(
    world: World,
) -> None:
    world.pinpoint.full = True  # 429 TooManyRequestsException, past botocore's retries
    assert world.arrive("a") is Step.WAITING
    assert world.slots.holders(PINPOINT_SLOTS) == frozenset()  # the slot went back
    assert world.published == []
    assert poll_imports(NOW + timedelta(minutes=1), world.ports, PLACEMENT).queued == ["a"]

    world.pinpoint.full = False
    assert poll_imports(NOW + timedelta(minutes=2), world.ports, PLACEMENT).started == ["a"]
    assert world.started() == ["a"]


def test_a_run_that_waits_past_its_import_timeout_fails_once_with_a_reason(
    world: World,
) -> None:
    for name in ("a", "b", "c"):
        world.arrive(name)
    late = NOW + PLACEMENT.timeout + timedelta(seconds=1)
    for _ in range(2):
        poll_imports(late, world.ports, PLACEMENT)

    (failed,) = world.endings("c")
    assert isinstance(failed, EndpointImportFailed)
    assert "no Pinpoint import job slot freed within 3600 seconds" in failed.data.reason
    assert world.status("c") is RunStatus.TIMED_OUT
    assert "c" not in world.slots.holders(PINPOINT_SLOTS)


def test_a_redelivered_result_of_a_waiting_run_starts_nothing(world: World) -> None:
    for name in ("a", "b", "c"):
        world.arrive(name)
    later = NOW + CLAIM_LEASE + timedelta(minutes=1)
    assert world.arrive("c", later) is Step.DUPLICATE
    assert world.status("c") is RunStatus.WAITING
    assert len(world.pinpoint.jobs) == 2


def test_two_pollers_never_start_a_waiting_run_twice(world: World) -> None:
    for name in ("a", "b", "c"):
        world.arrive(name)
    world.finish("a")
    world.finish("b")
    stale = dict(world.ledger.runs)  # what a second poller's index still shows: c waiting

    poll_imports(NOW + timedelta(minutes=1), world.ports, PLACEMENT)
    world.ledger.stale_index = stale
    report = start_waiting(NOW + timedelta(minutes=1), world.ports, PLACEMENT)

    assert report.started == []
    assert world.started() == ["a", "b", "c"]
    assert len(world.pinpoint.jobs) == 3


@pytest.mark.parametrize("crash", ["take_waiting", "create"])
def test_a_poller_that_fails_starting_a_waiting_run_is_finished_by_a_later_poll(
    world: World, crash: str
) -> None:
    for name in ("a", "b", "c"):
        world.arrive(name)
    world.finish("a")
    if crash == "create":
        world.pinpoint.crash_after_create = True
    else:
        world.ports = replace(world.ports, slots=_DyingSlots(world.slots))
    # The poll carries on with the other runs and reports this one; the run is left claimed.
    report = poll_imports(NOW + timedelta(minutes=1), world.ports, PLACEMENT)
    assert report.not_started == {"c": "CrashError"}
    assert world.status("c") is RunStatus.SUBMITTING  # and its message is long gone

    world.ports = replace(world.ports, slots=world.slots)
    poll_imports(NOW + timedelta(minutes=2), world.ports, PLACEMENT)
    assert world.status("c") is RunStatus.SUBMITTING  # within the claim lease: left alone
    stale = dict(world.ledger.runs)
    poll_imports(NOW + CLAIM_LEASE + timedelta(minutes=2), world.ports, PLACEMENT)
    assert world.status("c") is RunStatus.RUNNING
    world.ledger.stale_index = stale  # a second poller still sees the stopped claim
    poll_imports(NOW + CLAIM_LEASE + timedelta(minutes=2), world.ports, PLACEMENT)
    assert world.started().count("c") == 1
    assert len(world.pinpoint.jobs) == 3  # found by its file, not created again


def test_a_slot_held_by_a_run_that_ended_is_given_back(world: World) -> None:
    for name in ("a", "b", "c"):
        world.arrive(name)
    world.finish("a")
    world.ports = replace(world.ports, slots=_NoRelease(world.slots))
    poll_imports(NOW + timedelta(minutes=1), world.ports, PLACEMENT)  # dies before release
    assert world.status("a") is RunStatus.COMPLETE
    assert world.status("c") is RunStatus.WAITING

    world.ports = replace(world.ports, slots=world.slots)
    report = poll_imports(NOW + timedelta(minutes=2), world.ports, PLACEMENT)
    assert report.started == ["c"]
    assert world.slots.holders(PINPOINT_SLOTS) == {"b", "c"}


class _DyingSlots:
    """The process dies right after taking a slot for a waiting run."""

    def __init__(self, slots: FakeSlots) -> None:
        self._slots = slots

    def take(self, scope: str, run_id: str, most: int) -> bool:
        self._slots.take(scope, run_id, most)
        raise CrashError("after taking a slot")

    def release(self, scope: str, run_id: str) -> None:
        self._slots.release(scope, run_id)

    def holders(self, scope: str) -> frozenset[str]:
        return self._slots.holders(scope)


class _NoRelease(_DyingSlots):
    """Slots are never given back (the invocation stops after ending each run)."""

    def take(self, scope: str, run_id: str, most: int) -> bool:
        return self._slots.take(scope, run_id, most)

    def release(self, scope: str, run_id: str) -> None:
        return None


# ---------------------------------------------------------------------------- follow-ups


def test_the_follow_up_backs_off_from_seconds_and_ends_after_a_bounded_time() -> None:
    delays = [check_delay(check) for check in range(1, FOLLOW_UP_CHECKS + 2)]
    assert delays[:8] == [2] * 8  # seconds first
    assert delays[8:10] == [4, 4]
    steps = [d for d in delays if d is not None]
    assert steps == sorted(steps)  # never sooner than the reading before
    assert delays[-1] is None  # then only the minute poll follows the job
    assert sum(steps) < 10 * 60


def test_a_started_run_is_checked_soon_and_ended_by_its_check(world: World) -> None:
    follow_ups = FakeFollowUps()
    world.ports = replace(world.ports, follow_ups=follow_ups)
    world.arrive("a")
    ((due, delay),) = follow_ups.take()
    assert (due.data.run_id, due.data.check, delay) == ("a", 1, 2)

    # Still running: the check reads the job and asks for the next one.
    assert follow_run(due, NOW, world.ports, PLACEMENT).waiting == ["a"]
    ((second, delay),) = follow_ups.take()
    assert (second.data.check, delay) == (2, 2)

    world.finish("a")
    report = follow_run(second, NOW, world.ports, PLACEMENT)
    assert report.ended == {"a": RunStatus.COMPLETE}
    assert follow_ups.take() == []  # the run ended: no more checks
    assert len(world.endings("a")) == 1


def test_a_duplicate_or_late_check_reads_nothing_and_sends_nothing(world: World) -> None:
    follow_ups = FakeFollowUps()
    world.ports = replace(world.ports, follow_ups=follow_ups)
    world.arrive("a")
    ((first, _),) = follow_ups.take()
    follow_run(first, NOW, world.ports, PLACEMENT)
    gets = len(world.pinpoint.gets)

    # SQS delivers at least once: the same check again, and it arrives after the next one.
    assert follow_run(first, NOW, world.ports, PLACEMENT) == PollReport()
    assert follow_ups.take()[0][0].data.check == 2  # only the first delivery asked for it
    assert len(world.pinpoint.gets) == gets


def test_the_end_of_a_followed_run_starts_the_oldest_waiting_run(world: World) -> None:
    follow_ups = FakeFollowUps()
    world.ports = replace(world.ports, follow_ups=follow_ups)
    for name in ("a", "b", "c"):
        world.arrive(name)
    checks = {due.data.run_id: due for due, _ in follow_ups.take()}
    assert set(checks) == {"a", "b"}  # c waits: no job to check

    world.finish("a")
    report = follow_run(checks["a"], NOW, world.ports, PLACEMENT)
    assert report.started == ["c"]
    assert world.status("c") is RunStatus.RUNNING
    ((due, _),) = follow_ups.take()
    assert (due.data.run_id, due.data.check) == ("c", 1)
