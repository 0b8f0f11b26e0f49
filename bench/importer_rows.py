"""Benchmark 3: the importer's row checks and copy (``services.importer.rows.check_rows``).

Generated Athena result files (CSV with a header, every value quoted, NULL as an empty
unquoted field, ``\\n`` line ends: infra/local/athena/csv_format.py) with an Id, a channel,
an address and five attribute columns (two of them carrying one multi-valued attribute),
as a segment query's SELECT writes them. Sizes: 1 M and 5 M rows (quick: 20 k and 100 k),
every row importable; plus a 1 M-row file (quick: 20 k) in which 2% of rows break one of
Pinpoint's rules, so the exact per-row check has work.

Workloads, interleaved per file, each reading the file from disk and writing to /dev/null:

- ``check_rows``: the importer's check and copy, as ``logic.import_result`` calls it;
- ``csv``: the plain Python way, ``csv.reader`` into a list, then ``csv.writer`` (no checks);
- ``csv-nogc`` (clean files only): the same with the cyclic garbage collector paused, which
  otherwise takes about half of its time scanning the growing list of rows;
- ``pyarrow``: ``pyarrow.csv`` read then write, single-threaded like the others (a floor of
  what parsing and writing CSV costs in C++, still without checks).

Targets are claims about the full sizes; a quick run prints its ratios without them.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.csv as pacsv

from bench.harness import (
    Options,
    Ratio,
    Report,
    Timing,
    cost,
    interleaved,
    mib,
    peak_traced_bytes,
    say,
    speedup,
    without_gc,
)
from infra.local.athena.csv_format import csv_line
from services.importer.rows import RowReport, check_rows

NAME = "importer_rows"
GENERATOR_VERSION = 1
HEADER = (
    "Id",
    "ChannelType",
    "Address",
    "Attributes.plan",
    "Attributes.country",
    "Attributes.language",
    "Attributes.interests",
    "Attributes.interests",
)
_PLANS = ("free", "basic", "pro", "enterprise", "trial")
_COUNTRIES = ("PT", "ES", "FR", "DE", "US", "BR", "GB", "IT", "NL", "JP")
_LANGUAGES = ("pt", "es", "fr", "de", "en", "ja", "it", "nl")
_INTERESTS = ("running", "cooking", "travel", "music", "finance", "gaming", "cinema", "books")
_CHANNELS = ("EMAIL", "EMAIL", "EMAIL", "SMS", "PUSH", "GCM", "APNS")


@dataclass(frozen=True)
class ResultFile:
    path: Path
    rows: int
    bad_share: float

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def result_file(options: Options, rows: int, bad_share: float = 0.0) -> ResultFile:
    """The result file of `rows` rows, generated once and cached in the work dir."""
    tag = hashlib.sha256(
        json.dumps([GENERATOR_VERSION, HEADER, rows, bad_share]).encode()
    ).hexdigest()[:12]
    path = options.work_dir / f"athena-result-{rows}-{round(bad_share * 100)}pct-{tag}.csv"
    if not path.exists():
        say(f"  generating {rows:,} rows ({bad_share:.0%} bad) in {path}")
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8", newline="") as out:
            out.write(csv_line(HEADER))
            batch: list[str] = []
            for line in _lines(rows, bad_share):
                batch.append(line)
                if len(batch) >= 10_000:
                    out.write("".join(batch))
                    batch.clear()
            out.write("".join(batch))
        partial.rename(path)  # renamed when whole, so a cached file is never a cut one
    return ResultFile(path, rows, bad_share)


def _lines(rows: int, bad_share: float) -> Iterator[str]:
    rng = random.Random(f"{GENERATOR_VERSION}:{rows}:{bad_share}")  # noqa: S311 - data
    for n in range(rows):
        name = f"user{n:08d}"
        cells: list[str | None] = [
            f"ep-{n:010d}",
            rng.choice(_CHANNELS),
            f"{name}@example.com",
            rng.choice(_PLANS),
            rng.choice(_COUNTRIES) if rng.random() < 0.95 else None,
            rng.choice(_LANGUAGES) if rng.random() < 0.9 else None,
            rng.choice(_INTERESTS),
            rng.choice(_INTERESTS) if rng.random() < 0.6 else None,
        ]
        if bad_share and rng.random() < bad_share:
            _break(rng, cells)
        yield csv_line(cells)


def _break(rng: random.Random, cells: list[str | None]) -> None:
    """Break one of Pinpoint's rules, the ways a careless SELECT does."""
    kind = rng.randrange(4)
    if kind == 0:
        cells[0] = None  # no Id
    elif kind == 1:
        cells[1] = "email"  # channel types are upper case
    elif kind == 2:
        cells[3] = "x" * 120  # an attribute over 100 characters
    else:
        cells[6] = 'say "hi"\nthere'  # a line break inside a value


# ---------------------------------------------------------------------- workloads


def checked(result: ResultFile) -> RowReport:
    with result.path.open("rb") as source, Path(os.devnull).open("wb") as sink:
        return check_rows(source, sink)


