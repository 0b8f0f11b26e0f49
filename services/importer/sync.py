"""Incremental syncs of a saved segment: which rows of a result differ from the sync key's
last successful sync, streamed in flat memory.

A run with a `sync_key` compares its result with the *snapshot* of the key's last
successful sync: one line per member, `<member key>\\t<digest of its other columns>`, sorted
by the key's UTF-8 bytes. Athena returns rows in no guaranteed order, so the checked rows
are sorted here (an external sort: sorted runs of at most `RUN_BYTES` spilled to temporary
files, then merged with `heapq.merge`), and one sorted merge with the previous snapshot
decides every member:

| in the result | in the last sync | written |
| --- | --- | --- |
| once, same digest | yes | nothing: unchanged (its key alone, to refresh a Pinpoint segment) |
| once, other digest or new | either | the row as it is: sent |
| no | yes | with `mirror`, a row clearing the query's columns: cleared |
| twice or more, or refused by the checks | either | nothing: it keeps its last synced state |

A member key found on more than one row is ambiguous (which row is the member?), so all of
its rows are rejected (`DUPLICATE_ID`); like a member whose row failed the checks, it is
neither sent nor cleared, and the new snapshot carries its last synced line forward.

Rows are compared on their cells in the order of the sorted column names, so reordering a
query's columns changes nothing; a run whose set of columns differs from the last sync's
is a full sync (every row sent, nothing cleared: the last snapshot describes other columns).

Pure: bytes in from the checks (`SyncCollector` is the sink `check_rows` writes through),
bytes out to two sinks (the import file and the new snapshot); temporary files only.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import itertools
import json
import struct
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from contracts import EngagementTarget, RowRejection, SucceededQuery
from services.common.targets.imports import (
    Clearing,
    ImportColumn,
    ImportVocabulary,
    ValueKind,
)
from services.common.targets.pinpoint.imports import cleared_item, endpoint_item
from services.importer.rows import MAX_SAMPLE, RecordParser, Sink, Source

RUN_BYTES = 64 << 20  # rows held (estimated) before a sorted run is spilled to a file
_ENTRY_OVERHEAD = 260  # Python's bytes per held row beyond its key and record (measured)
_SPILLED = struct.Struct(">IQB16sI")  # key length, row number, held, digest, record length
_READ_SIZE = 1 << 20  # the snapshot and spill writes
_RUN_BUFFER = 64 << 10  # one read buffer per spilled run while merging: memory grows by
# 64 KiB per run (per 64 MB of result), not by rows
DIGEST_BYTES = 16


@dataclass(frozen=True)
class SyncState:
    """The last successful sync of one sync key in one scope (a project or a domain)."""

    scope: str  # "<target>/<project or domain>/<sync key>"
    run_id: str  # the run that made it
    snapshot: str  # the snapshot that run wrote (S3 URI)
    columns: tuple[str, ...]  # that run's columns, sorted
    synced_at: datetime  # when that run was claimed: the state only ever moves forward
    segment_id: str | None = None  # Pinpoint: the saved segment's imported segment


class SyncStates(Protocol):
    def last(self, scope: str) -> SyncState | None: ...

    def save(self, state: SyncState) -> bool:
        """Record `state` unless a later run's state is recorded; False if one is."""
        ...


@dataclass(frozen=True)
class SyncPlan:
    """What a claimed sync run carries to its end: where its snapshot is, and what it was
    compared with."""

    scope: str
    snapshot: str  # the snapshot this run wrote: the key's state once its import succeeds
    columns: tuple[str, ...]
    previous: SyncState | None = None

    @property
    def segment_id(self) -> str | None:
        return None if self.previous is None else self.previous.segment_id

    def to_json(self) -> str:
        previous = self.previous
        return json.dumps(
            {
                "scope": self.scope,
                "snapshot": self.snapshot,
                "columns": list(self.columns),
                "previous": None
                if previous is None
                else {
                    "run_id": previous.run_id,
                    "snapshot": previous.snapshot,
                    "columns": list(previous.columns),
                    "synced_at": previous.synced_at.isoformat(),
                    "segment_id": previous.segment_id,
                },
            }
        )

    @classmethod
    def from_json(cls, text: str) -> SyncPlan:
        stored = json.loads(text)
        previous = stored.get("previous")
        return cls(
            scope=stored["scope"],
            snapshot=stored["snapshot"],
            columns=tuple(stored["columns"]),
            previous=None
            if previous is None
            else SyncState(
                scope=stored["scope"],
                run_id=previous["run_id"],
                snapshot=previous["snapshot"],
                columns=tuple(previous["columns"]),
                synced_at=datetime.fromisoformat(previous["synced_at"]),
                segment_id=previous.get("segment_id"),
            ),
        )


