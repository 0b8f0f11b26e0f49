"""Athena result rows in, Pinpoint import rows out: the checks and the streaming copy.

Pure (the standard library and the contract models, no AWS): bytes are read from a
``Source`` and written to a ``Sink`` a chunk at a time, so memory stays flat however many
rows the result has.

Athena's result CSV quotes every value (``"a","b"``), doubles embedded quotes, writes NULL
as an empty unquoted field and ends records with ``\\n`` (infra/local/athena/csv_format.py).
That is valid CSV for Pinpoint as it stands, so a row that passes the checks is copied byte
for byte; only the header is rewritten (plain, unquoted names where possible).

Speed: most rows are checked by one compiled regular expression per header, matched over
a whole chunk at C speed (``_fast_pattern``); it accepts only rows that certainly pass.
Every row it stops at goes through the exact per-row check (``_problem``, with the ``csv``
module), which decides and names the reason. The fast path is an optimisation only: with
it off, the output is the same (a test holds the two to that).

The rules mirror Pinpoint's import rules as the local emulator applies them
(infra/local/pinpoint/import_rows.py and endpoints.py), so a row written here is not failed
by the import job for a reason visible in the row itself. What cannot be known from the row
is left to Pinpoint: a *new* endpoint needs Address and ChannelType, and attributes merge
with those the endpoint already has (the merged endpoint must stay within 15 KB and the
project within 250 attribute names).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from contracts import ImportCounts, RowRejection
from services.common.targets.imports import ImportColumn as Column
from services.common.targets.imports import ImportVocabulary, record_item
from services.common.targets.imports import ValueKind as Kind
from services.common.targets.pinpoint.imports import PINPOINT_IMPORTS

MAX_SAMPLE = 20
CHUNK_SIZE = 1 << 20
# No importable row comes near this (an endpoint is at most 15 KB); a longer one means a
# quote that never closes, and reading on would hold the rest of the file in memory.
MAX_PENDING_BYTES = 16 << 20


class InvalidResultError(ValueError):
    """The result file as a whole cannot be imported; the message says why (no values)."""


def parse_header(
    header: Sequence[str], vocabulary: ImportVocabulary = PINPOINT_IMPORTS
) -> list[Column]:
    """The columns of a result header, or InvalidResultError (the target would fail the job)."""
    if not header or header == [""]:
        raise InvalidResultError("the result file has no header row")
    columns = [_column(name, vocabulary) for name in header]
    seen: set[str] = set()
    for column in columns:
        if column.kind is not Kind.ATTRIBUTE and column.header in seen:
            raise InvalidResultError(f"column {column.header!r} appears more than once")
        seen.add(column.header)
    target, limits = vocabulary.target, vocabulary.limits
    if limits.max_values_per_attribute <= 1:
        writers: dict[tuple[str, ...], str] = {}
        for column in columns:
            other = writers.setdefault(column.path, column.header)
            if other != column.header:
                raise InvalidResultError(
                    f"columns {other!r} and {column.header!r} both write "
                    f"{'.'.join(column.path)}, and a {target} field holds one value"
                )
    if not any(column.kind is Kind.ID for column in columns):
        raise InvalidResultError(
            f"the result has no {vocabulary.id_column} column ({target} updates need one)"
        )
    custom = {column.path for column in columns if column.family is not None}
    if len(custom) > limits.max_custom_attributes:
        raise InvalidResultError(
            f"the result has {len(custom)} custom attribute columns; a {target} project "
            f"holds at most {limits.max_custom_attributes}"
        )
    return columns


def _column(header: str, vocabulary: ImportVocabulary) -> Column:
    column = vocabulary.column(header)
    if column is not None and column.family is not None:
        name = column.attribute_name or ""
        if not name:
            column = None  # "Attributes." names no attribute: not a column
        elif len(name) > vocabulary.limits.max_attribute_name:
            raise InvalidResultError(
                f"the attribute name in column {header!r} is longer than "
                f"{vocabulary.limits.max_attribute_name} characters"
            )
        elif not vocabulary.attribute_name_is_valid(name):
            raise InvalidResultError(
                f"the attribute name in column {header!r} holds characters {vocabulary.target} "
                f"does not take (only {vocabulary.attribute_name_help})"
            )
    unavailable = vocabulary.unavailable_reason(header) if column is None else None
    if unavailable is not None:
        raise InvalidResultError(
            f"column {header!r} cannot be imported into {vocabulary.target}: {unavailable}"
        )
    if column is None:
        raise InvalidResultError(
            f"column {header!r} is not a {vocabulary.target} import column (names are case "
            "sensitive and use dot notation)"
        )
    return column


# ---------------------------------------------------------------------------- row checks


@dataclass(frozen=True)
class Problem:
    code: str
    column: str | None
    message: str


# An email address as Customer Profiles' EMAIL_ADDRESS content type takes it.
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)


@dataclass(frozen=True)
class Plan:
    """What the checks need to know of one header, worked out once."""

    vocabulary: ImportVocabulary
    columns: list[Column]
    repeated: dict[tuple[str, ...], int]  # attribute path -> columns carrying it (if > 50)
    max_line_bytes: int  # a record no longer than this cannot make a too-large endpoint
    fast: re.Pattern[bytes] | None
    # Positions of the columns each check reads
    ids: tuple[int, ...]
    attributes: tuple[int, ...]
    numbers: tuple[int, ...]
    channels: tuple[int, ...]
    opt_outs: tuple[int, ...]
    emails: tuple[int, ...] = ()
    texts: tuple[int, ...] = ()  # the fixed columns whose length the target bounds

    @classmethod
    def for_header(
        cls,
        header: Sequence[str],
        *,
        fast: bool = True,
        vocabulary: ImportVocabulary = PINPOINT_IMPORTS,
    ) -> Plan:
        limits = vocabulary.limits
        columns = parse_header(header, vocabulary)
        counts: dict[tuple[str, ...], int] = {}
        for column in columns:
            counts[column.path] = counts.get(column.path, 0) + 1
        repeated = {path: n for path, n in counts.items() if n > limits.max_values_per_attribute}
        # Each byte of a value takes at most 6 bytes in the endpoint's JSON (\\uXXXX), and
        # the record's length bounds the bytes of its values; see _endpoint_bytes.
        skeleton = _endpoint_bytes(vocabulary, columns, ["x"] * len(columns), numbers=False)
        max_line_bytes = (limits.max_record_bytes - skeleton) // 6
        use_fast = fast and not repeated and max_line_bytes > 0
        pattern = _fast_pattern(vocabulary, columns, max_line_bytes) if use_fast else None

        def positions(kind: Kind) -> tuple[int, ...]:
            return tuple(i for i, column in enumerate(columns) if column.kind is kind)

        return cls(
            vocabulary,
            columns,
            repeated,
            max_line_bytes,
            pattern,
            ids=positions(Kind.ID),
            attributes=positions(Kind.ATTRIBUTE),
            numbers=positions(Kind.NUMBER),
            channels=positions(Kind.CHANNEL),
            opt_outs=positions(Kind.OPT_OUT),
            emails=positions(Kind.EMAIL),
            texts=(
                ()
                if limits.max_text_value is None
                else tuple(
                    i
                    for i, column in enumerate(columns)
                    if column.kind in {Kind.ID, Kind.TEXT, Kind.EMAIL}
                )
            ),
        )


class _OneLine:
    """Feeds a csv reader one record at a time (a record may hold quoted newlines)."""

    def __init__(self) -> None:
        self.text: str | None = None

    def __iter__(self) -> _OneLine:
        return self

    def __next__(self) -> str:
        text, self.text = self.text, None
        if text is None:
            raise StopIteration
        return text


class RecordParser:
    """The values of one CSV record; one reader reused, as building one per row is slow."""

    def __init__(self) -> None:
        self._feed = _OneLine()
        self._reader = csv.reader(self._feed, strict=True)

    def cells(self, text: str) -> list[str] | None:
        """The record's values, or None when it is not valid CSV."""
        self._feed.text = text
        try:
            cells = next(self._reader)
        except (csv.Error, StopIteration):
            self._reader = csv.reader(self._feed, strict=True)  # start clean
            return None
        return cells


