"""Incremental syncs: the diff against the key's last snapshot, and a sync key's runs end to
end through the importer's logic with fakes (state saved only after a successful import)."""

from __future__ import annotations

import io
import json
import random
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts import (
    REGISTRY,
    EndpointImportCompleted,
    ImportOutcome,
    SegmentQuerySucceeded,
)
from contracts.examples import APP_ID, example_event
from infra.local.athena.csv_format import csv_line
from services.common.run_ledger import RunStatus
from services.common.targets.connect.imports import connect_imports
from services.common.targets.imports import ImportVocabulary
from services.common.targets.pinpoint.imports import PINPOINT_IMPORTS
from services.importer.logic import ImportPlacement, Ports, Step, import_result, poll_imports
from services.importer.rows import check_rows
from services.importer.sync import (
    DiffReport,
    SyncCollector,
    merge,
    read_snapshot,
    row_writer,
    spill_directory,
)

from .fakes import CrashError, FakeFiles, FakeLedger, FakePinpoint, FakeSyncStates, Published

NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
PLACEMENT = ImportPlacement(
    results_bucket="results",
    role_arn="arn:aws:iam::123456789012:role/pinpoint-import",
    timeout=timedelta(hours=1),
)
HEADER = ["Id", "Attributes.Plan", "Metrics.Score"]
Row = list[str | None]


def result_csv(rows: list[Row], header: list[str] = HEADER) -> bytes:
    return (csv_line(header) + "".join(csv_line(row) for row in rows)).encode()


def shuffled(rows: list[Row], seed: int) -> None:
    """A result in some order of Athena's (which it never promises)."""
    random.Random(seed).shuffle(rows)  # noqa: S311 - an order, not a secret


def members(count: int, plan: str = "gold") -> list[Row]:
    return [[f"e{i:05d}", plan, str(i)] for i in range(count)]


# ---------------------------------------------------------------------------- the diff


@dataclass
class Diffed:
    import_file: str
    snapshot: bytes
    report: DiffReport
    rejected: int

    @property
    def rows(self) -> list[str]:
        return self.import_file.splitlines()[1:]


def diff(
    rows: list[Row],
    previous: bytes = b"",
    *,
    mirror: bool = False,
    header: list[str] = HEADER,
    vocabulary: ImportVocabulary = PINPOINT_IMPORTS,
    run_bytes: int = 1 << 20,
    json_file: bool = False,
    list_members: bool = False,
    marker: tuple[str, str] | None = None,
) -> Diffed:
    out, snapshot = io.BytesIO(), io.BytesIO()
    with ExitStack() as stack:
        collector = SyncCollector(vocabulary, spill_directory(stack), run_bytes=run_bytes)
        checked = check_rows(
            io.BytesIO(result_csv(rows, header)),
            collector,
            vocabulary=vocabulary,
            on_rejected=collector.rejected,
        )
        writer = row_writer(vocabulary, out, collector, json_file=json_file, marker=marker)
        report = merge(
            collector.sorter.sorted(stack),
            read_snapshot(io.BytesIO(previous)),
            writer,
            snapshot,
            mirror=mirror,
            list_members=list_members,
        )
    return Diffed(out.getvalue().decode(), snapshot.getvalue(), report, checked.rows_rejected)


def test_a_first_sync_sends_every_row_and_snapshots_them_sorted_by_key() -> None:
    rows = members(50)
    shuffled(rows, 7)
    first = diff(rows)

    assert first.report.rows_sent == 50
    assert first.report.rows_unchanged == 0
    assert sorted(first.rows) == sorted(csv_line(row).rstrip("\n") for row in rows)
    keys = [line.split(b"\t")[0] for line in first.snapshot.splitlines()]
    assert keys == sorted(keys)
    assert len(keys) == 50


def test_an_unchanged_result_sends_nothing_whatever_its_order() -> None:
    rows = members(200)
    first = diff(rows)
    shuffled(rows, 1)
    again = diff(rows, first.snapshot)

    assert (again.report.rows_sent, again.report.rows_unchanged) == (0, 200)
    assert again.report.changes == 0
    assert again.rows == []
    assert again.snapshot == first.snapshot


