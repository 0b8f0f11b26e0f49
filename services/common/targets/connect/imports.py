"""Customer Profiles' upload file: the column mapping from a segment query, its limits, and
the upload job's flow (segment import).

The same query runs on Pinpoint and on Connect. Its columns keep their Pinpoint names and
map onto a profile (docs/MIGRATING.md has the table):

| query column | profile field | ContentType |
| --- | --- | --- |
| `Id` | the stack's `ConnectProfileKey` (`AccountNumber` by default) | STRING, UniqueKey |
| `Attributes.X`, `User.UserAttributes.X` | `Attributes.X` | STRING |
| `Metrics.X` | `Attributes.X` | NUMBER |
| `Address` | `EmailAddress` | EMAIL_ADDRESS |
| `Location.City`, `.Country`, `.PostalCode` | `Address.City`, `.Country`, `.PostalCode` | STRING |
| `Location.Region` | `Address.State` | STRING |

`Address` is always an email address: a profile keeps each channel in its own field, and
which channel a row's address is cannot be known from the row (a query selecting
`ChannelType` is refused rather than guessed at). Columns with no place on a profile are
refused with a reason that names Connect (`CONNECT_UNAVAILABLE`).

Field names of the upload (its CSV columns) are the profile paths (`Attributes.Plan`), so a
custom attribute's name must fit Customer Profiles' field names: 1-64 of letters, digits,
`_`, `.` and `-`, i.e. at most 53 after `Attributes.`. Profile attributes hold one value,
so two columns writing the same attribute (`Attributes.Plan` and
`User.UserAttributes.Plan`) are refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.common.targets.imports import (
    ImportColumn,
    ImportLimits,
    ImportVocabulary,
    ValueKind,
)

FIELD_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")  # an upload job's field (CSV column)
SEGMENT_DEFINITION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
ATTRIBUTES_PREFIX = "Attributes."
DEFAULT_PROFILE_KEY = "AccountNumber"
# Profile keys a stack may name for `Id`: AccountNumber, or one custom attribute.
PROFILE_KEY_PATTERN = r"^(AccountNumber|Attributes\.[a-zA-Z0-9_.-]{1,53})$"
MAX_ATTRIBUTE_NAME = 64 - len(ATTRIBUTES_PREFIX)
MAX_VALUE = 255  # Customer Profiles' string fields and attribute values: 1-255
UPLOAD_STATUSES_FINISHED = frozenset({"SUCCEEDED", "PARTIALLY_SUCCEEDED", "FAILED", "STOPPED"})
# The attribute an upload writes for a run that defines a segment (see `segment_groups`).
SEGMENT_MARKER_FIELD = "pinpoint_lake_segment"
SEGMENT_MARKER_PREFIX = "pinpoint_lake.segment."

CONTENT_TYPES = {ValueKind.EMAIL: "EMAIL_ADDRESS", ValueKind.NUMBER: "NUMBER"}

_NO_CHANNELS = "a Connect profile has no channel type: Address is its EmailAddress"
_NO_ENDPOINT_STATE = "a Connect profile has no endpoint state"
_UNAVAILABLE = {
    "ChannelType": _NO_CHANNELS,
    "OptOut": _NO_ENDPOINT_STATE + " (opt-outs live in Connect's communication preferences)",
    "EffectiveDate": _NO_ENDPOINT_STATE,
    "EndpointStatus": _NO_ENDPOINT_STATE,
    "RequestId": _NO_ENDPOINT_STATE,
    "User.UserId": "a Connect profile has no user id: select it as Attributes.UserId",
    "Location.Latitude": "a Connect profile address has no coordinates",
    "Location.Longitude": "a Connect profile address has no coordinates",
    "Demographic.": "a Connect profile has no device demographics",
}


def connect_imports(profile_key: str = DEFAULT_PROFILE_KEY) -> ImportVocabulary:
    """Connect's vocabulary; `Id` goes to `profile_key` (the stack's ConnectProfileKey)."""
    if re.fullmatch(PROFILE_KEY_PATTERN, profile_key) is None:
        raise ValueError(
            f"{profile_key!r} is not a profile key (AccountNumber or Attributes.<name>)"
        )
    return ImportVocabulary(
        target="Connect",
        id_column="Id",
        fixed={
            "Id": (tuple(profile_key.split(".", 1)), ValueKind.ID),
            "Address": (("EmailAddress",), ValueKind.EMAIL),
            "Location.City": (("Address", "City"), ValueKind.TEXT),
            "Location.Country": (("Address", "Country"), ValueKind.TEXT),
            "Location.PostalCode": (("Address", "PostalCode"), ValueKind.TEXT),
            "Location.Region": (("Address", "State"), ValueKind.TEXT),
        },
        families={
            "Attributes.": (("Attributes",), ValueKind.ATTRIBUTE),
            "User.UserAttributes.": (("Attributes",), ValueKind.ATTRIBUTE),
            "Metrics.": (("Attributes",), ValueKind.NUMBER),
        },
        allowed_values={},
        limits=ImportLimits(
            max_attribute_name=MAX_ATTRIBUTE_NAME,
            max_attribute_value=MAX_VALUE,
            max_values_per_attribute=1,  # a profile attribute holds one value
            # No documented bound on a profile's attributes (unconfirmed): the upload's
            # Fields map takes one field per column.
            max_custom_attributes=1000,
            max_record_bytes=256_000,  # a profile object: at most 256,000 characters
            record_allowance=512,  # ProfileId and the fields the service adds
            max_file_bytes=1024**3 - 1,  # "under 1 GB"
            max_text_value=MAX_VALUE,
        ),
        columns_help=(
            "Id, Address (the EmailAddress), Attributes.<name>, User.UserAttributes.<name>, "
            "Metrics.<name>, Location.{City,Country,PostalCode,Region}"
        ),
        unavailable=_UNAVAILABLE,
        attribute_name_pattern=r"[a-zA-Z0-9_.-]+",
        attribute_name_help="letters, digits, '_', '.' and '-'",
        header_is_target_path=True,
    )


CONNECT_IMPORTS = connect_imports()


# ------------------------------------------------------------------ the upload job's flow


def segment_marker(segment_name: str) -> str:
    """The profile attribute an upload sets (to the run id) on every row of a run that
    defines the segment `segment_name`."""
    return SEGMENT_MARKER_PREFIX + segment_name


def upload_fields(
    vocabulary: ImportVocabulary, headers: Sequence[str], *, segment_name: str | None = None
) -> tuple[dict[str, dict[str, str]], str]:
    """CreateUploadJob's `Fields` and `UniqueKey` for an import file written with the
    query's columns `headers` (plus the segment marker column, with `segment_name`)."""
    fields: dict[str, dict[str, str]] = {}
    unique_key = ""
    for header in headers:
        column = vocabulary.column(header)
        if column is None:
            raise ValueError(f"column {header!r} is not a {vocabulary.target} column")
        name = vocabulary.file_column(column)
        fields[name] = _field(name, column)
        if column.kind is ValueKind.ID:
            unique_key = name
    if segment_name is not None:
        fields[SEGMENT_MARKER_FIELD] = {
            "Source": f"_source.{SEGMENT_MARKER_FIELD}",
            "Target": f"_profile.Attributes.{segment_marker(segment_name)}",
            "ContentType": "STRING",
        }
    return fields, unique_key


