"""The CLI as a user runs it: a process of its own, its stdout and stderr read whole.

Nothing but the command's own output may appear: no service log line, no metric line, no
Powertools warning, no DuckDB "nanobind: leaked" at exit, no traceback, and no temporary
folder left behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.lake import write_table

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[3]
NOISE = ("Traceback", "nanobind", "Warning", '"_aws"', '"level"')


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    write_table(root, "crm", "endpoint_id,plan", (f"{index:032x},gold" for index in range(1, 4)))
    return root


def pinpoint_lake(*argv: str, temp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI, with arguments the test chose
        [sys.executable, "-m", "cli", *argv],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(temp), "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def assert_quiet(result: subprocess.CompletedProcess[str], temp: Path) -> None:
    for noise in NOISE:
        assert noise not in result.stdout + result.stderr, (noise, result.stderr)
    assert list(temp.iterdir()) == [], "a temporary folder was left behind"


def test_your_own_query_end_to_end_on_the_local_cloud(lake: Path, tmp_path: Path) -> None:
    sql = tmp_path / "mine.sql"
    sql.write_text(
        """select endpoint_id as "Id", 'EMAIL' as "ChannelType",
                  'user-' || endpoint_id || '@example.com' as "Address",
                  plan as "Attributes.Plan" from crm"""
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = pinpoint_lake(
        "--json",
        "query",
        "submit",
        "--local",
        "--data-lake",
        str(lake),
        "--sql",
        str(sql),
        temp=temp,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    run = json.loads(result.stdout)  # exactly one JSON document
    assert run["outcome"] == "COMPLETE"
    assert run["import"]["endpoints_imported"] == 3
    assert_quiet(result, temp)


def test_query_check_on_a_lake_says_what_it_assumed(lake: Path, tmp_path: Path) -> None:
    sql = tmp_path / "check.sql"
    sql.write_text('select endpoint_id as "Id", plan as "Attributes.Plan" from crm')
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = pinpoint_lake("query", "check", "--sql", str(sql), "--data-lake", str(lake), temp=temp)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("assumed the template's defaults")
    assert "3 rows, 3 would be imported, 0 rejected" in result.stdout
    assert_quiet(result, temp)


@pytest.mark.slow
def test_the_demo_prints_one_json_document_and_nothing_else(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = pinpoint_lake("--json", "demo", "--endpoints", "60", temp=temp)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["dead_letters"] == {}
    assert_quiet(result, temp)


@pytest.mark.slow
def test_the_text_demo_carries_no_service_output(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = pinpoint_lake("demo", "--endpoints", "60", temp=temp)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "demo finished in" in result.stdout
    assert_quiet(result, temp)
