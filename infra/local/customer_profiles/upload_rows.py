"""Pure rules of an upload job's file: field targets, the CSV header and each row's values.

``Fields`` maps a field name to ``{Source, Target, ContentType}``: ``Source`` is
``_source.<CSV column>`` (the field name itself when omitted), ``Target`` a profile field
(``_profile.EmailAddress``, ``_profile.Address.City``, ``_profile.Attributes.<name>``).
A row becomes a profile update; a value that breaks its ContentType or the profile's
limits fails the row, and the file's other rows go on.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import BadRequestError
from .profiles import ADDRESS_FIELDS, STRING_FIELDS

ADDRESS_PARTS = frozenset(
    {
        "Address1",
        "Address2",
        "Address3",
        "Address4",
        "City",
        "County",
        "State",
        "Province",
        "Country",
        "PostalCode",
    }
)
ENUM_FIELDS = {
    "PartyType": frozenset({"INDIVIDUAL", "BUSINESS", "OTHER"}),
    "Gender": frozenset({"MALE", "FEMALE", "UNSPECIFIED"}),
    "ProfileType": frozenset({"ACCOUNT_PROFILE", "PROFILE"}),
}
LONG_FIELDS = {"AdditionalInformation": 1000}
MAX_VALUE = 255
EMAIL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
PHONE = re.compile(r"^\+?[0-9]{7,15}$")
PHONE_SEPARATORS = re.compile(r"[\s().-]")
NAME = re.compile(r"^[^\W\d_]+(?:[ '.,-]+[^\W\d_]*)*$")


class RowError(ValueError):
    """The row cannot be applied; counted in FailedRecords."""


class FileError(ValueError):
    """The file cannot be read at all; the job fails (VALIDATION_FAILURE)."""


@dataclass(frozen=True)
class FieldRule:
    name: str
    column: str
    target: str  # profile path: "EmailAddress", "Address.City", "Attributes.Tier"
    content_type: str


def field_rules(fields: Mapping[str, Any], unique_key: str) -> dict[str, FieldRule]:
    """The job's fields, checked at CreateUploadJob (400 for a bad one)."""
    rules: dict[str, FieldRule] = {}
    for name, spec in fields.items():
        source = str(spec.get("Source") or f"_source.{name}")
        if not source.startswith("_source.") or source == "_source.":
            raise BadRequestError(f"Field {name}: Source must be _source.<column>, got {source}")
        target = str(spec.get("Target") or "")
        path = _target_path(name, target)
        rules[name] = FieldRule(
            name, source.removeprefix("_source."), path, str(spec.get("ContentType") or "STRING")
        )
    if unique_key not in rules:
        raise BadRequestError(f"UniqueKey {unique_key} must name one of the Fields")
    return rules


def _target_path(name: str, target: str) -> str:
    path = target.removeprefix("_profile.")
    head, _, rest = path.partition(".")
    valid = (
        (target.startswith("_profile.") and head in STRING_FIELDS and not rest)
        or (head in ADDRESS_FIELDS and rest in ADDRESS_PARTS)
        or (head == "Attributes" and 1 <= len(rest) <= MAX_VALUE)
    )
    if not valid:
        raise BadRequestError(f"Field {name}: Target {target!r} is not a profile field")
    return path


def read_rows(body: bytes, rules: Mapping[str, FieldRule]) -> Iterator[dict[str, str]]:
    """The rows of the CSV file as {column: value}, after checking the header."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileError("the file is not UTF-8") from error
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise FileError("the file has no header row")
    header = [column.strip() for column in header]
    missing = sorted({rule.column for rule in rules.values()} - set(header))
    if missing:
        raise FileError(f"the header lacks the column(s) {', '.join(missing)}")
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            yield {"": f"{len(cells)} cells where the header has {len(header)}"}
            continue
        yield dict(zip(header, cells, strict=True))


def row_update(row: Mapping[str, str], rules: Mapping[str, FieldRule]) -> dict[str, Any]:
    """The profile fields a row sets (member form), or :class:`RowError`."""
    if "" in row and len(row) == 1:
        raise RowError(row[""])
    update: dict[str, Any] = {}
    for rule in rules.values():
        raw = row.get(rule.column, "").strip()
        # An empty value removes the field, as UpdateProfile's empty string does.
        value = checked_value(rule, raw) if raw else ""
        head, _, rest = rule.target.partition(".")
        if rest:
            update.setdefault(head, {})[rest] = value
        else:
            update[head] = value
    return update


def checked_value(rule: FieldRule, raw: str) -> str:
    limit = LONG_FIELDS.get(rule.target, MAX_VALUE)
    if len(raw) > limit:
        raise RowError(f"{rule.name}: longer than {limit} characters")
    kind = rule.content_type
    if kind == "NUMBER":
        try:
            number = float(raw)
        except ValueError:
            raise RowError(f"{rule.name}: not a number") from None
        if not math.isfinite(number):
            raise RowError(f"{rule.name}: not a number")
    elif kind == "EMAIL_ADDRESS" and not EMAIL.match(raw):
        raise RowError(f"{rule.name}: not an email address")
    elif kind == "PHONE_NUMBER" and not PHONE.match(PHONE_SEPARATORS.sub("", raw)):
        raise RowError(f"{rule.name}: not a phone number")
    elif kind == "NAME" and not NAME.match(raw):
        raise RowError(f"{rule.name}: not a name")
    allowed = ENUM_FIELDS.get(rule.target)
    if allowed is not None and raw not in allowed:
        raise RowError(f"{rule.name}: not one of {', '.join(sorted(allowed))}")
    return raw