def sync_scope(run: SucceededQuery) -> str | None:
    """Where a run's sync state lives, or None for a run without a sync key. A key is
    per target and project (or domain): the same key elsewhere is another saved segment."""
    key = run.request.sync_key
    if key is None:
        return None
    if run.target is EngagementTarget.CONNECT:
        return f"connect/{run.domain_name}/{key}"
    return f"pinpoint/{run.application_id}/{key}"


def snapshot_uri(results_bucket: str, scope: str, run_id: str) -> str:
    return f"s3://{results_bucket}/sync/{scope}/{run_id}.snapshot"


# ---------------------------------------------------------------------------- collecting

Entry = tuple[bytes, int, int, bytes, bytes]  # key, row number, held, digest, record


class ExternalSorter:
    """Entries sorted by (key, row number), in memory up to `run_bytes`, spilled beyond."""

    def __init__(self, directory: Path, run_bytes: int = RUN_BYTES) -> None:
        self._directory = directory
        self._run_bytes = run_bytes
        self._held: list[Entry] = []
        self._held_bytes = 0
        self._runs: list[Path] = []

    @property
    def spilled_runs(self) -> int:
        return len(self._runs)

    def add(self, entry: Entry) -> None:
        self._held.append(entry)
        self._held_bytes += len(entry[0]) + len(entry[4]) + _ENTRY_OVERHEAD
        if self._held_bytes >= self._run_bytes:
            self._spill()

    def _spill(self) -> None:
        self._held.sort()
        path = self._directory / f"run-{len(self._runs):05d}"
        with path.open("wb", buffering=_READ_SIZE) as out:
            for key, row, held, digest, record in self._held:
                out.write(_SPILLED.pack(len(key), row, held, digest, len(record)))
                out.write(key)
                out.write(record)
        self._runs.append(path)
        self._held = []
        self._held_bytes = 0

    def sorted(self, stack: ExitStack) -> Iterator[Entry]:
        """Every entry in order; the spilled runs stay open until `stack` closes."""
        self._held.sort()
        if not self._runs:
            return iter(self._held)
        files = [stack.enter_context(path.open("rb", buffering=_RUN_BUFFER)) for path in self._runs]
        return heapq.merge(*(_read_run(file) for file in files), iter(self._held))


def _read_run(file: IO[bytes]) -> Iterator[Entry]:
    size = _SPILLED.size
    while True:
        fixed = file.read(size)
        if not fixed:
            return
        key_length, row, held, digest, record_length = _SPILLED.unpack(fixed)
        key = file.read(key_length)
        yield key, row, held, digest, file.read(record_length)


class SyncCollector:
    """The sink `check_rows` writes the passing rows through (and `rejected`, its
    `on_rejected`): each row is keyed, digested and handed to the external sort."""

    def __init__(
        self, vocabulary: ImportVocabulary, directory: Path, run_bytes: int = RUN_BYTES
    ) -> None:
        self.vocabulary = vocabulary
        self.sorter = ExternalSorter(directory, run_bytes)
        self.header_line = b""
        self.columns: list[ImportColumn] = []
        self._pending = b""
        self._rows = 0  # data rows seen, passing or not: the result's row numbers
        self._key_index = 0
        self._order: list[int] = []  # the non-key cells, by sorted column name
        self._parser = RecordParser()

    def write(self, data: bytes | memoryview, /) -> int:
        chunk = self._pending + bytes(data)
        end = chunk.rfind(b"\n") + 1
        self._pending = chunk[end:]
        if end:
            self._lines(chunk[:end].split(b"\n")[:-1])
        return len(data)

    def _lines(self, lines: list[bytes]) -> None:
        if not self.header_line:
            self._start(lines[0] + b"\n")
            lines = lines[1:]
        # Every passing record is one line (a value with a line break is refused), and a
        # newline is one byte in UTF-8: the text splits where the bytes do.
        texts = b"\n".join(lines).decode("utf-8").split("\n") if lines else []
        add, digest, key_index = self.sorter.add, self._digest, self._key_index
        for line, cells in zip(lines, csv.reader(texts), strict=True):
            self._rows += 1
            add((cells[key_index].encode(), self._rows, 0, digest(cells), line + b"\n"))

    def _start(self, header_line: bytes) -> None:
        self.header_line = header_line
        names = next(csv.reader([header_line.decode("utf-8")]))
        self.columns = [_file_column(self.vocabulary, name) for name in names]
        self._key_index = next(
            i for i, column in enumerate(self.columns) if column.kind is ValueKind.ID
        )
        others = [i for i in range(len(self.columns)) if i != self._key_index]
        self._order = sorted(others, key=lambda i: (names[i], i))

    def rejected(self, record: bytes | None) -> None:
        """A row the checks refused: its member (when its key can be read) is still in the
        result, so it keeps its last synced state instead of leaving."""
        self._rows += 1
        if record is None or not self.columns:
            return
        try:
            text = record.decode("utf-8")
        except UnicodeDecodeError:
            return
        cells = self._parser.cells(text)
        if cells is None or len(cells) != len(self.columns):
            return
        key = cells[self._key_index]
        if key.strip() and not any(c in key for c in "\t\r\n"):
            self.sorter.add((key.encode(), self._rows, 1, bytes(DIGEST_BYTES), b""))

    def _digest(self, cells: Sequence[str]) -> bytes:
        # repr of the tuple of values: unambiguous (quotes escaped), and fast.
        values = tuple(cells[i] for i in self._order)
        return hashlib.blake2b(repr(values).encode(), digest_size=DIGEST_BYTES).digest()


