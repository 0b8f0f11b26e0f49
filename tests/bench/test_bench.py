"""The benchmarks keep running: the harness's verdicts, and a quick run of all six (slow).

Nothing here times anything; figures are `make bench`'s business.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import BENCHMARKS, main
from bench.harness import Ratio, Timing, cost, speedup


def _timing(label: str, *seconds: float) -> Timing:
    return Timing(label, list(seconds))


def test_a_speedup_is_baseline_over_candidate_and_meets_an_at_least_target() -> None:
    ratio = speedup("b", _timing("fast", 1.0, 2.0, 1.0), _timing("slow", 6.0, 5.0, 7.0), target=5)
    assert ratio.value == 6.0
    assert ratio.met is True
    assert ratio.line() == "RATIO b: fast vs slow = 6.00x  (target >= 5x: met)"


def test_a_cost_is_candidate_over_baseline_and_meets_an_at_most_target() -> None:
    ratio = cost("b", _timing("reader", 3.0), _timing("floor", 1.0), target=2)
    assert ratio.value == 3.0
    assert ratio.met is False
    assert ratio.line().endswith("(target <= 2x: MISSED)")


def test_a_ratio_without_a_target_has_no_verdict() -> None:
    assert Ratio("b", "x", "y", 1.5).met is None
    assert "target" not in Ratio("b", "x", "y", 1.5).line()


def test_an_unknown_benchmark_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["no_such_benchmark"])
    assert "unknown benchmark" in capsys.readouterr().err


@pytest.mark.slow
def test_a_quick_run_of_every_benchmark_prints_its_ratios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--quick", "--repeat", "1", "--work-dir", str(tmp_path)]) == 0
    output = capsys.readouterr().out
    summary = json.loads((tmp_path / "latest.json").read_text())
    assert [report["name"] for report in summary["reports"]] == list(BENCHMARKS)
    for report in summary["reports"]:
        assert report["ratios"], f"{report['name']} printed no ratio"
    assert output.count("RATIO ") >= 2 * sum(len(r["ratios"]) for r in summary["reports"])
