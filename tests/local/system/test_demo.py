"""`make demo` runs the whole system: it is run here, smaller, and its report checked."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cli.demo.connect import CONNECT_SEGMENT
from cli.demo.queries import DEMO_QUERIES
from cli.demo.run import run_demo

pytestmark = pytest.mark.system


def test_the_demo_runs_every_scenario_and_leaves_no_dead_letters(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_demo(json_output=True, endpoints=400, keep=str(tmp_path), out=out) == 0
    report = json.loads(out.getvalue())

    names = {entry["name"] for entry in report["catalog"]}
    assert "Spring sale (extended)" in names
    assert "Referral program (draft)" not in names  # DRAFT journeys are not cataloged
    assert "Birthday greetings" in names  # published after it was created as a draft
    kinds = {change["change"] for change in report["catalog_changes"]}
    assert {"created", "renamed", "deleted"} <= kinds

    outcomes = {run["run"]: run for run in report["runs"]}
    for query in DEMO_QUERIES:
        run = outcomes[query.run_id]
        if query.expected == "imported":
            assert run["outcome"] == "complete", run
        elif query.expected == "dry_run":
            assert run["outcome"] == "dry_run", run
        elif query.expected == "rejected":
            assert run["events"] == "QueryRejected", run
        else:
            assert run["outcome"] == "FAILED", run
    assert len(report["notifications"]) == len(DEMO_QUERIES)
    services = json.dumps(report["trace"])
    for function in ("QueryValidator", "QueryRunner", "Importer", "Notifier"):
        assert function in services

    # The Connect part: both platforms in one catalog, a connect run, its segment definition.
    assert {entry["platform"] for entry in report["catalog"]} == {"pinpoint", "connect"}
    connect = {
        entry["name"]: entry for entry in report["catalog"] if entry["platform"] == "connect"
    }
    assert {entry["type"] for entry in connect.values()} == {"campaign", "journey", "segment"}
    run = report["connect_run"]
    assert (run["target"], run["outcome"]) == ("connect", "complete"), run
    assert run["profiles_updated"] == len(report["connect_profiles"]) > 0
    assert run["segment_definition"] == CONNECT_SEGMENT
    for profile in report["connect_profiles"]:
        assert "Plan" in profile["attributes"]
    assert report["connect_segment"]["name"] == CONNECT_SEGMENT
    assert report["connect_segment"]["type"] == "CLASSIC"
    assert "Importer" in json.dumps(report["connect_trace"])

    # The catalog in the lake: the lake's events by name, joined in Athena.
    by_name = {row["name"]: row for row in report["catalog_report"]}
    assert int(by_name["Spring sale (extended)"]["sends"]) > 0  # renamed: the new name
    assert "Spring sale" not in by_name
    assert by_name["Survey invitation"]["deleted"] == "true"  # deleted: kept, and marked
    assert int(by_name["Onboarding"]["journey_sends"]) > 0
    assert "Referral program (draft)" not in by_name  # never cataloged: no name to join
    sends = sum(int(row["sends"]) for row in report["catalog_report"])
    assert sends == report["data_lake"]["tables"]["email_send"]  # every send has a name
    assert report["dead_letters"] == {}


def test_the_readable_demo_keeps_service_logs_out_of_its_output(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_demo(endpoints=200, keep=str(tmp_path), out=out) == 0
    text = out.getvalue()
    assert "== Segment runs" in text
    assert "== Connect run" in text
    assert "== Engagement by name" in text
    assert '{"level"' not in text
    assert (tmp_path / "services.log").stat().st_size > 0
