"""Benchmark 4: the query-validator's cost per query, against sqlglot's parse alone.

The corpus is the one the validator's unit tests judge (`tests/unit/query_validator/corpus.py`):
the original solution's examples, everyday queries and the tricky ones (comments, hidden
statements, nested WITH, 250 attributes), accepted and rejected alike.

Workloads, interleaved per query:

- ``validate``: `sql_rules.validate(sql, POLICY)`, what the handler calls for every request;
- ``parse``: sqlglot's tokenizer and parser in the same dialect, nothing else: the floor any
  validator built on a real parser pays.

A figure is the median of many runs of one query; the distribution over the corpus gives
the median and p95 milliseconds per query. The ratio is the corpus's total validate time over
its total parse time, so it says what the checks cost on top of parsing.
"""

from __future__ import annotations

import contextlib
import logging
import statistics
import time
from collections.abc import Callable, Iterator

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

from bench.harness import Options, Report, Timing, cost
from services.common.sql_rules import DIALECT, validate
from tests.unit.query_validator.corpus import CORPUS, POLICY

NAME = "validator"


def run(options: Options) -> Report:
    report = Report(NAME)
    runs = options.scaled(max(15, options.repeat * 5), max(3, options.repeat))
    queries = [case.sql for case in CORPUS]
    verdicts = [validate(sql, POLICY) for sql in queries]  # warm-up: dialect and caches
    accepted = sum(verdict.accepted for verdict in verdicts)
    mismatched = [
        case.name
        for case, verdict in zip(CORPUS, verdicts, strict=True)
        if set(verdict.codes) != set(case.codes)
    ]
    if mismatched:
        raise RuntimeError(f"the validator no longer judges the corpus right: {mismatched}")
    report.figure(
        f"{len(queries)} queries ({accepted} accepted, {len(queries) - accepted} rejected), "
        f"{runs} runs each, median per query"
    )

    with _sqlglot_quiet():
        for sql in queries:
            _parse(sql)
        per_query = [_time_query(sql, runs) for sql in queries]

    validate_ms = [1000 * v for v, _ in per_query]
    parse_ms = [1000 * p for _, p in per_query]
    for label, values in (("validate", validate_ms), ("parse", parse_ms)):
        report.figure(
            f"{label}: median {statistics.median(values):.2f} ms/query, "
            f"p95 {_percentile(values, 95):.2f} ms, max {max(values):.2f} ms"
        )
    per_query_ratio = [v / p for v, p in zip(validate_ms, parse_ms, strict=True) if p > 0]
    report.figure(
        f"validate/parse per query: median {statistics.median(per_query_ratio):.2f}x, "
        f"p95 {_percentile(per_query_ratio, 95):.2f}x"
    )
    # Whole-corpus passes, interleaved, for the ratio line (medians of repeated passes).
    passes = max(3, options.repeat)
    candidate, baseline = Timing("validate (corpus)"), Timing("sqlglot parse alone (corpus)")
    with _sqlglot_quiet():
        for _ in range(passes):
            candidate.seconds.append(_timed(lambda: [validate(sql, POLICY) for sql in queries]))
            baseline.seconds.append(_timed(lambda: [_parse(sql) for sql in queries]))
    report.figure(
        f"corpus pass: validate {1000 * candidate.median:.1f} ms, "
        f"parse {1000 * baseline.median:.1f} ms"
    )
    report.ratio(cost(NAME, candidate, baseline))
    return report


def _parse(sql: str) -> object:
    """sqlglot's tokenize + parse, as the validator's first step does it."""
    dialect = Dialect.get_or_raise(DIALECT)
    try:
        return dialect.parser().parse(dialect.tokenize(sql), sql)
    except (SqlglotError, RecursionError) as error:
        return error


def _time_query(sql: str, runs: int) -> tuple[float, float]:
    """Median seconds of validate and of parse for one query, run alternately."""
    validate_times, parse_times = [], []
    for _ in range(runs):
        validate_times.append(_timed(lambda: validate(sql, POLICY)))
        parse_times.append(_timed(lambda: _parse(sql)))
    return statistics.median(validate_times), statistics.median(parse_times)


def _timed(workload: Callable[[], object]) -> float:
    started = time.perf_counter()
    workload()
    return time.perf_counter() - started


def _percentile(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


@contextlib.contextmanager
def _sqlglot_quiet() -> Iterator[None]:
    """sqlglot warns when it falls back to a Command; the bare parse would print the query."""
    sqlglot_logger = logging.getLogger("sqlglot")
    level = sqlglot_logger.level
    sqlglot_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        sqlglot_logger.setLevel(level)
