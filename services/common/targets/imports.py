"""The import port: what a target's import file may carry, and its limits.

The query validator (which output columns a query may have) and the importer (which rows
pass before they are sent) read the same vocabulary, so they cannot drift apart: a column
the validator admits is one the importer can write, and the other way round.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class ValueKind(Enum):
    """How a column's values are checked."""

    ID = "id"
    TEXT = "text"
    ATTRIBUTE = "attribute"  # one value of a (repeatable) custom attribute column
    NUMBER = "number"
    CHANNEL = "channel"
    OPT_OUT = "opt_out"
    EMAIL = "email"  # an email address (Connect's EMAIL_ADDRESS content type)


class Clearing(Enum):
    """How the target's import file clears a member's field: what a mirror sync writes for
    a member who left the result."""

    # An empty value removes the field (Customer Profiles): every column but the key clears.
    EMPTY_VALUE = "empty_value"
    # A custom attribute given as an empty list is removed (Pinpoint's endpoint attributes),
    # which only a JSON import file can say: list-valued custom attributes clear; fixed
    # fields (an endpoint keeps its address) and metrics (a number has no empty value) stay.
    EMPTY_LIST = "empty_list"


@dataclass(frozen=True)
class ImportColumn:
    """One column of an import file: where its value goes, and how it is checked."""

    header: str
    path: tuple[str, ...]  # where the value goes in the target's record
    kind: ValueKind
    family: str | None = None  # the prefix of a custom attribute column, e.g. "Attributes."

    @property
    def attribute_name(self) -> str | None:
        """The custom attribute's name (None for a fixed column)."""
        return None if self.family is None else self.header.removeprefix(self.family)


@dataclass(frozen=True)
class ImportLimits:
    max_attribute_name: int
    max_attribute_value: int
    max_values_per_attribute: int
    max_custom_attributes: int  # distinct custom attribute names, all families together
    max_record_bytes: int  # one stored record (an endpoint, a profile)
    record_allowance: int  # bytes the target adds to every stored record
    max_file_bytes: int  # one import file
    # Longest value of a fixed (id, text, email) column; None: the target sets no bound.
    max_text_value: int | None = None


@dataclass(frozen=True)
class ImportVocabulary:
    """The columns and limits of one target's import file.

    Headers are case-sensitive. `fixed` names the fixed columns; `families` the prefixes of
    custom attribute columns (prefix -> path of the map and the kind of its values).
    """

    target: str  # named in every reason ("Pinpoint")
    id_column: str
    fixed: Mapping[str, tuple[tuple[str, ...], ValueKind]]
    families: Mapping[str, tuple[tuple[str, ...], ValueKind]]
    allowed_values: Mapping[ValueKind, frozenset[str]]
    limits: ImportLimits
    columns_help: str  # how a rejection lists the columns an analyst may use
    # Columns of other targets this one has no place for, each with why (named in reasons).
    unavailable: Mapping[str, str] = field(default_factory=dict)
    # What a custom attribute's name may hold (a regular expression); None: anything.
    attribute_name_pattern: str | None = None
    attribute_name_help: str = ""  # the pattern in words, for a reason
    # Whether the import file names its columns by where they go (`Attributes.Plan` for
    # `User.UserAttributes.Plan`) rather than as the query named them.
    header_is_target_path: bool = False
    clearing: Clearing = Clearing.EMPTY_VALUE
    # Whether an imported segment holds exactly the members of the import that made it
    # (Pinpoint), so a sync refreshing it lists its unchanged members too (by key only).
    segment_is_the_import: bool = False
    _by_lowercase: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lowered = {name.lower(): name for name in self.fixed}
        object.__setattr__(self, "_by_lowercase", lowered)

    def column(self, header: str) -> ImportColumn | None:
        """The column `header` names; None when the target has no such column. A custom
        attribute column is returned even when its name is empty or too long: the caller
        says what is wrong with it."""
        if header in self.fixed:
            path, kind = self.fixed[header]
            return ImportColumn(header, path, kind)
        for prefix, (path, kind) in self.families.items():
            if header.startswith(prefix):
                return ImportColumn(header, (*path, header.removeprefix(prefix)), kind, prefix)
        return None

    def file_column(self, column: ImportColumn) -> str:
        """The column's name in the import file."""
        return ".".join(column.path) if self.header_is_target_path else column.header

    def clears(self, column: ImportColumn) -> bool:
        """Whether a mirror clears this column of a member who left the result."""
        if column.kind is ValueKind.ID:
            return False
        if self.clearing is Clearing.EMPTY_LIST:
            return column.kind is ValueKind.ATTRIBUTE
        return True

    def attribute_name_is_valid(self, name: str) -> bool:
        pattern = self.attribute_name_pattern
        return pattern is None or re.fullmatch(pattern, name) is not None

    def unavailable_reason(self, header: str) -> str | None:
        """Why the target has no place for `header` (another target's column), if it is one."""
        if header in self.unavailable:
            return self.unavailable[header]
        for prefix, why in self.unavailable.items():
            if prefix.endswith(".") and header.startswith(prefix):
                return why
        return None

    def spelled_as(self, header: str) -> str | None:
        """The column `header` would be in another letter case, if any."""
        lowered = header.lower()
        if lowered in self._by_lowercase:
            return self._by_lowercase[lowered]
        for prefix in self.families:
            if lowered.startswith(prefix.lower()):
                return prefix + header[len(prefix) :]
        return None


def record_item(
    columns: Sequence[ImportColumn], cells: Sequence[str], *, numbers: bool = True
) -> dict[str, Any]:
    """One row of an import file as the target's JSON record: each value at its column's
    path, attributes as lists, numbers as numbers (`numbers=False` keeps them as text); an
    empty cell sets nothing."""
    item: dict[str, Any] = {}
    for column, cell in zip(columns, cells, strict=True):
        if not cell:
            continue
        target = item
        for key in column.path[:-1]:
            target = target.setdefault(key, {})
        leaf = column.path[-1]
        if column.kind is ValueKind.ATTRIBUTE:
            target.setdefault(leaf, []).append(cell)
        elif column.kind is ValueKind.NUMBER and numbers:
            target[leaf] = float(cell)
        else:
            target[leaf] = cell
    return item
