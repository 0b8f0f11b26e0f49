"""In-memory stand-ins for the importer's ports, with the semantics of the real ones."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from contracts import Event, ImportCheckDue
from services.common.run_ledger import RunStatus
from services.common.targets.pinpoint.imports import ImportJobSpec, ImportJobView
from services.importer.logic import (
    Ending,
    ImportRecord,
    ImportRefusedError,
    JobLookupError,
    ResultUnreadableError,
    TargetFullError,
)
from services.importer.rows import Sink, Source
from services.importer.sync import SyncState


class CrashError(RuntimeError):
    """The process dies at this point (Lambda timeout, out of memory, ...)."""


class FakeFiles:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.reads: list[str] = []
        self.dropped: list[str] = []

    @contextmanager
    def open_result(self, uri: str) -> Iterator[Source]:
        self.reads.append(uri)
        if uri not in self.objects:
            raise ResultUnreadableError(f"the result file {uri} cannot be read (NoSuchKey)")
        yield io.BytesIO(self.objects[uri])

    @contextmanager
    def create_import_file(self, uri: str) -> Iterator[Sink]:
        buffer = io.BytesIO()
        try:
            yield buffer
        except BaseException:
            self.dropped.append(uri)
            raise
        self.objects[uri] = buffer.getvalue()


class FakePinpoint:
    def __init__(self) -> None:
        self.jobs: dict[str, ImportJobView] = {}
        self.specs: dict[str, tuple[str, ImportJobSpec]] = {}
        self.gets: list[str] = []
        self.unreadable = False  # GetImportJob fails (throttled past botocore's retries)
        self.crash_after_create = False
        self.refusal: str | None = None
        self.full = False  # 429: as many import jobs running as Pinpoint allows

    def create(self, application_id: str, spec: ImportJobSpec) -> str:
        if self.refusal is not None:
            raise ImportRefusedError(self.refusal)
        if self.full:
            raise TargetFullError("TooManyRequestsException")
        job_id = f"{len(self.jobs) + 1:032x}"
        self.jobs[job_id] = ImportJobView(job_id, "CREATED")
        self.specs[job_id] = (application_id, spec)
        if self.crash_after_create:
            self.crash_after_create = False
            raise CrashError("after CreateImportJob")
        return job_id

    def find(self, application_id: str, s3_url: str) -> str | None:
        for job_id, (app, spec) in self.specs.items():
            if app == application_id and spec.s3_url == s3_url:
                return job_id
        return None

    def get(self, application_id: str, job_id: str) -> ImportJobView | None:
        self.gets.append(job_id)
        if self.unreadable:
            raise JobLookupError("TooManyRequestsException")
        return self.jobs.get(job_id)

    def finish(self, job_id: str, status: str, **fields: Any) -> None:
        self.jobs[job_id] = replace(self.jobs[job_id], status=status, **fields)


class FakeLedger:
    """Conditional writes as DynamoDB does them; the index may be read stale on request."""

    def __init__(self) -> None:
        self.runs: dict[str, ImportRecord] = {}
        self.crash_on: set[str] = set()  # method names that crash once, after their write
        self.stale_index: dict[str, ImportRecord] | None = None
        self.checks: dict[str, int] = {}  # run id -> the follow-up readings recorded

    def _maybe_crash(self, name: str) -> None:
        if name in self.crash_on:
            self.crash_on.discard(name)
            raise CrashError(f"after {name}")

    def get(self, run_id: str) -> ImportRecord | None:
        return self.runs.get(run_id)

    def claim(self, record: ImportRecord) -> bool:
        if record.run_id in self.runs:
            return False
        self.runs[record.run_id] = record
        self._maybe_crash("claim")
        return True

    def save_ended(self, record: ImportRecord) -> None:
        self.runs.setdefault(record.run_id, record)

    def _move(self, run_id: str, current: RunStatus, **changes: Any) -> bool:
        record = self.runs.get(run_id)
        if record is None or record.status is not current:
            return False
        self.runs[run_id] = replace(record, **changes)
        return True

    def mark_running(self, run_id: str, import_job_id: str) -> bool:
        moved = self._move(
            run_id,
            RunStatus.SUBMITTING,
            status=RunStatus.RUNNING,
            import_job_id=import_job_id,
        )
        self._maybe_crash("mark_running")
        return moved

    def mark_refused(self, run_id: str, outcome: Ending) -> bool:
        return self._move(
            run_id,
            RunStatus.SUBMITTING,
            status=RunStatus.FAILED,
            outcome=outcome,
            result=RunStatus.FAILED,
        )

    def mark_checked(self, run_id: str, check: int) -> bool:
        record = self.runs.get(run_id)
        if record is None or record.status is not RunStatus.RUNNING:
            return False
        if self.checks.get(run_id, 0) != check - 1:
            return False
        self.checks[run_id] = check
        return True

    def mark_waiting(self, run_id: str) -> bool:
        return self._move(run_id, RunStatus.SUBMITTING, status=RunStatus.WAITING)

    def take_waiting(self, run_id: str, now: datetime) -> bool:
        return self._move(run_id, RunStatus.WAITING, status=RunStatus.SUBMITTING, claimed_at=now)

    def reclaim(self, run_id: str, claimed_at: datetime, now: datetime) -> bool:
        record = self.runs.get(run_id)
        if record is None or record.claimed_at != claimed_at:
            return False
        return self._move(run_id, RunStatus.SUBMITTING, claimed_at=now)

    def begin_ending(
        self,
        run_id: str,
        outcome: Ending,
        result: RunStatus,
        now: datetime,
        *,
        current: RunStatus = RunStatus.RUNNING,
    ) -> bool:
        moved = self._move(
            run_id,
            current,
            status=RunStatus.ENDING,
            outcome=outcome,
            result=result,
            claimed_at=now,
        )
        self._maybe_crash("begin_ending")
        return moved

    def mark_ended(self, run_id: str, result: RunStatus) -> bool:
        return self._move(run_id, RunStatus.ENDING, status=result)

    def open_runs(self, status: RunStatus, limit: int) -> list[ImportRecord]:
        index = self.stale_index if self.stale_index is not None else self.runs
        found = [record for record in index.values() if record.status is status]
        return sorted(found, key=lambda record: record.deadline)[:limit]


class FakeSlots:
    """The conditional set of holders per scope, as DynamoImportSlots keeps it."""

    def __init__(self) -> None:
        self.held: dict[str, set[str]] = {}
        self.most_held: dict[str, int] = {}  # the most holders a scope ever had at once

    def take(self, scope: str, run_id: str, most: int) -> bool:
        holders = self.held.setdefault(scope, set())
        if run_id not in holders and len(holders) >= most:
            return False
        holders.add(run_id)
        self.most_held[scope] = max(self.most_held.get(scope, 0), len(holders))
        return True

    def release(self, scope: str, run_id: str) -> None:
        self.held.get(scope, set()).discard(run_id)

    def holders(self, scope: str) -> frozenset[str]:
        return frozenset(self.held.get(scope, set()))


class FakeFollowUps:
    """The follow-ups sent, with their delays, in order; `due()` hands them back."""

    def __init__(self) -> None:
        self.sent: list[tuple[ImportCheckDue, int]] = []

    def send(self, due: ImportCheckDue, *, delay_seconds: int, trace_header: str | None) -> None:
        self.sent.append((due, delay_seconds))

    def take(self) -> list[tuple[ImportCheckDue, int]]:
        sent, self.sent = self.sent, []
        return sent


class Published(list[Event]):
    """The events published, in order, with the trace header each was published in."""

    def __init__(self) -> None:
        super().__init__()
        self.trace_headers: dict[str | None, str | None] = {}  # event id -> trace header

    def __call__(self, events: Sequence[Event], *, trace_header: str | None = None) -> None:
        self.extend(events)
        self.trace_headers.update((event.event_id, trace_header) for event in events)


class FakeSyncStates:
    """The sync keys' last syncs, saved forward only, as the DynamoDB adapter saves them."""

    def __init__(self) -> None:
        self.states: dict[str, SyncState] = {}
        self.crash_before_save = False  # the process dies just before the state is saved
        self.saves: list[SyncState] = []

    def last(self, scope: str) -> SyncState | None:
        return self.states.get(scope)

    def save(self, state: SyncState) -> bool:
        if self.crash_before_save:
            self.crash_before_save = False
            raise CrashError("before the sync state was saved")
        current = self.states.get(state.scope)
        if current is not None and current.synced_at > state.synced_at:
            return False
        self.states[state.scope] = state
        self.saves.append(state)
        return True
