"""Rendering for the CLI: aligned text tables for people, JSON for scripts."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO


def _plain(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of value
    """JSON-friendly form of what boto3 and the models return."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    return value


def to_json(value: Any) -> str:
    return json.dumps(_plain(value), indent=2, sort_keys=False, ensure_ascii=False)


def _cell(value: Any, width: int) -> str:
    if value is None:
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = str(_plain(value))
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    max_width: int = 40,
) -> str:
    """An aligned text table of `columns` (missing values shown as '-')."""
    cells = [[_cell(row.get(column), max_width) for column in columns] for row in rows]
    widths = [
        max([len(column), *(len(line[index]) for line in cells)])
        for index, column in enumerate(columns)
    ]
    lines = []
    if title:
        lines.append(title)
    lines.append(
        "  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True))
    )
    lines.append("  ".join("-" * width for width in widths))
    lines.extend(
        "  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )
    if not rows:
        lines.append("(none)")
    return "\n".join(lines)


def heading(text: str) -> str:
    return f"\n== {text} " + "=" * max(0, 70 - len(text))


def emit(text: str, stream: TextIO | None = None) -> None:
    """Write a line of output (the CLI's only way of printing)."""
    (stream or sys.stdout).write(text + "\n")