_PARSER = RecordParser()


def _problem(plan: Plan, record: bytes) -> Problem | None:  # noqa: PLR0911, PLR0912
    """Why one record (its bytes, as in the file) cannot be imported; None if it can."""
    try:
        text = record.decode("utf-8")
    except UnicodeDecodeError:
        return Problem("INVALID_ENCODING", None, "the row is not valid UTF-8")
    cells = _PARSER.cells(text)
    if cells is None:
        return Problem("MALFORMED_ROW", None, "the row is not valid CSV")
    columns, target, limits = plan.columns, plan.vocabulary.target, plan.vocabulary.limits
    allowed = plan.vocabulary.allowed_values
    if not cells:
        cells = [""] * len(columns)  # a blank line: every value NULL
    if len(cells) != len(columns):
        return Problem(
            "WRONG_FIELD_COUNT", None, f"expected {len(columns)} values, found {len(cells)}"
        )
    for i in plan.ids:
        if not cells[i].strip():
            return Problem("MISSING_ID", columns[i].header, "the Id is missing or empty")
    body = text.rstrip("\r\n")
    if "\t" in body or "\r" in body or "\n" in body:
        for column, cell in zip(columns, cells, strict=True):
            if "\t" in cell or "\r" in cell or "\n" in cell:
                return Problem(
                    "LINE_BREAK_OR_TAB", column.header, "the value contains a line break or a tab"
                )
    for i in plan.attributes:
        if len(cells[i]) > limits.max_attribute_value:
            return Problem(
                "VALUE_TOO_LONG",
                columns[i].header,
                f"the value is {len(cells[i])} characters; {target} allows "
                f"{limits.max_attribute_value}",
            )
    for i in plan.texts:
        if len(cells[i]) > (limits.max_text_value or 0):
            return Problem(
                "VALUE_TOO_LONG",
                columns[i].header,
                f"the value is {len(cells[i])} characters; {target} allows {limits.max_text_value}",
            )
    for i in plan.emails:
        if cells[i].strip() and _EMAIL.fullmatch(cells[i].strip()) is None:
            return Problem(
                "INVALID_EMAIL", columns[i].header, f"the value is not an email address ({target})"
            )
    for i in plan.numbers:
        if cells[i] and not _is_finite_number(cells[i]):
            return Problem("NOT_A_NUMBER", columns[i].header, "the value is not a finite number")
    for i in plan.channels:
        if cells[i] and cells[i] not in allowed[Kind.CHANNEL]:
            return Problem(
                "INVALID_CHANNEL_TYPE",
                columns[i].header,
                f"the value is not a {target} channel type",
            )
    for i in plan.opt_outs:
        if cells[i] and cells[i] not in allowed[Kind.OPT_OUT]:
            return Problem(
                "INVALID_OPT_OUT", columns[i].header, "the value is neither ALL nor NONE"
            )
    if plan.repeated:
        problem = _too_many_values(plan, cells)
        if problem is not None:
            return problem
    if len(record) > plan.max_line_bytes:
        size = _endpoint_bytes(plan.vocabulary, columns, cells)
        if size > limits.max_record_bytes:
            return Problem(
                "ENDPOINT_TOO_LARGE",
                None,
                f"the endpoint would be about {size} bytes; {target} allows "
                f"{limits.max_record_bytes}",
            )
    return None