def test_only_changed_and_new_members_are_sent_with_all_their_columns() -> None:
    rows = members(100)
    first = diff(rows)
    rows[10][1] = "platinum"  # an attribute changed
    rows[20][2] = None  # a value became NULL
    rows.append(["e99999", "silver", "1"])  # a new member
    again = diff(rows, first.snapshot)

    assert again.report.rows_sent == 3
    assert again.report.rows_unchanged == 98
    assert again.rows == [
        '"e00010","platinum","10"',
        '"e00020","gold",',
        '"e99999","silver","1"',
    ]


def test_reordered_columns_compare_equal() -> None:
    rows = members(10)
    first = diff(rows)
    swapped = [[row[0], row[2], row[1]] for row in rows]
    again = diff(swapped, first.snapshot, header=["Id", "Metrics.Score", "Attributes.Plan"])
    assert again.report.rows_sent == 0


def test_leavers_are_cleared_only_with_mirror_and_dropped_from_the_snapshot() -> None:
    rows = members(10)
    first = diff(rows)
    stayed = rows[2:]

    plain = diff(stayed, first.snapshot)
    assert (plain.report.rows_sent, plain.report.rows_cleared) == (0, 0)

    mirrored = diff(stayed, first.snapshot, mirror=True, vocabulary=connect_imports())
    assert mirrored.report.rows_cleared == 2
    # Customer Profiles removes a field given an empty value: every column but the key.
    assert mirrored.rows == ['"e00000",,', '"e00001",,']
    assert b"e00000" not in mirrored.snapshot
    assert len(mirrored.snapshot.splitlines()) == 8


def test_everyone_leaving_clears_everyone() -> None:
    first = diff(members(5))
    gone = diff([], first.snapshot, mirror=True, vocabulary=connect_imports())
    assert gone.report.rows_cleared == 5
    assert gone.snapshot == b""


def test_an_empty_result_with_no_last_sync_changes_nothing() -> None:
    empty = diff([], mirror=True)
    assert empty.report == DiffReport()
    assert empty.snapshot == b""


def test_pinpoint_clears_custom_attributes_with_empty_lists_in_a_json_file() -> None:
    header = ["Id", "Address", "ChannelType", "Attributes.Plan", "User.UserAttributes.Tier"]
    header += ["Metrics.Score"]
    rows: list[Row] = [
        ["a", "a@example.com", "EMAIL", "gold", "t1", "1.5"],
        ["b", "b@example.com", "EMAIL", "gold", None, "2"],
    ]
    first = diff(rows, header=header)
    rows[0][3] = "silver"
    again = diff(rows[:1], first.snapshot, mirror=True, header=header, json_file=True)

    assert again.report.rows_sent == 1
    assert again.report.rows_cleared == 1
    sent, cleared = (json.loads(line) for line in again.import_file.splitlines())
    assert sent == {
        "Id": "a",
        "Address": "a@example.com",
        "ChannelType": "EMAIL",
        "Attributes": {"Plan": ["silver"]},
        "User": {"UserAttributes": {"Tier": ["t1"]}},
        "Metrics": {"Score": 1.5},
    }
    # The address stays (an endpoint keeps its channel); a metric has no empty value.
    assert cleared == {
        "Id": "b",
        "Attributes": {"Plan": []},
        "User": {"UserAttributes": {"Tier": []}},
    }


def test_a_key_on_several_rows_is_rejected_and_keeps_its_last_state() -> None:
    first = diff(members(3))
    extra: list[Row] = [["e00001", "silver", "5"], ["e00009", "x", "1"], ["e00009", "y", "2"]]
    rows = [*members(3), *extra]
    again = diff(rows, first.snapshot, mirror=True, vocabulary=connect_imports())

    assert again.report.duplicates_rejected == 4
    assert sorted((r.row_number, r.code) for r in again.report.sample) == [
        (2, "DUPLICATE_ID"),
        (4, "DUPLICATE_ID"),
        (5, "DUPLICATE_ID"),
        (6, "DUPLICATE_ID"),
    ]
    # e00001 is still in the result: neither sent nor cleared, its last line carried on.
    assert (again.report.rows_sent, again.report.rows_cleared) == (0, 0)
    assert again.snapshot == first.snapshot


def test_a_member_whose_row_fails_the_checks_is_not_cleared() -> None:
    first = diff(members(3))
    rows = members(3)
    rows[1][2] = "not a number"
    again = diff(rows, first.snapshot, mirror=True, vocabulary=connect_imports())

    assert again.rejected == 1
    assert (again.report.rows_sent, again.report.rows_cleared) == (0, 0)
    assert again.snapshot == first.snapshot


