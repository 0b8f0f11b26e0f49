"""The registry: raw EventBridge events to models, with clear errors for the unknown."""

from __future__ import annotations

import pytest

from contracts import (
    AWS_EVENTS,
    REGISTRY,
    AthenaQueryStateChange,
    CloudTrailApiCall,
    EventRegistry,
    InvalidEventError,
    S3ObjectCreated,
    SegmentQueryRequested,
    SegmentQueryValidated,
    UnknownEventError,
    parse_event,
)
from contracts.examples import eventbridge_event, example_event


@pytest.mark.parametrize("model", AWS_EVENTS, ids=lambda m: m.DETAIL_TYPE)
def test_aws_events_parse_without_account_and_with_unknown_fields(model: type) -> None:
    raw = example_event(model)
    del raw["account"]
    raw["detail"]["aFieldAwsAddsNextYear"] = {"nested": True}

    parsed = parse_event(raw)

    assert type(parsed.detail) is model
    assert parsed.envelope.account is None


def test_s3_keys_arrive_url_encoded_and_are_decoded() -> None:
    raw = example_event(S3ObjectCreated)
    raw["detail"]["object"]["key"] = "trail/AWSLogs/123/CloudTrail/us-east-1/file+name%3D1.json.gz"

    detail = REGISTRY.parse_as(raw, S3ObjectCreated).detail

    assert detail.decoded_key == "trail/AWSLogs/123/CloudTrail/us-east-1/file name=1.json.gz"


def test_cloudtrail_calls_expose_the_record_fields() -> None:
    detail = REGISTRY.parse_as(example_event(CloudTrailApiCall), CloudTrailApiCall).detail

    assert detail.event_source == "pinpoint.amazonaws.com"
    assert detail.event_name == "UpdateCampaign"
    assert detail.error_code is None
    assert detail.request_parameters is not None
    assert detail.request_parameters["application-id"] == "8b2f6a1c9d3e4f5a6b7c8d9e0f1a2b3c"


def test_athena_state_changes_read_the_sequence_number_as_a_number() -> None:
    detail = REGISTRY.parse_as(example_event(AthenaQueryStateChange), AthenaQueryStateChange)

    assert detail.detail.sequence_number == 3
    assert detail.detail.current_state == "SUCCEEDED"


def test_unknown_detail_types_are_named_with_the_known_ones() -> None:
    with pytest.raises(UnknownEventError, match=r"unknown detail-type 'Nope'; known: .*Segment"):
        parse_event(eventbridge_event("Nope", "x", {}))


def test_parse_as_refuses_another_detail_type() -> None:
    raw = example_event(SegmentQueryValidated)
    with pytest.raises(UnknownEventError, match="expected a 'SegmentQueryRequested' event"):
        REGISTRY.parse_as(raw, SegmentQueryRequested)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ([], "JSON object, got list"),
        ({"id": "1", "source": "x", "detail": {}}, "detail-type: Field required"),
        ({"id": "1", "source": "x", "detail-type": "Object Created", "detail": []}, "detail"),
    ],
)
def test_malformed_envelopes_are_rejected_clearly(raw: object, problem: str) -> None:
    with pytest.raises(InvalidEventError, match=problem):
        parse_event(raw)  # type: ignore[arg-type]


def test_a_detail_type_with_several_versions_needs_the_version() -> None:
    class RequestedV2(SegmentQueryRequested):
        VERSION = "2"

    registry = EventRegistry([SegmentQueryRequested, RequestedV2])
    raw = eventbridge_event("SegmentQueryRequested", "me", {"data": {"query": "SELECT 1"}})

    with pytest.raises(UnknownEventError, match=r"versions 1, 2: detail\.metadata\.version"):
        registry.parse(raw)
    assert registry.model_for("SegmentQueryRequested", "2") is RequestedV2


def test_registering_a_model_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        EventRegistry([SegmentQueryValidated, SegmentQueryValidated])
    with pytest.raises(ValueError, match="registered twice"):
        EventRegistry([S3ObjectCreated, S3ObjectCreated])
