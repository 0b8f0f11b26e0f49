"""Pinpoint's import file rules: CSV header in dot notation and newline-delimited JSON.

Pure: text in, endpoint items (``EndpointBatchItem`` member form) or row errors out.

Decisions where the documentation is silent (kept here so they are easy to revisit):
- An invalid CSV header (unknown column, wrong case, a non-repeatable column twice, an
  attribute name over the length limit) fails the whole file, and so the job: Pinpoint
  cannot map any row of such a file.
- A bad row (wrong cell count, non-numeric metric, invalid JSON) fails only that row; it
  is counted in TotalFailures and its message sampled in Failures.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from infra.local.botocore_hook import ShapeMismatchError, service_model, to_wire

_TOP_LEVEL = {
    "Id": ("Id",),
    "Address": ("Address",),
    "ChannelType": ("ChannelType",),
    "OptOut": ("OptOut",),
    "EffectiveDate": ("EffectiveDate",),
    "EndpointStatus": ("EndpointStatus",),
    "RequestId": ("RequestId",),
    "User.UserId": ("User", "UserId"),
}
_LOCATION_TEXT = ("City", "Country", "PostalCode", "Region")
_LOCATION_NUMBERS = ("Latitude", "Longitude")
_DEMOGRAPHIC = (
    "AppVersion",
    "Locale",
    "Make",
    "Model",
    "ModelVersion",
    "Platform",
    "PlatformVersion",
    "Timezone",
)
_MAX_ATTRIBUTE_NAME = 50


class InvalidHeaderError(ValueError):
    """The CSV header cannot be mapped to endpoint fields: the file cannot be imported."""


class RowError(ValueError):
    """One row cannot be turned into an endpoint; the rest of the file still imports."""


@dataclass(frozen=True)
class Column:
    """Where one CSV column goes: ``path`` into the item, and how its text is read."""

    header: str
    path: tuple[str, ...]
    kind: str  # "text" | "number" | "list" (one value of a repeatable attribute)


def parse_header(header: Sequence[str]) -> list[Column]:
    columns: list[Column] = []
    seen: set[str] = set()
    for raw in header:
        column = _column(raw)
        if column.kind != "list" and raw in seen:
            raise InvalidHeaderError(f"Column '{raw}' appears more than once in the header")
        seen.add(raw)
        columns.append(column)
    if not columns:
        raise InvalidHeaderError("The file has no header row")
    return columns


def _fields(group: str, names: Sequence[str], kind: str) -> dict[str, Column]:
    return {f"{group}.{name}": Column(f"{group}.{name}", (group, name), kind) for name in names}


# Fixed sub-fields of the Location and Demographic structures
_STRUCTURE_FIELDS = {
    **_fields("Location", _LOCATION_TEXT, "text"),
    **_fields("Location", _LOCATION_NUMBERS, "number"),
    **_fields("Demographic", _DEMOGRAPHIC, "text"),
}
# Open-ended attribute columns: header prefix -> (path into the item, kind)
_ATTRIBUTE_PREFIXES = {
    "Attributes.": (("Attributes",), "list"),
    "Metrics.": (("Metrics",), "number"),
    "User.UserAttributes.": (("User", "UserAttributes"), "list"),
}


def _column(header: str) -> Column:
    if header in _TOP_LEVEL:
        return Column(header, _TOP_LEVEL[header], "text")
    if header in _STRUCTURE_FIELDS:
        return _STRUCTURE_FIELDS[header]
    for prefix, (path, kind) in _ATTRIBUTE_PREFIXES.items():
        name = header.removeprefix(prefix)
        if header.startswith(prefix) and name:
            return Column(header, (*path, _attribute_name(header, name)), kind)
    raise InvalidHeaderError(
        f"Invalid column '{header}' in the header: not a Pinpoint endpoint attribute "
        "(column names are case sensitive and use dot notation)"
    )


def _attribute_name(header: str, name: str) -> str:
    if len(name) > _MAX_ATTRIBUTE_NAME:
        raise InvalidHeaderError(
            f"Attribute name in column '{header}' is longer than {_MAX_ATTRIBUTE_NAME} characters"
        )
    return name


def csv_items(text: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """(line number, item or row error) for every data row; raises InvalidHeaderError."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader, None)
    columns = parse_header(header or [])
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        try:
            yield line, _row_item(columns, row)
        except RowError as error:
            yield line, error


def _row_item(columns: Sequence[Column], row: Sequence[str]) -> dict[str, Any]:
    if len(row) != len(columns):
        raise RowError(f"Expected {len(columns)} values but found {len(row)}")
    item: dict[str, Any] = {}
    for column, cell in zip(columns, row, strict=True):
        if cell == "":
            continue  # an empty cell leaves the field unset
        if "\t" in cell or "\n" in cell or "\r" in cell:
            raise RowError(f"Value of '{column.header}' contains a tab or line break")
        target = item
        for key in column.path[:-1]:
            target = target.setdefault(key, {})
        leaf = column.path[-1]
        if column.kind == "list":
            target.setdefault(leaf, []).append(cell)
        elif column.kind == "number":
            target[leaf] = _number(column.header, cell)
        else:
            target[leaf] = cell
    return item


def _number(header: str, cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise RowError(f"Value '{cell}' of '{header}' is not a number") from None
    if not math.isfinite(value):
        raise RowError(f"Value '{cell}' of '{header}' is not a finite number")
    return value


def json_items(text: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """(line number, item or row error) for newline-delimited EndpointBatchItem objects."""
    item_shape = service_model("pinpoint").shape_for("EndpointBatchItem")
    for line_number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield line_number, RowError(f"Invalid JSON: {error.msg}")
            continue
        if not isinstance(value, dict):
            yield line_number, RowError("Each line must be one JSON object")
            continue
        try:
            # The strict encoder doubles as a validator: unknown fields and wrong types fail.
            to_wire(item_shape, value)
        except ShapeMismatchError as error:
            yield line_number, RowError(f"Invalid endpoint definition: {error}")
            continue
        yield line_number, value
