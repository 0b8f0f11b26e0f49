"""`python -m bench [NAME ...] [--quick] [--repeat N]`: run the benchmarks and their ratios."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import asdict
from pathlib import Path

from bench.harness import WORK_DIR, Options, Report, machine, say

# Run in this order: cheap and self-contained first, the local cloud last.
BENCHMARKS = (
    "cloudtrail_ingest",
    "api_economy",
    "importer_rows",
    "diff_sync",
    "validator",
    "cold_start",
    "end_to_end",
    "import_slots",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)}")
    parser.add_argument("--quick", action="store_true", help="small inputs: a smoke run")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per workload")
    parser.add_argument("--work-dir", type=Path, default=WORK_DIR, help="generated inputs")
    arguments = parser.parse_args(argv)
    unknown = sorted(set(arguments.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    options = Options(quick=arguments.quick, repeat=arguments.repeat, work_dir=arguments.work_dir)
    options.work_dir.mkdir(parents=True, exist_ok=True)

    say(f"machine: {machine()}{'  [quick]' if options.quick else ''}")
    reports: list[Report] = []
    for name in arguments.names or BENCHMARKS:
        say(f"\n== {name}")
        module = importlib.import_module(f"bench.{name}")
        reports.append(module.run(options))

    ratios = [ratio for report in reports for ratio in report.ratios]
    say("\n== summary")
    for ratio in ratios:
        say(ratio.line())
    missed = [ratio for ratio in ratios if ratio.met is False]
    say(f"{len(ratios)} ratios, {len(missed)} targets missed")
    summary = {
        "machine": machine(),
        "quick": options.quick,
        "reports": [
            {
                "name": report.name,
                "figures": report.figures,
                "ratios": [{**asdict(ratio), "met": ratio.met} for ratio in report.ratios],
            }
            for report in reports
        ],
    }
    (options.work_dir / "latest.json").write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
