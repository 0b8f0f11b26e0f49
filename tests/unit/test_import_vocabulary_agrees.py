"""The validator, the importer and the Pinpoint emulator agree on Pinpoint's import file.

The validator and the importer read one vocabulary (services.common.targets.pinpoint); the
emulator is written independently from Pinpoint's documentation. Feeding the same headers
and values to all three holds the vocabulary to what Pinpoint accepts: a column the
validator admits is one the importer writes and Pinpoint imports, and a value the importer
passes is one Pinpoint stores.
"""

from __future__ import annotations

import io

import pytest

from infra.local.pinpoint.endpoints import EndpointLimits, validate_endpoint
from infra.local.pinpoint.errors import BadRequestError
from infra.local.pinpoint.import_rows import InvalidHeaderError, RowError, csv_items
from infra.local.pinpoint.import_rows import parse_header as emulator_header
from services.common.sql_rules import ValidationPolicy, validate
from services.common.targets.pinpoint.imports import PINPOINT_IMPORTS
from services.importer.rows import InvalidResultError, check_rows
from services.importer.rows import parse_header as importer_header

COLUMN_CODES = {
    "UNKNOWN_COLUMN",
    "COLUMN_CASE_MISMATCH",
    "ATTRIBUTE_NAME_INVALID",
    "ATTRIBUTE_NAME_TOO_LONG",
}
HEADERS = [
    *PINPOINT_IMPORTS.fixed,
    "EndpointStatus",  # listed by Pinpoint's import documentation
    "Attributes.Plan",
    "Metrics.Score",
    "User.UserAttributes.Tier",
    "Attributes." + "a" * 50,
    "Attributes." + "a" * 51,
    "Attributes.",
    "attributes.Plan",
    "id",
    "Demographic.timezone",
    "EndpointStatus.Value",
    "Location",
    "endpoint_id",
]


def _validator_takes(header: str) -> bool:
    other = "" if header == "Id" else ', endpoint_id AS "Id"'
    sql = f'SELECT endpoint_id AS "{header}"{other} FROM email_open'  # noqa: S608 - test data
    verdict = validate(sql, ValidationPolicy())
    return not COLUMN_CODES & set(verdict.codes)


def _importer_takes(header: str) -> bool:
    try:
        importer_header(["Id", header] if header != "Id" else ["Id"])
    except InvalidResultError:
        return False
    return True


def _emulator_takes(header: str) -> bool:
    try:
        emulator_header(["Id", header] if header != "Id" else ["Id"])
    except InvalidHeaderError:
        return False
    return True


@pytest.mark.parametrize("header", HEADERS)
def test_the_three_agree_on_every_header(header: str) -> None:
    verdicts = {
        "validator": _validator_takes(header),
        "importer": _importer_takes(header),
        "emulator": _emulator_takes(header),
    }
    assert len(set(verdicts.values())) == 1, verdicts


def test_endpoint_status_is_an_import_column() -> None:
    assert _validator_takes("EndpointStatus")
    assert _importer_takes("EndpointStatus")


VALUES = [
    ("ChannelType", "EMAIL"),
    ("ChannelType", "APNS_VOIP_SANDBOX"),
    ("ChannelType", "email"),
    ("ChannelType", "FAX"),
    ("OptOut", "ALL"),
    ("OptOut", "NONE"),
    ("OptOut", "SOME"),
    ("Metrics.Score", "42"),
    ("Metrics.Score", "-0.5"),
    ("Metrics.Score", "1.0E10"),
    ("Metrics.Score", "ten"),
    ("Metrics.Score", "inf"),
    ("Location.Latitude", "47.6"),
    ("Location.Latitude", "north"),
    ("Attributes.Plan", "x" * 100),
    ("Attributes.Plan", "x" * 101),
    ("User.UserAttributes.Tier", "gold"),
    ("User.UserAttributes.Tier", "y" * 101),
    ("EndpointStatus", "ACTIVE"),
    ("Address", "a@example.com"),
]


def _importer_passes(header: str, value: str) -> bool:
    source = io.BytesIO(f'"Id","{header}"\n"e-1","{value}"\n'.encode())
    report = check_rows(source, io.BytesIO())
    return report.rows_rejected == 0


def _emulator_passes(header: str, value: str) -> bool:
    [(_, item)] = list(csv_items(f"Id,{header}\ne-1,{value}\n"))
    if isinstance(item, RowError):
        return False
    try:
        validate_endpoint(item, set(), EndpointLimits())
    except BadRequestError:
        return False
    return True


@pytest.mark.parametrize(("header", "value"), VALUES)
def test_the_importer_and_the_emulator_agree_on_every_value(header: str, value: str) -> None:
    assert _importer_passes(header, value) == _emulator_passes(header, value)
