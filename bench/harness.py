"""What every benchmark shares: repeated timings, medians, peak memory and ratio lines.

These machines are noisy, so a figure is the median of several runs and every claim is a
ratio against a baseline measured in the same run, never an absolute time.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# Generated inputs live here between runs; they are deterministic, so a cached file is the
# file a fresh run would write.
WORK_DIR = Path(".bench")


@dataclass(frozen=True)
class Options:
    """Settings of one `make bench` run."""

    quick: bool = False
    repeat: int = 3
    work_dir: Path = WORK_DIR

    def scaled(self, full: int, quick: int) -> int:
        return quick if self.quick else full


@dataclass
class Timing:
    """Wall-clock seconds of repeated runs of one workload."""

    label: str
    seconds: list[float] = field(default_factory=list)
    result: Any = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass(frozen=True)
class Ratio:
    """How many times faster (or smaller) the candidate is than the baseline."""

    benchmark: str
    candidate: str
    baseline: str
    value: float
    target: float | None = None
    # A target may be "at least N times the baseline" (speed-up) or "at most N times" (cost).
    at_most: bool = False

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.value <= self.target if self.at_most else self.value >= self.target

    def line(self) -> str:
        verdict = ""
        if self.target is not None:
            bound = "<=" if self.at_most else ">="
            verdict = f"  (target {bound} {self.target:g}x: {'met' if self.met else 'MISSED'})"
        return (
            f"RATIO {self.benchmark}: {self.candidate} vs {self.baseline} = "
            f"{self.value:.2f}x{verdict}"
        )


@dataclass
class Report:
    """The figures and ratios one benchmark produced."""

    name: str
    figures: list[str] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)

    def figure(self, text: str) -> None:
        self.figures.append(text)
        say(f"  {text}")

    def ratio(self, ratio: Ratio) -> Ratio:
        self.ratios.append(ratio)
        say(ratio.line())
        return ratio


def say(text: str) -> None:
    print(text, flush=True)


def time_runs(label: str, workload: Callable[[], T], *, repeat: int, warmup: int = 0) -> Timing:
    """Run `workload` warmup + repeat times and keep the timings of the measured runs."""
    timing = Timing(label)
    for run in range(warmup + repeat):
        gc.collect()
        started = time.perf_counter()
        result = workload()
        elapsed = time.perf_counter() - started
        if run >= warmup:
            timing.seconds.append(elapsed)
            timing.result = result
    return timing


def interleaved(
    workloads: dict[str, Callable[[], Any]], *, repeat: int, warmup: int = 1
) -> dict[str, Timing]:
    """Time several workloads round-robin so drift in machine load hits them all alike."""
    timings = {label: Timing(label) for label in workloads}
    for run in range(warmup + repeat):
        for label, workload in workloads.items():
            gc.collect()
            started = time.perf_counter()
            result = workload()
            elapsed = time.perf_counter() - started
            if run >= warmup:
                timings[label].seconds.append(elapsed)
                timings[label].result = result
    return timings


def without_gc(workload: Callable[[], T]) -> Callable[[], T]:
    """`workload` run with the cyclic garbage collector paused.

    A baseline that builds a large graph of objects (json.load of a file, csv rows in a list)
    spends much of its time in collections that find nothing; paused, it shows what that
    baseline costs once tuned, so a ratio against it does not rest on the collector.
    """

    def paused() -> T:
        gc.disable()
        try:
            return workload()
        finally:
            gc.enable()

    return paused


def peak_traced_bytes(workload: Callable[[], object]) -> int:
    """Peak Python heap allocated while `workload` runs (a separate, slower pass)."""
    gc.collect()
    tracemalloc.start()
    try:
        workload()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def speedup(
    benchmark: str, candidate: Timing, baseline: Timing, *, target: float | None = None
) -> Ratio:
    """Baseline time over candidate time: above 1 means the candidate is faster."""
    return Ratio(
        benchmark, candidate.label, baseline.label, baseline.median / candidate.median, target
    )


def cost(
    benchmark: str, candidate: Timing, baseline: Timing, *, target: float | None = None
) -> Ratio:
    """Candidate time over baseline time: how many times the baseline's cost it takes."""
    return Ratio(
        benchmark, candidate.label, baseline.label, candidate.median / baseline.median, target, True
    )


def mib(size: float) -> str:
    return f"{size / 2**20:,.1f} MiB"


def machine() -> str:
    """One line on where the figures came from."""
    return (
        f"{platform.machine()} {platform.processor() or platform.platform()}, "
        f"{os.cpu_count()} cpus, Python {sys.version.split()[0]}"
    )
