"""Committed schemas, fixtures and docs match the models; PutEvents entries are right."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from contracts import (
    AWS_EVENTS,
    MAX_ENTRY_BYTES,
    MAX_QUERY_LENGTH,
    PROJECT_EVENTS,
    EventTooLargeError,
    Rejection,
    SegmentQueryRejected,
    SegmentQueryRequested,
    entry_size,
    put_events_entry,
    schema_export,
)
from contracts.examples import project_examples
from contracts.schema_export import SCHEMA_DIR, generated_files, main, schema_file_name


def test_committed_schemas_examples_and_event_docs_match_the_models() -> None:
    stale = [
        str(path)
        for path, content in generated_files().items()
        if not path.exists() or path.read_text(encoding="utf-8") != content
    ]
    assert not stale, f"run `make schemas`; stale: {stale}"


def test_check_mode_reports_drift_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = tmp_path / "Stale.v1.json"
    stale.write_text("old", encoding="utf-8")
    monkeypatch.setattr(schema_export, "generated_files", lambda: {stale: "new"})

    with pytest.raises(SystemExit, match=r"stale \(run `make schemas`\): .*Stale.v1.json"):
        main(["--check"])
    assert stale.read_text(encoding="utf-8") == "old"
    assert main([]) == 0
    assert stale.read_text(encoding="utf-8") == "new"


@pytest.mark.parametrize("model", [*PROJECT_EVENTS, *AWS_EVENTS], ids=lambda m: m.DETAIL_TYPE)
def test_every_example_event_validates_against_its_draft4_schema(model: type) -> None:
    name = schema_file_name(model)
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    example = json.loads((SCHEMA_DIR / "examples" / name).read_text(encoding="utf-8"))

    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(example)


def test_schemas_refuse_what_the_models_refuse() -> None:
    schema = json.loads((SCHEMA_DIR / "SegmentQueryRequested.v1.json").read_text("utf-8"))
    bad = {"detail-type": "SegmentQueryRequested", "source": "me", "detail": {"data": {}}}
    with pytest.raises(jsonschema.ValidationError, match="'query' is a required property"):
        jsonschema.Draft4Validator(schema).validate(bad)


def test_entries_carry_source_detail_type_bus_and_trace_header() -> None:
    event = SegmentQueryRequested.from_user("SELECT endpoint_id AS Id FROM email_open")

    entry = put_events_entry(
        event, event_bus_name="bus", trace_header="Root=1-abc;Sampled=1", source="team.analytics"
    )

    assert entry == {
        "Source": "team.analytics",
        "DetailType": "SegmentQueryRequested",
        "Detail": event.detail_json(),
        "EventBusName": "bus",
        "TraceHeader": "Root=1-abc;Sampled=1",
    }
    assert put_events_entry(event, event_bus_name="bus")["Source"] == "pinpoint-lake.user"


def test_entry_size_follows_eventbridge_arithmetic() -> None:
    entry = put_events_entry(
        SegmentQueryRequested.from_user("SELECT 'é' AS Id"), event_bus_name="b", resources=["r1"]
    )
    expected = sum(len(entry[k].encode()) for k in ("Source", "DetailType", "Detail")) + 2
    assert entry_size(entry) == expected
    assert entry_size(entry | {"Time": "2026-11-22T00:00:00Z"}) == expected + 14


def test_an_oversize_entry_is_refused_with_its_size() -> None:
    rejected = project_examples()[6]
    assert isinstance(rejected, SegmentQueryRejected)
    reasons = [Rejection(code="TOO_MUCH", message="x" * 1024)] * 300
    huge = rejected.model_copy(
        update={"data": rejected.data.model_copy(update={"reasons": reasons})}
    )

    with pytest.raises(EventTooLargeError, match=f"EventBridge accepts at most {MAX_ENTRY_BYTES}"):
        put_events_entry(huge, event_bus_name="b")


def test_the_longest_query_still_fits_an_entry() -> None:
    # Worst case: every character JSON-escaped to six bytes.
    event = SegmentQueryRequested.from_user("\u0001" * MAX_QUERY_LENGTH)
    assert entry_size(put_events_entry(event, event_bus_name="b")) < MAX_ENTRY_BYTES
