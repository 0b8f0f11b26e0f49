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


def test_query_submit_syncs_a_key_and_refreshes_a_segment_by_id(
    run: Any, cloud: LocalCloud, tmp_path: Path
) -> None:
    sql = tmp_path / "plans.sql"
    sql.write_text(
        """select endpoint_id as "Id", 'EMAIL' as "ChannelType",
                  'user-' || endpoint_id || '@example.com' as "Address",
                  plan as "Attributes.Plan" from crm"""
    )
    for run_id in ("cli-sync-1", "cli-sync-2"):
        code, _ = run("query", "submit", "--sql", str(sql), "--run-id", run_id, "--sync-key", "k")
        assert code == 0
        cloud.run_until_idle()
    code, first = run("runs", "show", "cli-sync-1")
    assert (first["import"]["status"], first["import"]["rows_sent"]) == ("COMPLETE", 3)
    code, second = run("runs", "show", "cli-sync-2")
    shown = second["import"]
    assert shown["status"] == "NOTHING_TO_IMPORT"
    assert (shown["rows_in_result"], shown["rows_sent"], shown["rows_unchanged"]) == (3, 0, 3)
    assert shown["compared_with_run"] == "cli-sync-1"

    code, _ = run(
        "query", "submit", "--sql", str(sql), "--run-id", "cli-seg-1", "--segment-name", "CLI"
    )
    cloud.run_until_idle()
    pinpoint = boto3.client("pinpoint")
    app = cloud.outputs["PinpointProjectId"]
    segments = pinpoint.get_segments(ApplicationId=app)["SegmentsResponse"]["Item"]
    (segment_id,) = [segment["Id"] for segment in segments if segment["Name"] == "CLI"]
    code, _ = run(
        "query", "submit", "--sql", str(sql), "--run-id", "cli-seg-2", "--segment-id", segment_id
    )
    assert code == 0
    cloud.run_until_idle()
    segment = pinpoint.get_segment(ApplicationId=app, SegmentId=segment_id)["SegmentResponse"]
    assert segment["Version"] == 2
    names = [
        s["Name"] for s in pinpoint.get_segments(ApplicationId=app)["SegmentsResponse"]["Item"]
    ]
    assert names.count("CLI") == 1