def test_the_external_sort_spills_runs_and_merges_them_in_order() -> None:
    rows = members(3000)
    shuffled(rows, 3)
    whole = diff(rows)
    spilled = diff(rows, run_bytes=4096)  # dozens of runs

    assert spilled.snapshot == whole.snapshot
    assert sorted(spilled.rows) == sorted(whole.rows)
    again = diff(rows, spilled.snapshot, run_bytes=4096)
    assert again.report.rows_unchanged == 3000


def test_a_pinpoint_segment_refresh_lists_unchanged_members_by_key() -> None:
    first = diff(members(3))
    rows = members(3)
    rows[0][1] = "silver"
    again = diff(rows, first.snapshot, list_members=True)
    assert again.rows == ['"e00000","silver","0"', '"e00001",,', '"e00002",,']
    assert (again.report.rows_sent, again.report.rows_unchanged) == (1, 2)


def test_a_connect_segment_marks_sent_rows_with_the_sync_key_and_clears_it_on_leavers() -> None:
    first = diff(members(2))
    again = diff(
        [["e00000", "silver", "0"]],
        first.snapshot,
        mirror=True,
        vocabulary=connect_imports(),
        marker=("pinpoint_lake_segment", "vip"),
    )
    assert again.import_file.splitlines() == [
        "AccountNumber,Attributes.Plan,Attributes.Score,pinpoint_lake_segment",
        '"e00000","silver","0","vip"',
        '"e00001",,,',
    ]


# ---------------------------------------------------------------------------- the runs


def sync_run(number: int, **request: Any) -> SegmentQuerySucceeded:
    """Run `number` of the saved segment "vip" (a fresh run id, event and result)."""
    raw = example_event(SegmentQuerySucceeded)
    data = raw["detail"]["data"]
    run_id = f"vip-{number}"
    data["run_id"] = run_id
    data["query_execution_id"] = f"q-{number}"
    data["result_location"] = f"s3://results/athena/q-{number}.csv"
    data["request"] |= {"run_id": run_id, "segment_name": None, "sync_key": "vip"} | request
    metadata = raw["detail"]["metadata"]
    metadata["event_id"] = f"succeeded-{number}"
    metadata["correlation_id"] = run_id
    metadata["occurred_at"] = (NOW + timedelta(hours=number)).isoformat()
    return REGISTRY.parse_as(raw, SegmentQuerySucceeded).detail


class SyncWorld:
    def __init__(self) -> None:
        self.files = FakeFiles()
        self.pinpoint = FakePinpoint()
        self.ledger = FakeLedger()
        self.published = Published()
        self.states = FakeSyncStates()
        self.ports = Ports(
            self.files, self.pinpoint, self.ledger, self.published, sync_states=self.states
        )

    def run(self, event: SegmentQuerySucceeded, rows: list[Row]) -> Step:
        self.files.objects[event.data.result_location] = result_csv(rows)
        at = event.metadata.occurred_at
        return import_result(event, self.ports, PLACEMENT, at)

    def finish(self, event: SegmentQuerySucceeded, **job: Any) -> None:
        """The run's import job completes and a poll ends the run."""
        record = self.ledger.runs[event.data.run_id]
        assert record.import_job_id is not None
        self.pinpoint.finish(record.import_job_id, "COMPLETED", **job)
        poll_imports(event.metadata.occurred_at + timedelta(minutes=5), self.ports, PLACEMENT)

    def status(self, run_id: str) -> RunStatus:
        return self.ledger.runs[run_id].status

    def sent(self, event: SegmentQuerySucceeded) -> list[str]:
        record = self.ledger.runs[event.data.run_id]
        return self.files.objects[record.import_file].decode().splitlines()[1:]

    def completed(self, event: SegmentQuerySucceeded) -> EndpointImportCompleted:
        (ending,) = [
            e
            for e in self.published
            if isinstance(e, EndpointImportCompleted) and e.data.run_id == event.data.run_id
        ]
        return ending


@pytest.fixture
def world() -> SyncWorld:
    return SyncWorld()


