"""Every CLI command against the local cloud: the stack's outputs come from LocalCloud."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from cli import main as cli_main
from cli.stack import StackOutputs
from cli.traces import run_traces
from infra.local import LocalCloud

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-lake")
    (root / "crm").mkdir()
    rows = "\n".join(f"{index:032x},gold" for index in range(1, 4))
    (root / "crm" / "part-0.csv").write_text(f"endpoint_id,plan\n{rows}\n")
    return root


@pytest.fixture(scope="module")
def cloud(lake: Path) -> Iterator[LocalCloud]:
    with LocalCloud(data_lake=lake) as running:
        running.run_until_idle()
        yield running


@pytest.fixture
def run(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Any:
    outputs = StackOutputs({key: str(value) for key, value in cloud.outputs.items()})
    monkeypatch.setattr(cli_main, "read_outputs", lambda client, name: outputs)

    def invoke(*argv: str) -> tuple[int, Any]:
        capsys.readouterr()  # drop what the services logged before the command
        code = cli_main.main([*argv, "--stack", "local", "--json"])
        out = capsys.readouterr().out
        return code, json.loads(out) if out.strip() else None

    return invoke


def test_query_submit_runs_show_and_trace(run: Any, cloud: LocalCloud, tmp_path: Path) -> None:
    sql = tmp_path / "gold.sql"
    # New endpoints need a channel and an address, or Pinpoint fails their rows.
    sql.write_text(
        """select endpoint_id as "Id", 'EMAIL' as "ChannelType",
                  'user-' || endpoint_id || '@example.com' as "Address",
                  plan as "Attributes.Plan" from crm"""
    )
    code, submitted = run("query", "submit", "--sql", str(sql), "--run-id", "cli-run")
    assert code == 0
    assert submitted == {"run_id": "cli-run"}
    cloud.run_until_idle()

    code, status = run("runs", "show", "cli-run")
    assert code == 0
    assert status["query"]["status"] == "SUCCEEDED"
    assert status["import"]["status"] == "COMPLETE"

    now = cloud.clock.now()
    from datetime import timedelta

    traces = run_traces(
        boto3.client("xray"),
        "cli-run",
        start=now - timedelta(days=1),
        end=now + timedelta(days=1),
        server_side_filter=False,
    )
    assert traces
    assert any("Importer" in name for name in traces[0].services())


def test_catalog_list_and_backfill(run: Any, cloud: LocalCloud) -> None:
    pinpoint = boto3.client("pinpoint")
    segment = pinpoint.create_segment(
        ApplicationId=cloud.outputs["PinpointProjectId"],
        WriteSegmentRequest={"Name": "Backfilled", "Dimensions": {}},
    )["SegmentResponse"]["Id"]
    code, _ = run("catalog", "backfill")  # no trail in this cloud: the backfill finds it
    assert code == 0
    cloud.run_until_idle()
    code, entries = run("catalog", "list", "--type", "segment")
    assert code == 0
    assert {entry["id"]: entry["name"] for entry in entries}[segment] == "Backfilled"


def test_unknown_run_is_reported(run: Any) -> None:
    code, status = run("runs", "show", "never-ran")
    assert code == 1
    assert status["found"] is False


def test_graph_and_query_check(run: Any, lake: Path, tmp_path: Path) -> None:
    code, edges = run("graph")
    assert code == 0
    assert any(edge["consumer"] == "importer" for edge in edges)
    sql = tmp_path / "check.sql"
    sql.write_text('select endpoint_id as "Id", plan as "Attributes.Plan" from crm')
    code, verdict = run("query", "check", "--sql", str(sql), "--data-lake", str(lake))
    assert code == 0
    assert verdict["data_lake"]["rows_to_import"] == 3


def test_readme_snippet_publishes_a_request(cloud: LocalCloud) -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    snippet = readme.split("```python\n", 1)[1].split("```", 1)[0]
    bus = str(cloud.outputs["EventBusName"])
    exec(snippet.replace('"pinpoint-lake-events"', repr(bus)), {})  # noqa: S102
    cloud.run_until_idle()
    found = boto3.client("dynamodb").scan(TableName=cloud.outputs["QueryRunsTableName"])
    assert found["Count"] >= 1


def test_a_saved_segment_runs_on_its_schedule_and_shows_its_runs(
    run: Any, cloud: LocalCloud, tmp_path: Path
) -> None:
    sql = tmp_path / "saved.sql"
    sql.write_text(
        """select endpoint_id as "Id", 'EMAIL' as "ChannelType",
                  'user-' || endpoint_id || '@example.com' as "Address",
                  plan as "Attributes.Plan" from crm"""
    )
    code, created = run(
        "schedule", "create", "gold-hourly", "--sql", str(sql), "--every", "rate(1 hour)"
    )
    assert code == 0

    cloud.advance(3600)  # fires at once, and an hour later
    cloud.run_until_idle()
    code, shown = run("schedule", "show", "gold-hourly")
    assert code == 0
    assert shown["arn"] == created["arn"]
    runs = shown["last_runs"]
    assert len(runs) == 2
    assert runs[0]["scheduled_time"] > runs[1]["scheduled_time"]  # latest first
    assert {(item["query"], item["import"]) for item in runs} == {("SUCCEEDED", "COMPLETE")}

    assert run("schedule", "pause", "gold-hourly")[0] == 0
    cloud.advance(2 * 3600)
    cloud.run_until_idle()
    code, shown = run("schedule", "show", "gold-hourly")
    assert len(shown["last_runs"]) == 2  # nothing fired while paused
    assert run("schedule", "delete", "gold-hourly")[0] == 0
    code, listed = run("schedule", "list")
    assert "gold-hourly" not in [item["name"] for item in listed]
