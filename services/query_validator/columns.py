"""The columns a Pinpoint endpoint import file may carry, and how a result column maps to one.

Pinpoint reads the CSV header in dot notation and case-sensitively, so `id` or
`attributes.Plan` are not the columns they look like. `RequestId` is accepted: the import
documentation lists it beside the others (it labels the endpoint update request), and
refusing a column Pinpoint takes would only surprise analysts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ID_COLUMN = "Id"

FIXED_COLUMNS: frozenset[str] = frozenset(
    {
        ID_COLUMN,
        "Address",
        "ChannelType",
        "User.UserId",
        "OptOut",
        "EffectiveDate",
        "RequestId",
        *(
            f"Location.{field}"
            for field in ("City", "Country", "Latitude", "Longitude", "PostalCode", "Region")
        ),
        *(
            f"Demographic.{field}"
            for field in (
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
    }
)


class AttributeFamily(StrEnum):
    """The custom attribute columns; their names count against the project's 250."""

    ATTRIBUTES = "Attributes."
    METRICS = "Metrics."
    USER_ATTRIBUTES = "User.UserAttributes."


_FIXED_BY_LOWERCASE = {column.lower(): column for column in FIXED_COLUMNS}

# How a rejection names the columns an analyst may use.
IMPORT_COLUMNS_HELP = (
    "Id, Address, ChannelType, Attributes.<name>, Metrics.<name>, User.UserId, "
    "User.UserAttributes.<name>, Location.{City,Country,Latitude,Longitude,PostalCode,Region}, "
    "Demographic.{AppVersion,Locale,Make,Model,ModelVersion,Platform,PlatformVersion,Timezone}, "
    "OptOut, EffectiveDate, RequestId"
)


@dataclass(frozen=True)
class CustomAttribute:
    family: AttributeFamily
    name: str


@dataclass(frozen=True)
class ColumnClass:
    """What a result column is to Pinpoint: a fixed column, a custom attribute, or neither."""

    column: str
    attribute: CustomAttribute | None = None
    known: bool = True
    # For an unknown column that differs from a Pinpoint column only in letter case.
    spelled_as: str | None = None


def classify_column(column: str) -> ColumnClass:
    if column in FIXED_COLUMNS:
        return ColumnClass(column)
    for family in AttributeFamily:
        if column.startswith(family.value):
            name = column.removeprefix(family.value)
            return ColumnClass(column, attribute=CustomAttribute(family, name))
    return ColumnClass(column, known=False, spelled_as=_case_insensitive_match(column))


def _case_insensitive_match(column: str) -> str | None:
    lowered = column.lower()
    if lowered in _FIXED_BY_LOWERCASE:
        return _FIXED_BY_LOWERCASE[lowered]
    for family in AttributeFamily:
        if lowered.startswith(family.value.lower()):
            return family.value + column[len(family.value) :]
    return None