def _field(name: str, column: ImportColumn) -> dict[str, str]:
    return {
        "Source": f"_source.{name}",
        "Target": f"_profile.{name}",
        "ContentType": CONTENT_TYPES.get(column.kind, "STRING"),
    }


def segment_groups(segment_name: str, run_id: str) -> dict[str, Any]:
    """The CLASSIC segment of a run's rows: profiles whose marker holds the run id."""
    marker = {segment_marker(segment_name): {"DimensionType": "INCLUSIVE", "Values": [run_id]}}
    return {
        "Groups": [{"Dimensions": [{"ProfileAttributes": {"Attributes": marker}}], "Type": "ALL"}],
        "Include": "ALL",
    }


def upload_display_name(run_id: str) -> str:
    """One display name per run: how a redelivery finds the run's job (ListUploadJobs)."""
    return f"pinpoint-lake {run_id}"


@dataclass(frozen=True)
class UploadJobSpec:
    """What CreateUploadJob is asked for."""

    display_name: str
    fields: Mapping[str, Mapping[str, str]]
    unique_key: str
    data_expiry_days: int | None = None


@dataclass(frozen=True)
class UploadJobView:
    """What GetUploadJob says of a job, and how its outcome reads."""

    job_id: str
    status: str
    status_reason: str | None = None
    created: int = 0
    updated: int = 0
    failed: int = 0

    @property
    def finished(self) -> bool:
        return self.status in UPLOAD_STATUSES_FINISHED

    @property
    def succeeded(self) -> bool:
        """SUCCEEDED, or PARTIALLY_SUCCEEDED (some rows failed: a partial run)."""
        return self.status in {"SUCCEEDED", "PARTIALLY_SUCCEEDED"}

    @property
    def partial(self) -> bool:
        return self.status == "PARTIALLY_SUCCEEDED" or (self.succeeded and self.failed > 0)

    @property
    def imported(self) -> int:
        return self.created + self.updated

    @property
    def segment_id(self) -> str | None:
        return None  # an upload job defines no segment (the importer defines one after it)

    @property
    def failures(self) -> tuple[str, ...]:
        return (self.status_reason,) if self.status_reason else ()

    @property
    def failure_summary(self) -> str:
        return f"{self.status_reason or 'no reason given'}; {self.failed} row(s) failed"

    def counts(self) -> dict[str, Any]:
        return {
            "profiles_created": self.created,
            "profiles_updated": self.updated,
            "profiles_failed": self.failed,
        }

    def completed_fields(self, failure_sample: tuple[str, ...]) -> dict[str, Any]:
        """What an EndpointImportCompleted says of the job (endpoints = profiles written)."""
        return {"endpoints_imported": self.imported, **self.counts()}

    def failed_fields(self, failure_sample: tuple[str, ...]) -> dict[str, Any]:
        """What an EndpointImportFailed says of the job."""
        return self.counts()
