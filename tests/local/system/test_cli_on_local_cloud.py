"""Every CLI command against the local cloud: the stack's outputs come from LocalCloud."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from cli import main as cli_main
from cli.runs import render_run
from cli.stack import StackOutputs
from cli.traces import run_traces
from contracts import SegmentQueryRequested, put_events_entry
from infra.local import LocalCloud
from tests.fixtures.lake import write_table

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-lake")
    write_table(root, "crm", "endpoint_id,plan", (f"{index:032x},gold" for index in range(1, 4)))
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
    assert submitted == {"run_id": "cli-run", "published": True}
    cloud.run_until_idle()

    code, status = run("runs", "show", "cli-run")
    assert code == 0
    assert status["outcome"] == "COMPLETE"
    assert status["query"]["status"] == "SUCCEEDED"
    assert status["import"]["status"] == "COMPLETE"
    assert status["import"]["counts"] == {
        "rows_read": 3,
        "rows_to_import": 3,
        "rows_rejected": 0,
        "rows_in_result": 3,
        "rows_sent": 3,
        "rows_unchanged": 0,
        "rows_cleared": 0,
    }
    assert status["import"]["endpoints_imported"] == 3

    # The same run id again: nothing is published, the run that exists is shown.
    code, again = run("query", "submit", "--sql", str(sql), "--run-id", "cli-run")
    assert code == 2
    assert again["published"] is False
    assert again["exists"]["outcome"] == "COMPLETE"

    code, listed = run("runs", "list", "--status", "complete", "--target", "pinpoint")
    assert code == 0
    assert "cli-run" in [item["run_id"] for item in listed]
    code, listed = run("runs", "list", "--target", "connect")
    assert "cli-run" not in [item["run_id"] for item in listed]

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


def test_runs_show_explains_failures_without_values(
    run: Any, cloud: LocalCloud, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.sql"
    missing.write_text('select endpoint_id as "Id" from no_such_table')
    assert run("query", "submit", "--sql", str(missing), "--run-id", "athena-fails")[0] == 0
    # The first row loses its Id: the importer rejects it and imports the others.
    partial = tmp_path / "partial.sql"
    partial.write_text(
        f"""select nullif(endpoint_id, '{1:032x}') as "Id", 'EMAIL' as "ChannelType",
                  'user-' || endpoint_id || '@example.com' as "Address",
                  plan as "Attributes.Plan" from crm"""  # noqa: S608 - test data
    )
    assert run("query", "submit", "--sql", str(partial), "--run-id", "rows-fail")[0] == 0
    cloud.run_until_idle()

    code, failed = run("runs", "show", "athena-fails")
    assert code == 1
    assert failed["outcome"] == "FAILED"
    assert "no_such_table" in failed["query"]["athena_reason"]

    code, status = run("runs", "show", "rows-fail")
    assert (code, status["outcome"]) == (0, "COMPLETE"), status
    assert status["import"]["counts"]["rows_rejected"] == 1
    assert [(row["code"], row["column"]) for row in status["import"]["rejected_rows"]] == [
        ("MISSING_ID", "Id")
    ]
    assert "first 1 rejected row of 1" in render_run(status)
    shown = json.dumps(status) + render_run(status)
    assert "gold" not in shown  # the plan column's values never appear


def test_a_query_the_validator_rejects_is_not_published(run: Any, tmp_path: Path) -> None:
    sql = tmp_path / "renewal.sql"
    sql.write_text('select max(contact.endpoint_id) as "Id" from crm contact group by endpoint.id')
    code, answer = run("query", "submit", "--sql", str(sql), "--run-id", "never-published")
    assert code == 1
    assert answer["published"] is False
    assert [reason["code"] for reason in answer["reasons"]] == ["UNKNOWN_TABLE_REFERENCE"]
    assert run("runs", "show", "never-published")[0] == 1


def test_a_rejection_is_told_by_runs_show_list_and_wait(run: Any, cloud: LocalCloud) -> None:
    from cli.runs import follow_run

    # Published by another tool, without the CLI's check: the validator rejects it.
    request = SegmentQueryRequested.from_user("SELECT * FROM crm", run_id="star-run")
    outputs = StackOutputs({key: str(value) for key, value in cloud.outputs.items()})
    boto3.client("events").put_events(
        Entries=[put_events_entry(request, event_bus_name=outputs["EventBusName"])]
    )
    cloud.run_until_idle()

    code, status = run("runs", "show", "star-run")
    assert code == 1
    assert status["outcome"] == "REJECTED"
    assert {reason["code"] for reason in status["rejection"]} == {
        "SELECT_STAR",
        "MISSING_ID_COLUMN",
    }
    assert "REJECTED by the validator" in render_run(status)
    code, listed = run("runs", "list", "--status", "rejected")
    assert [item["run_id"] for item in listed] == ["star-run"]
    session = boto3.session.Session()
    assert follow_run(session, outputs, "star-run", json_output=True, sleep=_never) == 1


def _never(seconds: float) -> None:
    raise AssertionError("a run that ended is not polled again")


def test_submit_wait_follows_the_run_to_its_end(cloud: LocalCloud, tmp_path: Path) -> None:
    from cli.runs import follow_run

    sql = tmp_path / "wait.sql"
    sql.write_text('select endpoint_id as "Id", plan as "Attributes.Plan" from crm')
    outputs = StackOutputs({key: str(value) for key, value in cloud.outputs.items()})
    request = SegmentQueryRequested.from_user(sql.read_text(), run_id="waited", dry_run=True)
    boto3.client("events").put_events(
        Entries=[put_events_entry(request, event_bus_name=outputs["EventBusName"])]
    )
    polls: list[float] = []

    def wait(seconds: float) -> None:
        polls.append(seconds)
        cloud.run_until_idle()

    session = boto3.session.Session()
    assert follow_run(session, outputs, "waited", json_output=True, sleep=wait) == 0
    assert len(polls) <= 3
    # A run that never reaches a ledger (rejected) ends after the start bound, not an hour.
    assert (
        follow_run(
            session, outputs, "nowhere", json_output=True, start_seconds=10, sleep=lambda _: None
        )
        == 1
    )


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
    assert (first["import"]["status"], first["import"]["counts"]["rows_sent"]) == ("COMPLETE", 3)
    code, second = run("runs", "show", "cli-sync-2")
    shown = second["import"]
    assert shown["status"] == "NOTHING_TO_IMPORT"
    counts = shown["counts"]
    assert (counts["rows_in_result"], counts["rows_sent"], counts["rows_unchanged"]) == (3, 0, 3)
    assert shown["compared_with_run"] == "cli-sync-1"

    code, _ = run(
        "query", "submit", "--sql", str(sql), "--run-id", "cli-seg-1", "--segment-name", "CLI"
    )
    cloud.run_until_idle()
    pinpoint = boto3.client("pinpoint")
    app = cloud.outputs["PinpointProjectId"]
    code, defined = run("runs", "show", "cli-seg-1")
    segment_id = defined["import"]["segment_id"]
    code, _ = run(
        "query", "submit", "--sql", str(sql), "--run-id", "cli-seg-2", "--segment-id", segment_id
    )
    assert code == 0
    cloud.run_until_idle()
    segment = pinpoint.get_segment(ApplicationId=app, SegmentId=segment_id)["SegmentResponse"]
    assert segment["Version"] == 2
    listed = pinpoint.get_segments(ApplicationId=app, PageSize="200")["SegmentsResponse"]
    assert "NextToken" not in listed
    assert [s["Name"] for s in listed["Item"]].count("CLI") == 1


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
    # The schedule syncs its name's key: the second fire found nothing changed.
    assert [(item["query"], item["import"]) for item in runs] == [
        ("SUCCEEDED", "NOTHING_TO_IMPORT"),
        ("SUCCEEDED", "COMPLETE"),
    ]

    assert run("schedule", "pause", "gold-hourly")[0] == 0
    cloud.advance(2 * 3600)
    cloud.run_until_idle()
    code, shown = run("schedule", "show", "gold-hourly")
    assert len(shown["last_runs"]) == 2  # nothing fired while paused
    assert run("schedule", "delete", "gold-hourly")[0] == 0
    code, listed = run("schedule", "list")
    assert "gold-hourly" not in [item["name"] for item in listed]
