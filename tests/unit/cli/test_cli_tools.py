from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli.errors import ExitCode
from cli.graph import edges, mermaid
from cli.main import main
from cli.output import plural, table, to_json, wrapped
from cli.runs import exit_code, outcome_of, render_run
from cli.traces import build_tree, render


def test_graph_follows_the_template_and_the_contracts() -> None:
    found = {(edge.producer, edge.event, edge.consumer) for edge in edges()}
    assert ("log-ingester", "PinpointResourceChanged", "name-resolver") in found
    assert ("query-validator", "SegmentQueryValidated", "query-runner") in found
    assert ("Athena", "Athena Query State Change", "query-runner") in found
    assert ("catalog-writer", "CatalogEntryChanged", "subscribers") in found
    assert ("schedule", "rate(1 minute)", "importer") in found
    assert mermaid(edges()).startswith("flowchart LR")


def test_tables_align_and_show_missing_values() -> None:
    text = table([{"a": 1, "b": None}, {"a": True}], ["a", "b"])
    lines = text.splitlines()
    assert lines[0].split() == ["a", "b"]
    assert lines[2].split() == ["1", "-"]
    assert lines[3].split() == ["yes", "-"]


def test_json_output_handles_decimals_and_dates() -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    value = json.loads(
        to_json({"n": Decimal(3), "f": Decimal("1.5"), "t": datetime(2026, 1, 1, tzinfo=UTC)})
    )
    assert value == {"n": 3, "f": 1.5, "t": "2026-01-01T00:00:00+00:00"}


def test_trace_tree_merges_facade_segments_and_links_parents() -> None:
    documents = [
        {
            "id": "a",
            "name": "query-validator",
            "origin": "AWS::Lambda::Function",
            "start_time": 1.0,
            "end_time": 1.2,
        },
        {
            "id": "a",
            "name": "facade",
            "start_time": 1.0,
            "end_time": 1.2,
            "subsegments": [
                {
                    "id": "s1",
                    "name": "## handle",
                    "start_time": 1.01,
                    "end_time": 1.1,
                    "annotations": {"run_id": "r1", "detail_type": "SegmentQueryRequested"},
                }
            ],
        },
        {
            "id": "b",
            "name": "query-runner",
            "origin": "AWS::Lambda::Function",
            "parent_id": "s1",
            "start_time": 1.5,
            "end_time": 1.7,
            "fault": True,
        },
    ]
    tree = build_tree("1-abc", documents)
    assert [root.name for root in tree.roots] == ["query-validator"]
    handle = tree.roots[0].children[0]
    assert handle.name == "## handle"
    assert [child.name for child in handle.children] == ["query-runner"]
    text = render(tree)
    assert "query-runner" in text
    assert "FAULT" in text


def test_commands_that_need_a_stack_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "list"]) == 2
    assert "--stack" in capsys.readouterr().err


def test_missing_sql_file_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["query", "check", "--sql", "/no/such/file.sql"]) == 2
    assert "no SQL file" in capsys.readouterr().err


def test_long_values_wrap_and_are_never_cut() -> None:
    reason = "the query reads table finance.salaries, which queries may not read " * 3 + "END"
    text = table([{"code": "DATABASE_NOT_ALLOWED", "message": reason}], ["code", "message"])
    lines = text.splitlines()
    assert all(len(line) <= len("DATABASE_NOT_ALLOWED") + 2 + 40 for line in lines)
    assert " ".join(" ".join(lines[2:]).split()).endswith("END")
    assert "…" not in text
    assert " ".join(wrapped(reason, width=30).split()) == " ".join(reason.split())


def test_plurals() -> None:
    assert [plural(1, "endpoint"), plural(3, "endpoint"), plural(0, "entry", "entries")] == [
        "1 endpoint",
        "3 endpoints",
        "0 entries",
    ]


def _status(**parts: Any) -> dict[str, Any]:
    status: dict[str, Any] = {"run_id": "r1", "found": True, "target": "pinpoint", **parts}
    status["outcome"] = outcome_of(status)
    return status


def test_runs_show_explains_an_import_and_exits_by_outcome() -> None:
    failed = _status(query={"status": "SUCCEEDED", "query_execution_id": "q-1"})
    failed["import"] = {
        "status": "PARTIAL",
        "counts": {"rows_read": 5, "rows_to_import": 3, "rows_rejected": 2},
        "rejected_rows": [
            {"row_number": 2, "code": "MISSING_ID", "column": "Id", "message": "the Id is empty"}
        ],
        "endpoints_imported": 1,
        "pinpoint_failures": 2,
        "pinpoint_failure_sample": ["Endpoint 2: the address is not valid for channel EMAIL"],
    }
    failed["outcome"] = outcome_of(failed)
    text = render_run(failed)
    assert "run r1: PARTIAL" in text
    assert "5 rows read, 3 to import, 2 rejected" in text
    assert "1 endpoint imported" in text
    assert "the address is not valid for channel EMAIL" in text
    assert "first 1 rejected row of 2" in text
    assert exit_code(failed) == ExitCode.FAILED

    athena = _status(query={"status": "FAILED", "athena_reason": "COLUMN_NOT_FOUND: x " * 20})
    assert "COLUMN_NOT_FOUND" in render_run(athena)
    assert exit_code(athena) == ExitCode.FAILED
    assert exit_code(_status(query={"status": "RUNNING"})) == ExitCode.RUNNING
    done = _status(query={"status": "SUCCEEDED"}, **{"import": {"status": "COMPLETE"}})
    assert exit_code(done) == ExitCode.OK
    assert exit_code({"run_id": "r", "found": False}) == ExitCode.FAILED


def test_a_submit_that_breaks_the_request_contract_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sql = tmp_path / "q.sql"
    sql.write_text('select endpoint_id as "Id" from crm')
    assert main(["query", "submit", "--sql", str(sql), "--mirror", "--stack", "s"]) == 2
    error = capsys.readouterr().err
    assert "mirror needs a sync_key" in error
    assert "Traceback" not in error
    assert main(["query", "submit", "--sql", str(sql), "--sync-key", "a b", "--stack", "s"]) == 2
    assert "sync_key" in capsys.readouterr().err
