"""Contract models: round trips, examples, readable rejections of malformed payloads."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from pydantic import ValidationError

import contracts
from contracts import (
    PROJECT_EVENTS,
    CatalogChange,
    CatalogEntryChange,
    EventMetadata,
    InvalidEventError,
    ResolvedResource,
    RunRequest,
    SegmentQueryRequested,
    SegmentQueryValidated,
    UnknownEventError,
    derived_event_id,
    parse_event,
)
from contracts.examples import (
    APP_ID,
    _catalog_entry,
    eventbridge_event,
    example_event,
    project_examples,
)


@pytest.mark.parametrize("event", project_examples(), ids=lambda e: e.DETAIL_TYPE)
def test_every_example_round_trips_through_the_registry(event: contracts.Event) -> None:
    raw = eventbridge_event(event.DETAIL_TYPE, event.SOURCE, json.loads(event.detail_json()))

    parsed = parse_event(raw)

    assert parsed.detail == event
    assert type(parsed.detail) is type(event)


def test_there_is_one_example_per_project_event() -> None:
    assert sorted(type(e).__name__ for e in project_examples()) == sorted(
        model.__name__ for model in PROJECT_EVENTS
    )


@pytest.mark.parametrize("model", PROJECT_EVENTS, ids=lambda m: m.DETAIL_TYPE)
def test_detail_type_source_and_version_are_declared_on_the_model_itself(
    model: type[contracts.Event],
) -> None:
    # Declared, never inherited or derived from the class name: renaming a class is safe.
    for name in ("SOURCE", "DETAIL_TYPE", "VERSION"):
        assert name in vars(model), f"{model.__name__} does not declare {name}"
    assert model.SOURCE.startswith("pinpoint-lake.")


def test_producers_create_events_with_fresh_metadata() -> None:
    event = SegmentQueryValidated.new(
        data=project_examples()[5].data, correlation_id="run-1", causation_id="cause"
    )

    assert event.metadata.version == "1"
    assert event.metadata.producer == "query-validator"
    assert event.metadata.occurred_at.tzinfo is not None
    assert event.metadata.causation_id == "cause"
    assert event.event_id == event.metadata.event_id


def test_derived_event_ids_are_stable_and_tell_parts_apart() -> None:
    first = derived_event_id("cause-1", "PinpointResourceChanged", "a")
    assert first == derived_event_id("cause-1", "PinpointResourceChanged", "a")
    assert first != derived_event_id("cause-1", "PinpointResourceChanged", "b")
    assert first != derived_event_id("cause-1PinpointResourceChanged", "a")
    with pytest.raises(ValueError, match="at least one part"):
        derived_event_id()


def test_users_may_publish_a_request_with_data_only_and_the_original_query_key() -> None:
    raw = eventbridge_event(
        "SegmentQueryRequested",
        "analytics.team",
        {"data": {"Query": "SELECT endpoint_id AS Id FROM email_open"}},
    )

    request = parse_event(raw).detail

    assert isinstance(request, SegmentQueryRequested)
    assert request.metadata is None
    assert request.event_id is None
    assert request.data.query.startswith("SELECT")
    assert json.loads(request.detail_json()) == {"data": request.data.model_dump(mode="json")}


def _request_event(data: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    detail: dict[str, Any] = {"data": data}
    if metadata:
        detail["metadata"] = metadata
    return eventbridge_event("SegmentQueryRequested", "me", detail)


@pytest.mark.parametrize(
    ("data", "field", "problem"),
    [
        ({"query": ""}, "data.query", "at least 1 character"),
        ({"query": "   "}, "data.query", "blank"),
        ({"query": "x" * 32_769}, "data.query", "at most 32768"),
        ({"query": "SELECT 1", "application_id": "not-an-id"}, "data.application_id", "pattern"),
        ({"query": "SELECT 1", "run_id": "has spaces"}, "data.run_id", "pattern"),
        ({"query": "SELECT 1", "dry_run": "perhaps"}, "data.dry_run", "boolean"),
        ({"query": "SELECT 1", "extra": 1}, "data.extra", "Extra inputs"),
        ({}, "data.query", "Field required"),
        (
            {"query": "SELECT 1", "segment_name": "s", "segment_id": APP_ID},
            "data",
            "not both",
        ),
    ],
)
def test_malformed_requests_are_rejected_naming_the_field_and_why(
    data: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(InvalidEventError) as caught:
        parse_event(_request_event(data))

    message = str(caught.value)
    assert message.startswith("SegmentQueryRequested v1 is invalid: ")
    assert f"{field}:" in message
    assert problem in message


def test_metadata_must_be_aware_and_match_the_model_version() -> None:
    base = {
        "event_id": "e1",
        "version": "1",
        "occurred_at": "2026-11-22T09:00:00Z",
        "producer": "p",
        "correlation_id": "c",
    }
    with pytest.raises(InvalidEventError, match=r"occurred_at: Input should have timezone info"):
        parse_event(_request_event({"query": "SELECT 1"}, **(base | {"occurred_at": "2026-11-22"})))
    with pytest.raises(UnknownEventError, match=r"SegmentQueryRequested has no version '2'"):
        parse_event(_request_event({"query": "SELECT 1"}, **(base | {"version": "2"})))
    with pytest.raises(ValidationError, match=r"is version 1; metadata\.version says 2"):
        SegmentQueryValidated(
            metadata=EventMetadata.model_validate(base | {"version": "2"}),
            data=project_examples()[5].data,
        )


def test_timestamps_are_normalised_to_utc() -> None:
    metadata = EventMetadata(
        event_id="e",
        version="1",
        occurred_at=datetime.fromisoformat("2026-11-22T10:00:00+01:00"),
        producer="p",
        correlation_id="c",
    )
    assert metadata.occurred_at.isoformat() == "2026-11-22T09:00:00+00:00"


def test_models_are_frozen() -> None:
    request = RunRequest(query="SELECT 1")
    with pytest.raises(ValidationError, match="frozen"):
        request.query = "SELECT 2"  # type: ignore[misc]


def test_a_live_resource_needs_a_name_but_a_deleted_one_may_lack_it() -> None:
    resolved = project_examples()[1].data
    assert isinstance(resolved, ResolvedResource)
    fields = resolved.model_dump() | {"name": None}

    with pytest.raises(ValidationError, match="must carry its name"):
        ResolvedResource.model_validate(fields)
    assert ResolvedResource.model_validate(fields | {"deleted": True}).name is None


def test_before_entries_fit_the_kind_of_change() -> None:
    entry = _catalog_entry("Winback", datetime.fromisoformat("2026-11-20T00:00:00+00:00"))
    with pytest.raises(ValidationError, match="'renamed' change needs the 'before' entry"):
        CatalogEntryChange(change=CatalogChange.RENAMED, before=None, after=entry)
    with pytest.raises(ValidationError, match="'created' change has no 'before' entry"):
        CatalogEntryChange(change=CatalogChange.CREATED, before=entry, after=entry)
    assert CatalogEntryChange(change=CatalogChange.CREATED, before=None, after=entry).before is None
    # created and deleted before it could be cataloged: first seen deleted
    deleted = entry.model_copy(update={"deleted": True})
    assert CatalogEntryChange(change=CatalogChange.DELETED, before=None, after=deleted)


def test_example_events_cover_every_model() -> None:
    for model in PROJECT_EVENTS:
        assert example_event(model)["detail-type"] == model.DETAIL_TYPE