def _file_column(vocabulary: ImportVocabulary, file_name: str) -> ImportColumn:
    """The column a name of the import file's header is. Pinpoint's file names columns as
    the query does; Connect's by profile path, where only the key's kind matters here."""
    key = vocabulary.column(vocabulary.id_column)
    if key is not None and vocabulary.file_column(key) == file_name:
        return key  # first: a profile key may be a custom attribute (Attributes.CustomerId)
    column = vocabulary.column(file_name)
    if column is not None and vocabulary.file_column(column) == file_name:
        return column
    return ImportColumn(file_name, tuple(file_name.split(".")), ValueKind.TEXT)


# ---------------------------------------------------------------------------- writing


class RowWriter(Protocol):
    """Writes the import file of a sync run."""

    bytes_written: int

    def header(self) -> None: ...
    def sent(self, record: bytes) -> None: ...
    def member(self, key: bytes) -> None: ...
    def cleared(self, key: bytes) -> None: ...


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class CsvRowWriter:
    """The import file as the checks wrote it, plus (Connect) the segment marker column:
    the sync key on every row sent, empty (removed) on every row cleared."""

    def __init__(
        self,
        sink: Sink,
        header_line: bytes,
        columns: Sequence[ImportColumn],
        marker: tuple[str, str] | None = None,
    ) -> None:
        self._sink = sink
        self._header_line = header_line
        self._width = len(columns)
        self._key_index = next(i for i, c in enumerate(columns) if c.kind is ValueKind.ID)
        self._marker = marker
        self._marked = b"" if marker is None else f",{_quoted(marker[1])}".encode()
        self.bytes_written = 0

    def _write(self, data: bytes) -> None:
        self._sink.write(data)
        self.bytes_written += len(data)

    def header(self) -> None:
        line = self._header_line
        if self._marker is not None:
            line = line.rstrip(b"\n") + f",{self._marker[0]}\n".encode()
        self._write(line)

    def sent(self, record: bytes) -> None:
        self._write(record.rstrip(b"\n") + self._marked + b"\n")

    def _key_only(self, key: bytes, marker: bytes) -> None:
        cells = [""] * self._width
        cells[self._key_index] = _quoted(key.decode())
        self._write(",".join(cells).encode() + marker + b"\n")

    def member(self, key: bytes) -> None:
        self._key_only(key, self._marked)

    def cleared(self, key: bytes) -> None:
        # Every cell but the key empty: the target removes those fields (Clearing.EMPTY_VALUE).
        self._key_only(key, b"" if self._marker is None else b",")


class JsonRowWriter:
    """A Pinpoint JSON import file: one endpoint per line, the only form that can clear an
    attribute (an empty list)."""

    def __init__(self, sink: Sink, columns: Sequence[ImportColumn]) -> None:
        self._sink = sink
        self._columns = list(columns)
        self._parser = RecordParser()
        self.bytes_written = 0

    def _line(self, item: object) -> None:
        data = json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        self._sink.write(data)
        self.bytes_written += len(data)

    def header(self) -> None:
        return None  # a JSON file has none

    def sent(self, record: bytes) -> None:
        cells = self._parser.cells(record.decode("utf-8")) or []
        self._line(endpoint_item(self._columns, cells))

    def member(self, key: bytes) -> None:
        self._line({"Id": key.decode()})

    def cleared(self, key: bytes) -> None:
        self._line(cleared_item(self._columns, key.decode()))