def test_three_runs_import_all_then_nothing_then_only_what_changed(world: SyncWorld) -> None:
    rows = members(100)
    first = sync_run(1)
    assert world.run(first, rows) is Step.STARTED
    assert len(world.sent(first)) == 100
    world.finish(first, total_processed=100)
    counts = world.completed(first).data.counts
    assert (counts.rows_in_result, counts.rows_sent, counts.rows_unchanged) == (100, 100, 0)
    assert world.states.last(f"pinpoint/{APP_ID}/vip") is not None

    second = sync_run(2)
    assert world.run(second, rows) is Step.ENDED
    assert len(world.pinpoint.jobs) == 1  # no import job
    ending = world.completed(second).data
    assert ending.outcome is ImportOutcome.NOTHING_TO_IMPORT
    assert (ending.counts.rows_sent, ending.counts.rows_unchanged) == (0, 100)
    assert world.ledger.runs["vip-2"].status is RunStatus.NOTHING_TO_IMPORT
    assert not any("imports/vip-2" in uri or "vip-2.snapshot" in uri for uri in world.files.objects)

    rows[5][1] = "silver"
    third = sync_run(3)
    assert world.run(third, rows) is Step.STARTED
    assert world.sent(third) == ['"e00005","silver","5"']
    world.finish(third, total_processed=1)
    counts = world.completed(third).data.counts
    assert (counts.rows_sent, counts.rows_unchanged, counts.rows_cleared) == (1, 99, 0)
    state = world.states.last(f"pinpoint/{APP_ID}/vip")
    assert state is not None
    assert state.run_id == "vip-3"


def test_the_state_moves_only_when_the_import_succeeded(world: SyncWorld) -> None:
    rows = members(10)
    first = sync_run(1)
    world.run(first, rows)
    record = world.ledger.runs["vip-1"]
    assert record.import_job_id is not None
    world.pinpoint.finish(record.import_job_id, "FAILED", total_failures=10)
    poll_imports(NOW + timedelta(hours=2), world.ports, PLACEMENT)
    assert world.states.states == {}

    again = sync_run(2)
    assert world.run(again, rows) is Step.STARTED
    assert len(world.sent(again)) == 10  # the failed run's rows are sent again


def test_a_partial_import_keeps_the_last_complete_snapshot(world: SyncWorld) -> None:
    rows = members(10)
    first = sync_run(1)
    world.run(first, rows)
    world.finish(first, total_processed=10)
    rows[0][1] = "silver"
    second = sync_run(2)
    world.run(second, rows)
    world.finish(second, total_processed=1, total_failures=1)
    assert world.completed(second).data.outcome is ImportOutcome.PARTIAL

    third = sync_run(3)
    assert world.run(third, rows) is Step.STARTED
    assert world.sent(third) == ['"e00000","silver","0"']  # re-sent, never skipped


def test_a_crash_between_the_import_and_the_state_write_re_sends(world: SyncWorld) -> None:
    rows = members(10)
    first = sync_run(1)
    world.run(first, rows)
    world.finish(first, total_processed=10)
    rows[3][1] = "silver"
    second = sync_run(2)
    world.run(second, rows)
    record = world.ledger.runs["vip-2"]
    assert record.import_job_id is not None
    world.pinpoint.finish(record.import_job_id, "COMPLETED", total_processed=1)
    world.states.crash_before_save = True
    with pytest.raises(CrashError):
        poll_imports(NOW + timedelta(hours=2, minutes=5), world.ports, PLACEMENT)
    assert world.status("vip-2") is RunStatus.RUNNING  # not ended, not lost

    # A run of the key meanwhile compares with the older sync: the change is sent again.
    third = sync_run(3)
    assert world.run(third, rows) is Step.STARTED
    assert world.sent(third) == ['"e00003","silver","3"']

    # The next tick finishes the crashed run; the later run's state is not overwritten.
    world.finish(third, total_processed=1)
    poll_imports(NOW + timedelta(hours=4), world.ports, PLACEMENT)
    assert world.status("vip-2") is RunStatus.COMPLETE
    state = world.states.last(f"pinpoint/{APP_ID}/vip")
    assert state is not None
    assert state.run_id == "vip-3"


def test_a_redelivered_sync_run_is_one_job_and_one_ending(world: SyncWorld) -> None:
    rows = members(10)
    first = sync_run(1)
    assert world.run(first, rows) is Step.STARTED
    assert world.run(first, rows) is Step.DUPLICATE
    world.finish(first, total_processed=10)
    world.finish(first, total_processed=10)
    assert len(world.pinpoint.jobs) == 1
    assert len([e for e in world.published if isinstance(e, EndpointImportCompleted)]) == 1

    unchanged = sync_run(2)
    assert world.run(unchanged, rows) is Step.ENDED
    assert world.run(unchanged, rows) is Step.DUPLICATE
    assert len([e for e in world.published if isinstance(e, EndpointImportCompleted)]) == 2


