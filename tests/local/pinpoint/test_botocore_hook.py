"""The generic before-send hook: reach, fall-through, errors, retries, uninstall."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local.botocore_hook import (
    ShapeMismatchError,
    decode_request,
    encode_error,
    encode_response,
    install_operation_handler,
    service_model,
    to_wire,
)

REGION = "us-east-1"


def test_handler_answers_clients_created_after_install_and_falls_through() -> None:
    seen: list[str] = []

    def handler(operation: Any, request: Any) -> Any:
        seen.append(operation.name)
        if operation.name != "GetSegment":
            return None  # moto answers
        decoded = decode_request(operation, request)
        return encode_error(
            operation,
            status=404,
            code="NotFoundException",
            message=f"no {decoded.params['SegmentId']}",
            request_id="req-1",
        )

    with mock_aws():
        uninstall = install_operation_handler("pinpoint", handler)
        try:
            for client in (
                boto3.client("pinpoint", region_name=REGION),
                boto3.session.Session().client("pinpoint", region_name=REGION),
            ):
                with pytest.raises(client.exceptions.NotFoundException) as raised:
                    client.get_segment(ApplicationId="a", SegmentId="seg 1")
                assert raised.value.response["Error"]["Message"] == "no seg 1"
                assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
                # moto still answers what the handler declines
                app = client.create_app(CreateApplicationRequest={"Name": "x"})
                assert app["ApplicationResponse"]["Name"] == "x"
        finally:
            uninstall()
        after = boto3.client("pinpoint", region_name=REGION)
        with pytest.raises(ClientError) as raised_after:
            after.get_segment(ApplicationId="a", SegmentId="s")
        assert "Not yet implemented" in str(raised_after.value)
    assert seen == ["GetSegment", "CreateApp", "GetSegment", "CreateApp"]


def test_throttling_answers_are_retried_by_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", sleeps.append)
    attempts = []

    def handler(operation: Any, request: Any) -> Any:
        attempts.append(1)
        if len(attempts) < 3:
            return encode_error(
                operation,
                status=429,
                code="TooManyRequestsException",
                message="slow down",
                request_id="r",
            )
        return encode_response(
            operation,
            {"ApplicationsResponse": {"Item": []}},
            request_id="r",
        )

    with mock_aws():
        uninstall = install_operation_handler("pinpoint", handler)
        try:
            retrying = boto3.client(
                "pinpoint",
                region_name=REGION,
                config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
            )
            response = retrying.get_apps()
            assert response["ResponseMetadata"]["RetryAttempts"] == 2
            assert len(sleeps) == 2

            attempts.clear()
            single = boto3.client(
                "pinpoint",
                region_name=REGION,
                config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
            )
            with pytest.raises(single.exceptions.TooManyRequestsException):
                single.get_apps()
            assert len(attempts) == 1
        finally:
            uninstall()


def test_strict_encoder_rejects_what_the_shape_does_not_declare() -> None:
    shape = service_model("pinpoint").shape_for("CampaignResponse")
    with pytest.raises(ShapeMismatchError, match="no member"):
        to_wire(shape, {"Id": "1", "Nmae": "typo"})
    with pytest.raises(ShapeMismatchError, match="integer"):
        to_wire(shape, {"Version": "1"})
    with pytest.raises(ShapeMismatchError, match="integer"):
        to_wire(shape, {"Version": True})


def test_wire_names_and_timestamps_round_trip() -> None:
    model = service_model("pinpoint")
    journey = model.shape_for("JourneyResponse")
    from datetime import UTC, datetime

    value = {
        "Id": "j",
        "ApplicationId": "a",
        "Name": "n",
        "Schedule": {"StartTime": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)},
        "tags": {"k": "v"},
    }
    wire = to_wire(journey, value)
    assert wire["Schedule"]["StartTime"] == "2026-01-02T03:04:05.000Z"
    assert wire["tags"] == {"k": "v"}


def test_reaches_an_existing_default_session_and_survives_mock_order() -> None:
    def handler(operation: Any, request: Any) -> Any:
        return encode_response(
            operation, {"ApplicationsResponse": {"Item": [], "NextToken": "t"}}, request_id="r"
        )

    uninstall = install_operation_handler("pinpoint", handler)  # before the mock starts
    try:
        with mock_aws():
            assert boto3.client("pinpoint", region_name=REGION).get_apps()[
                "ApplicationsResponse"
            ] == {"Item": [], "NextToken": "t"}
    finally:
        uninstall()

    with mock_aws():
        boto3.client("s3", region_name=REGION)  # the default session now exists
        assert boto3.DEFAULT_SESSION is not None
        uninstall = install_operation_handler("pinpoint", handler)
        try:
            client = boto3.client("pinpoint", region_name=REGION)
            assert client.get_apps()["ApplicationsResponse"]["NextToken"] == "t"
        finally:
            uninstall()
        # the client outlives the handler: it falls through to moto now
        assert "NextToken" not in client.get_apps()["ApplicationsResponse"]


def test_answered_requests_never_reach_moto() -> None:
    from moto.pinpoint.models import pinpoint_backends

    def handler(operation: Any, request: Any) -> Any:
        if operation.name != "CreateApp":
            return None
        app = {
            "Arn": "arn:aws:mobiletargeting:us-east-1:123456789012:apps/x",
            "Id": "x",
            "Name": "n",
        }
        return encode_response(operation, {"ApplicationResponse": app}, request_id="r")

    with mock_aws():
        uninstall = install_operation_handler("pinpoint", handler)
        try:
            client = boto3.client("pinpoint", region_name=REGION)
            client.create_app(CreateApplicationRequest={"Name": "n"})
            assert pinpoint_backends["123456789012"][REGION].apps == {}
            client.get_apps()  # declined: moto answers as usual
        finally:
            uninstall()
