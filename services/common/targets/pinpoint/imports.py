"""Pinpoint's endpoint import file: its columns, their values, and its limits.

Pinpoint reads the CSV header in dot notation and case-sensitively, so `id` or
`attributes.Plan` are not the columns they look like. `RequestId` and `EndpointStatus` are
columns the import documentation lists beside the others; refusing a column Pinpoint takes
would only surprise analysts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.common.targets.imports import (
    Clearing,
    ImportColumn,
    ImportLimits,
    ImportVocabulary,
    ValueKind,
    record_item,
)

CHANNEL_TYPES = (
    "APNS_VOIP_SANDBOX",
    "APNS_SANDBOX",
    "APNS_VOIP",
    "IN_APP",
    "CUSTOM",
    "BAIDU",
    "EMAIL",
    "VOICE",
    "APNS",
    "PUSH",
    "GCM",
    "ADM",
    "SMS",
)
OPT_OUT_VALUES = ("NONE", "ALL")
_LOCATION_TEXT = ("City", "Country", "PostalCode", "Region")
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

PINPOINT_IMPORTS = ImportVocabulary(
    target="Pinpoint",
    id_column="Id",
    fixed={
        "Id": (("Id",), ValueKind.ID),
        "Address": (("Address",), ValueKind.TEXT),
        "ChannelType": (("ChannelType",), ValueKind.CHANNEL),
        "OptOut": (("OptOut",), ValueKind.OPT_OUT),
        "EffectiveDate": (("EffectiveDate",), ValueKind.TEXT),
        "EndpointStatus": (("EndpointStatus",), ValueKind.TEXT),
        "RequestId": (("RequestId",), ValueKind.TEXT),
        "User.UserId": (("User", "UserId"), ValueKind.TEXT),
        "Location.Latitude": (("Location", "Latitude"), ValueKind.NUMBER),
        "Location.Longitude": (("Location", "Longitude"), ValueKind.NUMBER),
        **{f"Location.{name}": (("Location", name), ValueKind.TEXT) for name in _LOCATION_TEXT},
        **{f"Demographic.{name}": (("Demographic", name), ValueKind.TEXT) for name in _DEMOGRAPHIC},
    },
    families={
        "Attributes.": (("Attributes",), ValueKind.ATTRIBUTE),
        "Metrics.": (("Metrics",), ValueKind.NUMBER),
        "User.UserAttributes.": (("User", "UserAttributes"), ValueKind.ATTRIBUTE),
    },
    allowed_values={
        ValueKind.CHANNEL: frozenset(CHANNEL_TYPES),
        ValueKind.OPT_OUT: frozenset(OPT_OUT_VALUES),
    },
    limits=ImportLimits(
        max_attribute_name=50,
        max_attribute_value=100,
        max_values_per_attribute=50,
        max_custom_attributes=250,  # per project: Attributes, Metrics and UserAttributes
        max_record_bytes=15 * 1024,  # one endpoint
        # Room for the fields Pinpoint adds to every stored endpoint (ApplicationId,
        # CohortId, CreationDate, EffectiveDate, EndpointStatus, OptOut): ~200 bytes.
        record_allowance=512,
        max_file_bytes=1024**3,  # one import job
    ),
    columns_help=(
        "Id, Address, ChannelType, Attributes.<name>, Metrics.<name>, User.UserId, "
        "User.UserAttributes.<name>, "
        "Location.{City,Country,Latitude,Longitude,PostalCode,Region}, "
        "Demographic.{AppVersion,Locale,Make,Model,ModelVersion,Platform,PlatformVersion,"
        "Timezone}, OptOut, EffectiveDate, EndpointStatus, RequestId"
    ),
    clearing=Clearing.EMPTY_LIST,
    segment_is_the_import=True,
)

# A Pinpoint imported segment is every endpoint of the import that made it (a new version
# each refresh), so the leavers a mirror clears in that import would join the segment.
MIRRORED_PINPOINT_SEGMENT = (
    "mirror with a Pinpoint segment: an imported segment holds every endpoint of its import, "
    "so the leavers a mirror clears would join it; sync the segment without mirror, or "
    "mirror without segment_name/segment_id"
)


_RESOURCE_ID_CHARS = frozenset("0123456789abcdef")


def is_resource_id(value: str | None) -> bool:
    """Whether `value` reads as a Pinpoint id (32 lower-case hex digits)."""
    return bool(value) and len(value or "") == 32 and set(value or "") <= _RESOURCE_ID_CHARS


# ------------------------------------------------------------------ JSON import files


def endpoint_item(columns: Sequence[ImportColumn], cells: Sequence[str]) -> dict[str, Any]:
    """One row of a CSV import file as the line of a JSON import file says it (an
    EndpointBatchItem): an empty cell sets nothing, as in the CSV file."""
    return record_item(columns, cells)


def cleared_item(columns: Sequence[ImportColumn], endpoint_id: str) -> dict[str, Any]:
    """The JSON import line that removes the custom attributes `columns` write from one
    endpoint: each given as an empty list (Pinpoint keeps what an update does not name)."""
    item: dict[str, Any] = {"Id": endpoint_id}
    for column in columns:
        if PINPOINT_IMPORTS.clears(column):
            target = item
            for key in column.path[:-1]:
                target = target.setdefault(key, {})
            target[column.path[-1]] = []
    return item


# ------------------------------------------------------------------ the import job's flow


@dataclass(frozen=True)
class ImportJobSpec:
    """What CreateImportJob is asked for (Format CSV, RegisterEndpoints true)."""

    s3_url: str
    role_arn: str
    segment_name: str | None = None
    segment_id: str | None = None
    format: str = "CSV"  # JSON for a file that clears attributes (a mirror sync)


@dataclass(frozen=True)
class ImportJobView:
    """What GetImportJob says of a job, and how its outcome reads."""

    job_id: str
    status: str
    total_processed: int = 0
    total_failures: int = 0
    failures: tuple[str, ...] = ()
    segment_id: str | None = None

    @property
    def finished(self) -> bool:
        return self.status in {"COMPLETED", "FAILED"}

    @property
    def succeeded(self) -> bool:
        """COMPLETED: every row went in, or some did (partial, `total_failures` > 0)."""
        return self.status == "COMPLETED"

    @property
    def partial(self) -> bool:
        return self.succeeded and self.total_failures > 0

    @property
    def imported(self) -> int:
        return max(self.total_processed - self.total_failures, 0)

    @property
    def failure_summary(self) -> str:
        return f"{self.total_failures} failure(s) reported; see the failure sample"

    def completed_fields(self, failure_sample: tuple[str, ...]) -> dict[str, Any]:
        """What an EndpointImportCompleted says of the job."""
        return {
            "endpoints_imported": self.imported,
            "pinpoint_failures": self.total_failures,
            "pinpoint_failure_sample": list(failure_sample),
        }

    def failed_fields(self, failure_sample: tuple[str, ...]) -> dict[str, Any]:
        """What an EndpointImportFailed says of the job."""
        return {"pinpoint_failure_sample": list(failure_sample)}