def row_writer(
    vocabulary: ImportVocabulary,
    sink: Sink,
    collector: SyncCollector,
    *,
    json_file: bool,
    marker: tuple[str, str] | None = None,
) -> RowWriter:
    if json_file:
        return JsonRowWriter(sink, collector.columns)
    return CsvRowWriter(sink, collector.header_line, collector.columns, marker)


def needs_json_file(vocabulary: ImportVocabulary, *, mirror: bool) -> bool:
    """Whether a sync run's import file must be JSON: only JSON clears on Pinpoint."""
    return mirror and vocabulary.clearing is Clearing.EMPTY_LIST


# ---------------------------------------------------------------------------- the merge


@dataclass
class DiffReport:
    rows_sent: int = 0
    rows_unchanged: int = 0
    rows_cleared: int = 0
    duplicates_rejected: int = 0  # rows rejected here, beyond the checks' own
    members: int = 0  # lines of the new snapshot
    members_listed: int = 0  # unchanged members listed by key (a Pinpoint segment refresh)
    bytes_written: int = 0  # the import file's size
    sample: list[RowRejection] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return self.rows_sent + self.rows_cleared

    @property
    def lines(self) -> int:
        """The import file's rows."""
        return self.rows_sent + self.rows_cleared + self.members_listed


def read_snapshot(source: Source) -> Iterator[tuple[bytes, bytes]]:
    """(key, digest) of every line of a snapshot, in its (sorted) order."""
    pending = b""
    while True:
        chunk = source.read(_READ_SIZE)
        data = pending + chunk
        end = data.rfind(b"\n") + 1 if chunk else len(data)
        for line in data[:end].splitlines():
            key, _, digest = line.partition(b"\t")
            yield key, bytes.fromhex(digest.decode("ascii"))
        pending = data[end:]
        if not chunk:
            return


def merge(
    entries: Iterator[Entry],
    previous: Iterator[tuple[bytes, bytes]],
    writer: RowWriter,
    snapshot: Sink,
    *,
    mirror: bool,
    list_members: bool = False,
    sample_room: int = MAX_SAMPLE,
) -> DiffReport:
    """One pass over the sorted rows and the last snapshot (see the module's table)."""
    report = DiffReport()
    writer.header()
    last = next(previous, None)
    for key, grouped in itertools.groupby(entries, key=lambda entry: entry[0]):
        group = iter(grouped)
        while last is not None and last[0] < key:
            _left(last[0], writer, report, mirror=mirror)
            last = next(previous, None)
        before = last[1] if last is not None and last[0] == key else None
        if before is not None:
            last = next(previous, None)
        rows = list(itertools.islice(group, 2))
        ambiguous = len(rows) > 1
        if ambiguous:
            rows.extend(group)
            _duplicates(rows, report, sample_room)
        if ambiguous or rows[0][2]:  # duplicated, or refused by the checks
            if before is not None:
                _keep(snapshot, key, before, report)
            continue
        _, _, _, digest, record = rows[0]
        if digest == before:
            report.rows_unchanged += 1
            if list_members:
                writer.member(key)
                report.members_listed += 1
        else:
            report.rows_sent += 1
            writer.sent(record)
        _keep(snapshot, key, digest, report)
    while last is not None:
        _left(last[0], writer, report, mirror=mirror)
        last = next(previous, None)
    return report


def _keep(snapshot: Sink, key: bytes, digest: bytes, report: DiffReport) -> None:
    snapshot.write(key + b"\t" + digest.hex().encode() + b"\n")
    report.members += 1


def _left(key: bytes, writer: RowWriter, report: DiffReport, *, mirror: bool) -> None:
    if mirror:
        writer.cleared(key)
        report.rows_cleared += 1


def _duplicates(rows: list[Entry], report: DiffReport, sample_room: int) -> None:
    for _, row, held, _, _ in rows:
        if held:
            continue  # already rejected by the checks, and counted there
        report.duplicates_rejected += 1
        if len(report.sample) < sample_room:
            report.sample.append(
                RowRejection(
                    row_number=row,
                    code="DUPLICATE_ID",
                    column="Id",
                    message="the member's key is on more than one row of the result",
                )
            )


def spill_directory(stack: ExitStack) -> Path:
    """A temporary folder for the sort's runs, removed when `stack` closes."""
    return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sync-")))


__all__ = [
    "DiffReport",
    "ExternalSorter",
    "SyncCollector",
    "SyncPlan",
    "SyncState",
    "SyncStates",
    "merge",
    "needs_json_file",
    "read_snapshot",
    "row_writer",
    "snapshot_uri",
    "sync_scope",
]