def _is_finite_number(text: str) -> bool:
    return _NUMBER.fullmatch(text) is not None and math.isfinite(float(text))


def _too_many_values(plan: Plan, cells: Sequence[str]) -> Problem | None:
    for path in plan.repeated:
        values = [
            cell for column, cell in zip(plan.columns, cells, strict=True) if column.path == path
        ]
        count = sum(1 for cell in values if cell)
        most = plan.vocabulary.limits.max_values_per_attribute
        if count > most:
            header = next(column.header for column in plan.columns if column.path == path)
            return Problem(
                "TOO_MANY_VALUES",
                header,
                f"{count} values; {plan.vocabulary.target} allows {most} per attribute",
            )
    return None


def _endpoint_bytes(
    vocabulary: ImportVocabulary,
    columns: Sequence[Column],
    cells: Sequence[str],
    *,
    numbers: bool = True,
) -> int:
    """The record's JSON size as the target counts it, with room for the fields it adds."""
    item = record_item(columns, cells, numbers=numbers)
    return len(json.dumps(item, separators=(",", ":"))) + vocabulary.limits.record_allowance


# ---------------------------------------------------------------------------- fast path


def _fast_fields(vocabulary: ImportVocabulary) -> dict[Kind, bytes]:
    def one_of(kind: Kind) -> bytes:
        values = sorted(vocabulary.allowed_values.get(kind, ()), key=lambda v: (-len(v), v))
        return rb'(?:"(?:' + b"|".join(re.escape(v.encode()) for v in values) + rb')?"|)'

    most = vocabulary.limits.max_text_value
    longest = b"*+" if most is None else b"{0,%d}+" % most
    rest = b"*+" if most is None else b"{0,%d}+" % (most - 1)
    return {
        Kind.ID: rb'"[^"\s][^"\t\r\n]' + rest + b'"',
        # Values with embedded (doubled) quotes take the exact path.
        Kind.TEXT: rb'(?:"[^"\t\r\n]' + longest + rb'"|)',
        Kind.EMAIL: rb'(?:"(?=[^"]' + (b"*" if most is None else b"{0,%d}" % most) + rb'")'
        rb'[^"\s@]+@[^"\s@]+\.[^"\s@]+"|)',
        Kind.ATTRIBUTE: rb'(?:"[^"\t\r\n]{0,%d}+"|)' % vocabulary.limits.max_attribute_value,
        # Numbers as Athena renders them (42, -0.5, 1.0E10, 2.5E-7). At most 40 digits each
        # side of the point and a two-digit exponent: always finite.
        Kind.NUMBER: rb'(?:"-?[0-9]{1,40}+(?:\.[0-9]{1,40}+)?(?:E-?[0-9]{1,2}+)?"|)',
        Kind.CHANNEL: one_of(Kind.CHANNEL),
        Kind.OPT_OUT: one_of(Kind.OPT_OUT),
    }