def test_a_sync_whose_columns_changed_is_a_full_sync(world: SyncWorld) -> None:
    first = sync_run(1)
    world.run(first, members(5))
    world.finish(first, total_processed=5)

    second = sync_run(2)
    world.files.objects[second.data.result_location] = result_csv(
        [[f"e{i:05d}", "gold"] for i in range(5)], ["Id", "Attributes.Plan"]
    )
    assert import_result(second, world.ports, PLACEMENT, NOW) is Step.STARTED
    assert len(world.sent(second)) == 5


def test_a_saved_segment_is_defined_once_then_refreshed(world: SyncWorld) -> None:
    rows = members(4)
    first = sync_run(1, segment_name="VIP members")
    world.run(first, rows)
    (job_id,) = world.pinpoint.jobs
    assert world.pinpoint.specs[job_id][1].segment_name == "VIP members"
    segment_id = "5e" * 16
    world.finish(first, total_processed=4, segment_id=segment_id)
    assert world.completed(first).data.segment_id == segment_id

    rows[0][1] = "silver"
    second = sync_run(2, segment_name="VIP members")
    world.run(second, rows)
    job = world.ledger.runs["vip-2"].import_job_id
    assert job is not None
    spec = world.pinpoint.specs[job][1]
    assert (spec.segment_name, spec.segment_id) == (None, segment_id)
    # An imported segment is its import's endpoints: the unchanged ones are listed by Id.
    assert world.sent(second) == ['"e00000","silver","0"', '"e00001",,', '"e00002",,', '"e00003",,']
    world.finish(second, total_processed=4, segment_id=segment_id)
    assert world.completed(second).data.segment_id == segment_id


def test_a_pinpoint_mirror_run_imports_a_json_file(world: SyncWorld) -> None:
    first = sync_run(1, mirror=True)
    world.run(first, members(3))
    world.finish(first, total_processed=3)
    second = sync_run(2, mirror=True)
    world.run(second, members(2))
    record = world.ledger.runs["vip-2"]
    assert record.import_file.endswith("/imports/vip-2/endpoints.json")
    assert record.import_job_id is not None
    assert world.pinpoint.specs[record.import_job_id][1].format == "JSON"
    lines = world.files.objects[record.import_file].decode().splitlines()
    assert [json.loads(line) for line in lines] == [{"Id": "e00002", "Attributes": {"Plan": []}}]
    assert record.counts.rows_cleared == 1


def test_a_sync_dry_run_counts_what_would_be_sent_and_writes_nothing(world: SyncWorld) -> None:
    first = sync_run(1)
    world.run(first, members(5))
    world.finish(first, total_processed=5)
    rows = members(5)
    rows[1][1] = "silver"
    dry = sync_run(2, dry_run=True)
    assert world.run(dry, rows) is Step.ENDED
    counts = world.completed(dry).data.counts
    assert (counts.rows_sent, counts.rows_unchanged) == (1, 4)
    assert not any("vip-2" in uri for uri in world.files.objects)
    state = world.states.last(f"pinpoint/{APP_ID}/vip")
    assert state is not None
    assert state.run_id == "vip-1"


def test_a_deployment_without_sync_state_fails_a_sync_run_clearly() -> None:
    world = SyncWorld()
    world.ports = replace(world.ports, sync_states=None)
    assert world.run(sync_run(1), members(2)) is Step.ENDED
    (failed,) = world.published
    assert "sync_key cannot be honoured" in getattr(failed.data, "reason", "")


def test_a_connect_profile_key_that_is_a_custom_attribute_is_the_member_key() -> None:
    vocabulary = connect_imports("Attributes.CustomerId")
    first = diff(members(3), vocabulary=vocabulary)
    assert [line.split(b"\t")[0] for line in first.snapshot.splitlines()] == [
        b"e00000",
        b"e00001",
        b"e00002",
    ]
    rows = members(3)
    rows[1][1] = "silver"
    again = diff(rows[1:], first.snapshot, mirror=True, vocabulary=vocabulary)
    assert again.import_file.splitlines() == [
        "Attributes.CustomerId,Attributes.Plan,Attributes.Score",
        '"e00000",,',
        '"e00001","silver","1"',
    ]
