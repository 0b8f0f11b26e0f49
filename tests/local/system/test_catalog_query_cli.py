"""`pinpoint-lake catalog query --sql FILE` without --stack: a local cloud holding the
demo's catalog and sample lake, and the report run in its Athena."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import main as cli_main
from cli.demo.report import report_sql

pytestmark = pytest.mark.system


def test_a_report_runs_on_a_local_cloud_seeded_like_the_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "engagement.sql"
    report.write_text(report_sql("pinpoint_lake_catalog", "due_eventdb"))

    assert cli_main.main(["catalog", "query", "--sql", str(report), "--json"]) == 0

    answer = json.loads(capsys.readouterr().out)  # services' logs went to a file
    by_name = {row["name"]: row for row in answer["rows"]}
    assert answer["columns"][:3] == ["type", "name", "deleted"]
    assert int(by_name["Spring sale (extended)"]["sends"]) > 0
    assert by_name["Survey invitation"]["deleted"] == "true"
    assert int(by_name["Onboarding"]["journey_sends"]) > 0