def _fast_pattern(
    vocabulary: ImportVocabulary, columns: Sequence[Column], max_line_bytes: int
) -> re.Pattern[bytes]:
    """Matches a run of records that certainly pass: one line each, every check met.

    Byte lengths stand in for character lengths (a value of at most 100 bytes has at most
    100 characters); a record the pattern stops at is checked exactly by ``_problem``.
    """
    fields = _fast_fields(vocabulary)
    record = (
        rb"(?=[^\n]{0,%d}+\n)" % max_line_bytes
        + b",".join(fields[column.kind] for column in columns)
        + b"\n"
    )
    return re.compile(rb"(?:" + record + rb")*+")


# ---------------------------------------------------------------------------- streaming


class Source(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Sink(Protocol):
    def write(self, data: bytes | memoryview, /) -> object: ...


@dataclass
class RowReport:
    rows_read: int = 0
    rows_rejected: int = 0
    bytes_written: int = 0
    sample: list[RowRejection] = field(default_factory=list)
    columns: tuple[str, ...] = ()  # the result's columns, as the query named them

    @property
    def rows_to_import(self) -> int:
        return self.rows_read - self.rows_rejected

    @property
    def counts(self) -> ImportCounts:
        # Without a sync every row that passes is sent.
        return ImportCounts(
            rows_read=self.rows_read,
            rows_rejected=self.rows_rejected,
            rows_to_import=self.rows_to_import,
            rows_in_result=self.rows_read,
            rows_sent=self.rows_to_import,
            rows_unchanged=0,
            rows_cleared=0,
        )


# Told of every rejected record, in file order among the records written (None: a last
# record whose quoted value never ends), so a sync can tell a present member from a leaver.
OnRejected = Callable[[bytes | None], None]


class _Copier:
    def __init__(
        self, plan: Plan, sink: Sink, report: RowReport, on_rejected: OnRejected | None = None
    ) -> None:
        self.plan = plan
        self.sink = sink
        self.report = report
        self.on_rejected = on_rejected

    def write(self, data: bytes | memoryview) -> None:
        self.sink.write(data)
        self.report.bytes_written += len(data)

    def slow(self, record: bytes) -> None:
        report = self.report
        report.rows_read += 1
        problem = _problem(self.plan, record)
        if problem is None:
            self.write(record if record.endswith(b"\n") else record + b"\n")
            return
        report.rows_rejected += 1
        if self.on_rejected is not None:
            self.on_rejected(record)
        if len(report.sample) < MAX_SAMPLE:
            report.sample.append(
                RowRejection(
                    row_number=report.rows_read,
                    code=problem.code,
                    column=problem.column,
                    message=problem.message,
                )
            )

    def malformed(self) -> None:
        """A last record whose quoted value never ends."""
        report = self.report
        report.rows_read += 1
        report.rows_rejected += 1
        if self.on_rejected is not None:
            self.on_rejected(None)
        if len(report.sample) < MAX_SAMPLE:
            report.sample.append(
                RowRejection(
                    row_number=report.rows_read,
                    code="MALFORMED_ROW",
                    message="the row ends inside a quoted value",
                )
            )

    def chunk(self, data: bytes, limit: int, *, at_end: bool) -> int:
        """Copy the records of ``data[:limit]``; returns where the unfinished one starts."""
        fast = self.plan.fast
        if fast is not None and not _is_utf8(data, limit):
            fast = None  # find the bad rows one by one
        view = memoryview(data)
        pos = 0
        while pos < limit:
            if fast is not None:
                match = fast.match(data, pos, limit)
                end = match.end() if match else pos
                if end > pos:
                    self.report.rows_read += data.count(b"\n", pos, end)
                    self.write(view[pos:end])
                    pos = end
                    if pos >= limit:
                        break
            record_end = _record_end(data, pos, limit, at_end=at_end)
            if record_end is None:
                if not at_end:
                    break  # the record continues in the next chunk
                self.malformed()
                return limit
            self.slow(data[pos:record_end])
            pos = record_end
        return pos


def _is_utf8(data: bytes, limit: int) -> bool:
    if data.isascii():
        return True
    try:
        data[:limit].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _record_end(data: bytes, pos: int, limit: int, *, at_end: bool) -> int | None:
    """The end (after its newline) of the CSV record starting at ``pos``, or None.

    A newline ends the record when the quotes before it are balanced: every value is
    either unquoted or a quoted string whose own quotes are doubled. At the end of the file
    the last record may lack its newline.
    """
    quotes = 0
    start = pos
    while True:
        newline = data.find(b"\n", start, limit)
        if newline < 0:
            quotes += data.count(b'"', start, limit)
            return limit if at_end and pos < limit and quotes % 2 == 0 else None
        quotes += data.count(b'"', start, newline)
        if quotes % 2 == 0:
            return newline + 1
        start = newline + 1


def check_rows(
    source: Source,
    sink: Sink,
    *,
    chunk_size: int = CHUNK_SIZE,
    fast: bool = True,
    vocabulary: ImportVocabulary = PINPOINT_IMPORTS,
    on_rejected: OnRejected | None = None,
) -> RowReport:
    """Check every row of an Athena result, writing the importable ones (with a header).

    Raises InvalidResultError when the file as a whole cannot be imported.
    """
    data, eof = b"", False
    while True:
        header_end = _record_end(data, 0, len(data), at_end=eof)
        if header_end is not None or eof:
            break
        if len(data) > MAX_PENDING_BYTES:
            raise InvalidResultError(f"the header runs past {MAX_PENDING_BYTES} bytes")
        chunk = source.read(chunk_size)
        eof = not chunk
        data += chunk
    if header_end is None:
        header_end = len(data)  # no header, or one whose quotes never close
    plan = Plan.for_header(_header(data[:header_end]), fast=fast, vocabulary=vocabulary)
    report = RowReport(columns=tuple(column.header for column in plan.columns))
    copier = _Copier(plan, sink, report, on_rejected)
    copier.write(_header_line(vocabulary, plan.columns))
    data = data[header_end:]
    while True:
        limit = len(data) if eof else data.rfind(b"\n") + 1
        pos = copier.chunk(data, limit, at_end=eof)
        if eof:
            return report  # at the end every byte belongs to some record
        if len(data) - pos > MAX_PENDING_BYTES:
            raise InvalidResultError(
                f"a row runs past {MAX_PENDING_BYTES} bytes: a quoted value never ends"
            )
        chunk = source.read(chunk_size)
        eof = not chunk
        data = data[pos:] + chunk


def _header(record: bytes) -> list[str]:
    try:
        text = record.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise InvalidResultError("the result file is not UTF-8") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise InvalidResultError("the header row is not valid CSV") from None
    return rows[0] if rows else []


def _header_line(vocabulary: ImportVocabulary, columns: Sequence[Column]) -> bytes:
    out = io.StringIO()
    names = [vocabulary.file_column(column) for column in columns]
    csv.writer(out, lineterminator="\n").writerow(names)
    return out.getvalue().encode("utf-8")
