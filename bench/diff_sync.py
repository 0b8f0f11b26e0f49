"""Benchmark 7: incremental syncs of a saved segment (``services.importer.sync``).

The result files of ``bench.importer_rows`` (an Id, a channel, an address and five attribute
columns): 1 M rows, and 5 M for memory (quick: 20 k and 100 k). A first sync of the 1 M file
writes the snapshot the others compare with; then, each from disk to /dev/null:

- ``full import``: the baseline, what a run without a sync key does (``check_rows`` and the
  copy);
- ``first sync``: no last sync, so every row is sent, and the snapshot is written;
- ``unchanged``: the same rows again (Athena's order is not promised, so they are sorted
  and merged like any other): 0 rows sent;
- ``1% changed``: every hundredth row's plan changed: 1% sent;
- ``2% left, mirror``: every fiftieth row gone, with ``mirror``: 2% cleared (a Pinpoint JSON
  import file, as a mirror writes it).

Each run checks its counts (a wrong count stops the benchmark). Ratios: each sync's time
and peak Python heap (tracemalloc, a separate pass) against the full import of the same
rows, and the unchanged sync's peak on 5 M rows against 1 M: flat in rows, since rows are
sorted in runs of at most ``RUN_BYTES`` spilled to temporary files and merged.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

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
)
from bench.importer_rows import ResultFile, checked, result_file
from infra.local.athena.csv_format import csv_line
from services.common.targets.pinpoint.imports import PINPOINT_IMPORTS
from services.importer.rows import RowReport, check_rows
from services.importer.sync import (
    RUN_BYTES,
    DiffReport,
    SyncCollector,
    merge,
    read_snapshot,
    row_writer,
    spill_directory,
)

NAME = "diff_sync"
CHANGED_EVERY = 100  # 1%
LEFT_EVERY = 50  # 2%


def derived(options: Options, base: ResultFile, kind: str) -> Path:
    """`base` with every hundredth plan changed ("changed") or every fiftieth row gone
    ("left"), generated once beside it."""
    path = options.work_dir / f"{base.path.stem}-{kind}.csv"
    if path.exists():
        return path
    say(f"  deriving {path}")
    partial = path.with_suffix(".partial")
    with (
        base.path.open(encoding="utf-8", newline="") as source,
        partial.open("w", encoding="utf-8", newline="") as out,
    ):
        reader = csv.reader(source)
        out.write(csv_line(next(reader)))
        for index, cells in enumerate(reader):
            if kind == "left" and index % LEFT_EVERY == 0:
                continue
            if kind == "changed" and index % CHANGED_EVERY == 0:
                cells[3] = "changed"
            out.write(csv_line(cell or None for cell in cells))
    partial.rename(path)
    return path


def sync(
    result: Path,
    previous: Path | None,
    *,
    mirror: bool = False,
    snapshot: Path | None = None,
    run_bytes: int = RUN_BYTES,
) -> tuple[RowReport, DiffReport]:
    """One sync as the importer runs it (`logic._write_sync`), files on disk."""
    with ExitStack() as stack:
        collector = SyncCollector(PINPOINT_IMPORTS, spill_directory(stack), run_bytes)
        with result.open("rb") as source:
            report = check_rows(source, collector, on_rejected=collector.rejected)
        last = (
            iter(())
            if previous is None
            else read_snapshot(stack.enter_context(previous.open("rb")))
        )
        sink = stack.enter_context(Path(os.devnull).open("wb"))
        written = stack.enter_context((snapshot or Path(os.devnull)).open("wb"))
        writer = row_writer(PINPOINT_IMPORTS, sink, collector, json_file=mirror)
        diff = merge(collector.sorter.sorted(stack), last, writer, written, mirror=mirror)
    return report, diff


def run(options: Options) -> Report:
    report = Report(NAME)
    small, large = options.scaled(1_000_000, 20_000), options.scaled(5_000_000, 100_000)
    # Quick inputs are a fiftieth of the full ones; so are the sort's runs, so a quick run
    # spills and merges like a full one.
    run_bytes = options.scaled(RUN_BYTES, RUN_BYTES // 50)
    base = result_file(options, small)
    changed, left = derived(options, base, "changed"), derived(options, base, "left")
    snapshot = options.work_dir / f"{base.path.stem}.snapshot"
    _, first = sync(base.path, None, snapshot=snapshot, run_bytes=run_bytes)
    _expect("first sync", first.rows_sent, small)
    report.figure(f"snapshot of {small:,} members: {mib(snapshot.stat().st_size)}")

    expected = {
        "first sync": small,
        "unchanged": 0,
        "1% changed": -(-small // CHANGED_EVERY),
        "2% left, mirror": -(-small // LEFT_EVERY),
    }
    workloads: dict[str, Callable[[], object]] = {
        "full import": lambda: checked(base),
        "first sync": lambda: sync(base.path, None, run_bytes=run_bytes),
        "unchanged": lambda: sync(base.path, snapshot, run_bytes=run_bytes),
        "1% changed": lambda: sync(changed, snapshot, run_bytes=run_bytes),
        "2% left, mirror": lambda: sync(left, snapshot, mirror=True, run_bytes=run_bytes),
    }
    timings = interleaved(workloads, repeat=options.repeat, warmup=0 if options.quick else 1)
    for label, count in expected.items():
        _, diff = timings[label].result
        done = diff.rows_cleared if "mirror" in label else diff.rows_sent
        _expect(label, done, count)
        report.figure(
            f"{label}: {timings[label].median:.2f} s; {diff.rows_sent:,} sent, "
            f"{diff.rows_unchanged:,} unchanged, {diff.rows_cleared:,} cleared"
        )
    report.figure(f"full import: {timings['full import'].median:.2f} s")
    baseline = timings["full import"]
    for label in expected:
        report.ratio(cost(NAME, _named(timings[label], f"{label} time"), baseline))

    full_peak = peak_traced_bytes(lambda: checked(base))
    peaks = {
        label: peak_traced_bytes(work) for label, work in workloads.items() if label in expected
    }
    report.figure(f"full import peak memory {mib(full_peak)} on {small:,} rows")
    for label, peak in peaks.items():
        report.figure(f"{label} peak memory {mib(peak)} on {small:,} rows")
        report.ratio(
            Ratio(NAME, f"{label} peak memory", "full import", peak / full_peak, None, True)
        )

    big = result_file(options, large)
    big_snapshot = options.work_dir / f"{big.path.stem}.snapshot"
    if not big_snapshot.exists():
        sync(big.path, None, snapshot=big_snapshot, run_bytes=run_bytes)
    big_peak = peak_traced_bytes(
        lambda: _expect_none(sync(big.path, big_snapshot, run_bytes=run_bytes))
    )
    report.figure(f"unchanged peak memory {mib(big_peak)} on {large:,} rows")
    report.ratio(
        Ratio(
            NAME,
            f"unchanged peak memory on {large:,} rows",
            f"on {small:,} rows",
            big_peak / peaks["unchanged"],
            target=None if options.quick else 1.5,
            at_most=True,
        )
    )
    return report


def _named(timing: Timing, label: str) -> Timing:
    return Timing(label, timing.seconds, timing.result)


def _expect(label: str, found: int, expected: int) -> None:
    if found != expected:
        raise RuntimeError(f"{label}: {found:,} rows where {expected:,} were expected")


def _expect_none(result: tuple[RowReport, DiffReport]) -> None:
    _expect("unchanged", result[1].rows_sent, 0)