def csv_copy(result: ResultFile, rows: int | None = None) -> int:
    """Everything read into a list (the first `rows`, header included), then written.

    Returns the rows copied, header excluded.
    """
    with result.path.open(encoding="utf-8", newline="") as source:
        table = list(itertools.islice(csv.reader(source), None if rows is None else rows + 1))
    with Path(os.devnull).open("w", encoding="utf-8", newline="") as sink:
        csv.writer(sink, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(table)
    return len(table) - 1


def arrow_copy(result: ResultFile) -> int:
    table = pacsv.read_csv(result.path, read_options=pacsv.ReadOptions(use_threads=False))
    pacsv.write_csv(table, os.devnull)
    return int(table.num_rows)


# ---------------------------------------------------------------------- run


def run(options: Options) -> Report:
    report = Report(NAME)
    small, large = options.scaled(1_000_000, 20_000), options.scaled(5_000_000, 100_000)
    files = [
        result_file(options, small),
        result_file(options, large),
        result_file(options, small, bad_share=0.02),
    ]
    # Only the first file gets a warm-up round: its runs warm the code and the page cache for
    # the others. On the large file the csv baselines (5-10 s per million rows, 5-10 times
    # the candidate) run once: more runs would not move a >= 3x verdict, only the clock.
    _measure(options, report, files[0], warmup=1, baseline_runs=options.repeat)
    _measure(options, report, files[1], warmup=0, baseline_runs=1)
    _measure(options, report, files[2], warmup=0, baseline_runs=options.repeat)
    peaks = {result: _checked_peak(result) for result in files[:2]}
    for result, peak in peaks.items():
        report.figure(
            f"check_rows peak memory {mib(peak)} on {result.rows:,} rows ({mib(result.size)})"
        )
    report.ratio(
        Ratio(
            NAME,
            f"peak memory on {large:,} rows",
            f"on {small:,} rows",
            peaks[files[1]] / peaks[files[0]],
            target=None if options.quick else 1.5,
            at_most=True,
        )
    )
    # Traced, the csv baseline is slow; a fifth of the small file shows how it grows.
    prefix = small // 5
    csv_peak = peak_traced_bytes(lambda: csv_copy(files[0], rows=prefix))
    report.figure(
        f"csv peak memory {mib(csv_peak)} on {prefix:,} rows ({csv_peak / prefix:,.0f} bytes a row)"
    )
    return report


def _checked_peak(result: ResultFile) -> int:
    return peak_traced_bytes(lambda: checked(result))


def _measure(
    options: Options, report: Report, result: ResultFile, *, warmup: int, baseline_runs: int
) -> None:
    label = f"{result.rows // 1000:,}k rows" + (
        f", {result.bad_share:.0%} bad" if result.bad_share else ""
    )
    say(f" {label}: {mib(result.size)}")
    names = {kind: f"{kind}[{label}]" for kind in ("check_rows", "csv", "csv-nogc", "pyarrow")}
    workloads: dict[str, Callable[[], object]] = {
        names["check_rows"]: lambda: checked(result),
        names["csv"]: lambda: csv_copy(result),
        names["csv-nogc"]: without_gc(lambda: csv_copy(result)),
        names["pyarrow"]: lambda: arrow_copy(result),
    }
    if result.bad_share:  # what the collector costs the baseline is shown on the clean files
        del workloads[names["csv-nogc"]]
    runs = min(baseline_runs, options.repeat)
    timings = interleaved(workloads, repeat=runs, warmup=warmup)
    if runs < options.repeat:  # the candidate and the floor go on without the baselines
        more = {name: work for name, work in workloads.items() if not name.startswith("csv")}
        for name, timing in interleaved(more, repeat=options.repeat - runs, warmup=0).items():
            timings[name].seconds += timing.seconds
    candidate = timings[names["check_rows"]]
    checked_report: RowReport = candidate.result
    copied = {timing.result for name, timing in timings.items() if name != candidate.label}
    if copied != {result.rows} or checked_report.rows_read != result.rows:
        raise RuntimeError(f"{label}: the workloads disagree on the row count")
    if (checked_report.rows_rejected > 0) != (result.bad_share > 0):
        raise RuntimeError(f"{label}: {checked_report.rows_rejected} rows rejected")
    for timing in timings.values():
        report.figure(_throughput(timing, result))
    if result.bad_share:
        report.figure(f"{label}: {checked_report.rows_rejected:,} rows rejected")
    target = None if result.bad_share or options.quick else 3.0
    report.ratio(speedup(NAME, candidate, timings[names["csv"]], target=target))
    if names["csv-nogc"] in timings:
        report.ratio(speedup(NAME, candidate, timings[names["csv-nogc"]]))
    report.ratio(cost(NAME, candidate, timings[names["pyarrow"]]))


def _throughput(timing: Timing, result: ResultFile) -> str:
    seconds = timing.median
    return (
        f"{timing.label}: {seconds:.2f} s, {result.rows / seconds:,.0f} rows/s, "
        f"{result.size / 2**20 / seconds:,.0f} MiB/s"
    )
