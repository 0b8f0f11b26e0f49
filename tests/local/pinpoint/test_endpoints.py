"""Endpoints: merge semantics, user lookups, and Pinpoint's attribute limits (400s)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.clock import VirtualClock
from infra.local.pinpoint import EndpointLimits, PinpointEmulator
from tests.fixtures.emulator_tests import ACCOUNT, REGION

from .conftest import checked_client


def endpoint(address: str = "ana@example.com", **extra: Any) -> dict[str, Any]:
    return {
        "Address": address,
        "ChannelType": "EMAIL",
        "Attributes": {"interests": ["hiking", "books"]},
        "Metrics": {"visits": 3.0},
        "User": {"UserId": "user-1", "UserAttributes": {"plan": ["gold"]}},
        "Location": {"City": "Lisbon", "Country": "PT", "Latitude": 38.7},
        "Demographic": {"Platform": "ios", "Timezone": "Europe/Lisbon"},
        **extra,
    }


def test_update_get_and_merge(pinpoint: Any, app_id: str, clock: VirtualClock) -> None:
    accepted = pinpoint.update_endpoint(
        ApplicationId=app_id, EndpointId="e1", EndpointRequest=endpoint()
    )
    assert accepted["MessageBody"]["Message"] == "Accepted"
    assert accepted["ResponseMetadata"]["HTTPStatusCode"] == 202

    clock.advance(10)
    pinpoint.update_endpoint(
        ApplicationId=app_id,
        EndpointId="e1",
        EndpointRequest={
            "Attributes": {"interests": [], "color": ["red"]},
            "Metrics": {"visits": 4.0},
            "Location": {"City": "Porto"},
        },
    )
    got = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="e1")["EndpointResponse"]
    assert got["Attributes"] == {"color": ["red"]}  # empty list removed "interests"
    assert got["Metrics"] == {"visits": 4.0}
    assert got["Location"] == {"City": "Porto", "Country": "PT", "Latitude": 38.7}
    assert got["User"] == {"UserId": "user-1", "UserAttributes": {"plan": ["gold"]}}
    assert got["Address"] == "ana@example.com"
    assert got["CreationDate"] == "2026-11-02T10:00:00.000Z"
    assert got["EffectiveDate"] == "2026-11-02T10:00:10.000Z"
    assert got["OptOut"] == "NONE"
    assert got["EndpointStatus"] == "ACTIVE"
    assert got["ApplicationId"] == app_id


def test_batch_user_endpoints_and_delete(pinpoint: Any, app_id: str) -> None:
    items = [{"Id": f"e{n}", **endpoint(f"u{n}@example.com")} for n in range(3)]
    items[2]["User"] = {"UserId": "user-2"}
    pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": items})

    user_endpoints = pinpoint.get_user_endpoints(ApplicationId=app_id, UserId="user-1")
    assert sorted(e["Id"] for e in user_endpoints["EndpointsResponse"]["Item"]) == ["e0", "e1"]
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_user_endpoints(ApplicationId=app_id, UserId="nobody")

    deleted = pinpoint.delete_endpoint(ApplicationId=app_id, EndpointId="e0")
    assert deleted["EndpointResponse"]["Id"] == "e0"
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="e0")
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.delete_endpoint(ApplicationId=app_id, EndpointId="e0")

    removed = pinpoint.delete_user_endpoints(ApplicationId=app_id, UserId="user-2")
    assert [e["Id"] for e in removed["EndpointsResponse"]["Item"]] == ["e2"]


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ({"Attributes": {"x" * 51: ["v"]}}, "longer than 50 characters"),
        ({"Attributes": {"a": ["v" * 101]}}, "longer than 100 characters"),
        ({"Attributes": {"a": [str(n) for n in range(51)]}}, "the maximum is 50"),
        ({"User": {"UserAttributes": {"y" * 51: ["v"]}}}, "longer than 50 characters"),
        ({"Metrics": {"m" * 51: 1.0}}, "longer than 50 characters"),
        ({"ChannelType": "PIGEON"}, "Invalid ChannelType"),
        ({"OptOut": "SOME"}, "Invalid OptOut"),
        (
            {"Attributes": {f"a{n}": ["v" * 100] * 50 for n in range(4)}},
            "maximum size is 15360 bytes",
        ),
    ],
)
def test_endpoint_limits_are_400(
    pinpoint: Any, app_id: str, request_body: dict[str, Any], message: str
) -> None:
    with pytest.raises(pinpoint.exceptions.BadRequestException, match=message) as raised:
        pinpoint.update_endpoint(
            ApplicationId=app_id,
            EndpointId="e1",
            EndpointRequest={"Address": "a@example.com", "ChannelType": "EMAIL", **request_body},
        )
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_250_custom_attributes_per_project(pinpoint: Any, app_id: str) -> None:
    # 100 Attributes + 100 Metrics + 50 UserAttributes = 250 names: at the limit, accepted.
    pinpoint.update_endpoint(
        ApplicationId=app_id,
        EndpointId="e1",
        EndpointRequest={
            "ChannelType": "EMAIL",
            "Attributes": {f"a{n}": ["v"] for n in range(100)},
            "Metrics": {f"m{n}": 1.0 for n in range(100)},
            "User": {"UserAttributes": {f"u{n}": ["v"] for n in range(50)}},
        },
    )
    # Reusing names on another endpoint is fine; one new name anywhere is not.
    pinpoint.update_endpoint(
        ApplicationId=app_id,
        EndpointId="e2",
        EndpointRequest={"ChannelType": "SMS", "Attributes": {"a1": ["x"]}},
    )
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="custom attributes"):
        pinpoint.update_endpoint(
            ApplicationId=app_id,
            EndpointId="e3",
            EndpointRequest={"ChannelType": "SMS", "Metrics": {"one_more": 1.0}},
        )


def test_batch_limits(pinpoint: Any, app_id: str) -> None:
    too_many = [{"Id": f"e{n}", "ChannelType": "SMS", "Address": "+1555"} for n in range(101)]
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="maximum of 100"):
        pinpoint.update_endpoints_batch(
            ApplicationId=app_id, EndpointBatchRequest={"Item": too_many}
        )
    # one invalid item rejects the whole batch, nothing is stored
    batch = [
        {"Id": "ok", "ChannelType": "SMS", "Address": "+1555"},
        {"Id": "bad", "ChannelType": "SMS", "Attributes": {"a": ["v" * 101]}},
    ]
    with pytest.raises(pinpoint.exceptions.BadRequestException):
        pinpoint.update_endpoints_batch(ApplicationId=app_id, EndpointBatchRequest={"Item": batch})
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="ok")


def test_limits_can_be_shrunk_for_tests(aws: None, clock: VirtualClock) -> None:
    limits = EndpointLimits(max_custom_attributes=2)
    with PinpointEmulator(clock, REGION, ACCOUNT, endpoint_limits=limits):
        client = checked_client()
        app = client.create_app(CreateApplicationRequest={"Name": "x"})["ApplicationResponse"]
        with pytest.raises(client.exceptions.BadRequestException, match=r"maximum number .*\(2\)"):
            client.update_endpoint(
                ApplicationId=app["Id"],
                EndpointId="e",
                EndpointRequest={"Attributes": {"a": ["1"], "b": ["2"], "c": ["3"]}},
            )
