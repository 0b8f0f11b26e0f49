"""Pure rules: CSV/JSON rows, journey transitions, masking, paging (no AWS involved)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.botocore_hook import service_model
from infra.local.pinpoint import journeys
from infra.local.pinpoint.errors import BadRequestError
from infra.local.pinpoint.import_rows import (
    InvalidHeaderError,
    RowError,
    csv_items,
    json_items,
    parse_header,
)
from infra.local.pinpoint.masking import mask_free_text
from infra.local.pinpoint.paging import page


def test_every_documented_column_maps() -> None:
    header = [
        "Id",
        "Address",
        "ChannelType",
        "OptOut",
        "EffectiveDate",
        "RequestId",
        "EndpointStatus",
        "User.UserId",
        "User.UserAttributes.first_name",
        "Attributes.tier",
        "Metrics.ltv",
        *(
            f"Location.{f}"
            for f in ("City", "Country", "Latitude", "Longitude", "PostalCode", "Region")
        ),
        *(
            f"Demographic.{f}"
            for f in (
                "AppVersion",
                "Locale",
                "Make",
                "Model",
                "ModelVersion",
                "Platform",
                "PlatformVersion",
                "Timezone",
            )
        ),
    ]
    columns = parse_header(header)
    assert [c.path for c in columns][:3] == [("Id",), ("Address",), ("ChannelType",)]
    assert columns[8].path == ("User", "UserAttributes", "first_name")
    assert {c.kind for c in columns if c.header.startswith(("Metrics.", "Location.Lat"))} == {
        "number"
    }


@pytest.mark.parametrize(
    "header",
    [
        ["id"],  # case sensitive
        ["Attributes"],
        ["Attributes."],
        ["Location.Street"],
        ["Demographic.platform"],
        ["User.Name"],
        ["Metrics.a", "Metrics.a"],
        ["Attributes." + "x" * 51],
        [],
    ],
)
def test_invalid_headers(header: list[str]) -> None:
    with pytest.raises(InvalidHeaderError):
        parse_header(header)


def test_csv_rows() -> None:
    text = (
        "\ufeffId,Attributes.tag,Attributes.tag,Location.Latitude,Metrics.n\n"
        "a,x,y,1.5,2\n"
        "\n"
        "b,,z,,\n"
        "c,x,y,north,1\n"
        "d,x,y\n"
    )
    rows = list(csv_items(text))
    assert rows[0] == (
        2,
        {
            "Id": "a",
            "Attributes": {"tag": ["x", "y"]},
            "Location": {"Latitude": 1.5},
            "Metrics": {"n": 2.0},
        },
    )
    assert rows[1] == (4, {"Id": "b", "Attributes": {"tag": ["z"]}})
    assert isinstance(rows[2][1], RowError)
    assert "not a number" in str(rows[2][1])
    assert isinstance(rows[3][1], RowError)


def test_json_rows() -> None:
    rows = list(json_items('{"Id": "a", "Metrics": {"m": 1}}\n[1]\n{"Id": 5}\n'))
    assert rows[0] == (1, {"Id": "a", "Metrics": {"m": 1}})
    assert all(isinstance(entry, RowError) for _, entry in rows[1:])


def test_journey_transitions() -> None:
    active: dict[str, Any] = {"State": "ACTIVE", "RefreshFrequency": "PT1H"}
    journeys.check_state_request(active, "PAUSED")
    journeys.check_state_request(active, "CANCELLED")
    journeys.check_state_request({"State": "PAUSED"}, "ACTIVE")
    journeys.check_state_request({"State": "DRAFT"}, "ACTIVE")  # lenient
    journeys.check_update({"State": "DRAFT"}, "ACTIVE")
    journeys.check_update(active, None)
    for journey, state in [
        ({"State": "CLOSED"}, "ACTIVE"),
        ({"State": "COMPLETED"}, "CANCELLED"),
        ({"State": "ACTIVE"}, "PAUSED"),  # no RefreshFrequency
        ({"State": "ACTIVE"}, "DRAFT"),
    ]:
        with pytest.raises(BadRequestError):
            journeys.check_state_request(journey, state)
    with pytest.raises(BadRequestError):
        journeys.check_update({"State": "PAUSED"}, "DRAFT")
    with pytest.raises(BadRequestError):
        journeys.check_create("PAUSED")


def test_masking_follows_the_shape() -> None:
    model = service_model("pinpoint")
    campaign = {
        "Name": "n",
        "TreatmentName": "t",
        "AdditionalTreatments": [{"Id": "1", "SizePercent": 5, "TreatmentDescription": "d"}],
        "MessageConfiguration": {"DefaultMessage": {"Body": "b"}},
        "Schedule": {"EventFilter": {"Dimensions": {"Attributes": {"Name": {"Values": ["v"]}}}}},
        "SegmentId": "s",
    }
    masked = mask_free_text(model.shape_for("CampaignResponse"), campaign)
    assert masked["Name"] == masked["TreatmentName"] == masked["MessageConfiguration"] == "***"
    assert masked["AdditionalTreatments"][0]["TreatmentDescription"] == "***"
    assert masked["Schedule"] == campaign["Schedule"]
    assert masked["SegmentId"] == "s"
    assert campaign["Name"] == "n"  # the input is not modified


def test_paging() -> None:
    items = list(range(5))
    first, token = page(items, "2", None)
    second, token2 = page(items, "2", token)
    last, token3 = page(items, "2", token2)
    assert (first, second, last, token3) == ([0, 1], [2, 3], [4], None)
    assert page(items, None, None) == (items, None)
    for bad_size in ("0", "x"):
        with pytest.raises(BadRequestError):
            page(items, bad_size, None)
