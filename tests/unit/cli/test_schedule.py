"""`pinpoint-lake schedule ...` against moto: what a saved segment's schedule holds, and the
clear one-line errors for what cannot become one (checked before AWS is asked)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cli import main as cli_main
from cli.stack import StackOutputs
from tests.fixtures.tables import create_template_table

GOOD_SQL = """SELECT endpoint_id AS Id, 'Yes' AS "User.UserAttributes.Gold" FROM crm"""
GROUP = "lake-segments"
ROLE_ARN = "arn:aws:iam::123456789012:role/lake-scheduler"


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[StackOutputs]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        boto3.client("events").create_event_bus(Name="lake-events")
        boto3.client("scheduler").create_schedule_group(Name=GROUP)
        create_template_table(boto3.client("dynamodb"), "QueryRunsTable", "query-runs")
        outputs = StackOutputs(
            {
                "EventBusName": "lake-events",
                "ScheduleGroupName": GROUP,
                "SchedulerRoleArn": ROLE_ARN,
                "QueryRunsTableName": "query-runs",
            }
        )
        monkeypatch.setattr(cli_main, "read_outputs", lambda client, name: outputs)
        yield outputs


@pytest.fixture
def sql(tmp_path: Path) -> Path:
    path = tmp_path / "gold.sql"
    path.write_text(GOOD_SQL)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    capsys.readouterr()
    code = cli_main.main([*argv, "--stack", "lake", "--json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


def schedule(name: str) -> dict[str, Any]:
    scheduler: Any = boto3.client("scheduler")
    found: dict[str, Any] = scheduler.get_schedule(Name=name, GroupName=GROUP)
    return found


def test_create_makes_a_schedule_whose_fires_ask_for_a_run(
    stack: StackOutputs, sql: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, created, _ = run(
        capsys,
        "schedule",
        "create",
        "gold-daily",
        "--sql",
        str(sql),
        "--every",
        "cron(0 6 * * ? *)",
        "--timezone",
        "Europe/Paris",
        "--segment-name",
        "Gold members",
        "--mirror",
    )

    assert code == 0
    made = schedule("gold-daily")
    assert created["arn"] == made["Arn"]
    assert (made["ScheduleExpression"], made["ScheduleExpressionTimezone"]) == (
        "cron(0 6 * * ? *)",
        "Europe/Paris",
    )
    assert made["FlexibleTimeWindow"] == {"Mode": "OFF"}
    target = made["Target"]
    bus_arn = boto3.client("events").describe_event_bus(Name="lake-events")["Arn"]
    assert (target["Arn"], target["RoleArn"]) == (bus_arn, ROLE_ARN)
    assert target["EventBridgeParameters"] == {
        "Source": "pinpoint-lake.user",
        "DetailType": "SegmentQueryRequested",
    }
    assert json.loads(target["Input"]) == {
        "data": {
            "query": GOOD_SQL,
            "sync_key": "gold-daily",
            "requested_by": "schedule/gold-daily",
            "segment_name": "Gold members",
            "mirror": True,
            "schedule_arn": "<aws.scheduler.schedule-arn>",
            "scheduled_time": "<aws.scheduler.scheduled-time>",
        }
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bad name!", "--every", "rate(1 day)"], "schedule name 'bad name!'"),
        (["gold", "--every", "rate(0 days)"], "must be positive"),
        (["gold", "--every", "every morning"], "not a schedule expression"),
        (["gold", "--every", "cron(0 6 * * * *)"], "exactly one of day-of-month"),
        (["gold", "--every", "at(2027-01-01 06:00)"], "at(yyyy-mm-ddThh:mm:ss)"),
        (["gold", "--every", "at(2001-01-01T06:00:00)"], "never fires after now"),
        (["gold", "--every", "rate(1 day)", "--timezone", "Mars/Base"], "unknown timezone"),
        (["gold", "--every", "rate(1 day)", "--segment-name", " "], "segment_name"),
    ],
)
def test_what_cannot_be_a_schedule_is_one_clear_line_before_aws_is_asked(
    monkeypatch: pytest.MonkeyPatch,
    sql: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    def no_aws(client: Any, name: str) -> StackOutputs:
        raise AssertionError("AWS was asked before the schedule was checked")

    monkeypatch.setattr(cli_main, "read_outputs", no_aws)
    code, out, err = run(capsys, "schedule", "create", *argv[:1], "--sql", str(sql), *argv[1:])

    assert code == 2
    assert out is None
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


def test_a_query_the_validator_would_reject_is_not_scheduled(
    stack: StackOutputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    star = tmp_path / "star.sql"
    star.write_text("SELECT * FROM crm")

    code, _, err = run(
        capsys, "schedule", "create", "star", "--sql", str(star), "--every", "rate(1 day)"
    )

    assert code == 2
    assert "the query would be rejected" in err
    assert boto3.client("scheduler").list_schedules(GroupName=GROUP)["Schedules"] == []


def test_list_pause_resume_show_and_delete(
    stack: StackOutputs, sql: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("gold", "silver"):
        assert (
            run(capsys, "schedule", "create", name, "--sql", str(sql), "--every", "rate(1 hour)")[0]
            == 0
        )
    code, again, err = run(
        capsys, "schedule", "create", "gold", "--sql", str(sql), "--every", "rate(1 hour)"
    )
    assert (code, again) == (2, None)
    assert "exists" in err

    code, listed, _ = run(capsys, "schedule", "list")
    assert code == 0
    assert sorted(item["name"] for item in listed) == ["gold", "silver"]
    assert {item["sync_key"] for item in listed} == {"gold", "silver"}

    before = schedule("gold")["Target"]
    assert run(capsys, "schedule", "pause", "gold")[1]["state"] == "DISABLED"
    assert schedule("gold")["Target"] == before  # UpdateSchedule replaced nothing else
    code, shown, _ = run(capsys, "schedule", "show", "gold")
    assert (code, shown["state"], shown["next_fires"]) == (0, "DISABLED", [])
    assert run(capsys, "schedule", "resume", "gold")[1]["state"] == "ENABLED"

    code, shown, _ = run(capsys, "schedule", "show", "gold")
    assert code == 0
    assert shown["sql"] == GOOD_SQL
    assert len(shown["next_fires"]) == 3
    assert shown["last_runs"] == []

    assert run(capsys, "schedule", "delete", "gold")[0] == 0
    code, _, err = run(capsys, "schedule", "show", "gold")
    assert code == 2
    assert "no schedule named 'gold'" in err


def test_show_lists_the_last_runs_of_the_schedule_latest_first(
    stack: StackOutputs, sql: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "schedule", "create", "gold", "--sql", str(sql), "--every", "rate(1 hour)")
    arn = schedule("gold")["Arn"]
    dynamodb = boto3.client("dynamodb")
    # What the query-runner writes for runs of this schedule (and one run of another).
    for run_id, schedule_arn, hour in (
        ("run-a", arn, "06"),
        ("run-c", arn, "08"),
        ("run-b", arn, "07"),
        ("run-x", arn.replace("gold", "silver"), "09"),
    ):
        dynamodb.put_item(
            TableName="query-runs",
            Item={
                "run_id": {"S": run_id},
                "status": {"S": "SUCCEEDED"},
                "deadline": {"S": "2027-01-06T07:00:00.000000Z"},
                "schedule_arn": {"S": schedule_arn},
                "scheduled_at": {"S": f"2027-01-06T{hour}:00:00.000000Z"},
            },
        )

    code, shown, _ = run(capsys, "schedule", "show", "gold")

    assert code == 0
    assert [item["run_id"] for item in shown["last_runs"]] == ["run-c", "run-b", "run-a"]
    assert shown["last_runs"][0]["query"] == "SUCCEEDED"


def test_show_reads_plainly_without_json(
    stack: StackOutputs, sql: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "schedule", "create", "gold", "--sql", str(sql), "--every", "rate(1 hour)")

    assert cli_main.main(["schedule", "show", "gold", "--stack", "lake"]) == 0
    text = capsys.readouterr().out
    assert "saved segment gold" in text
    assert "next fires: " in text
    assert "no runs yet" in text
