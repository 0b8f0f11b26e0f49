"""Rendering for the CLI: aligned text tables for people, JSON for scripts."""

from __future__ import annotations

import dataclasses
import json
import sys
import textwrap
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


def _cell(value: Any, width: int) -> list[str]:
    """The cell's lines: a long text wraps (never cut: a reason's end is often its point)."""
    if value is None:
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = str(_plain(value))
    text = " ".join(text.split())
    return textwrap.wrap(text, width, break_on_hyphens=False) or [""]


def table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    max_width: int = 40,
) -> str:
    """An aligned text table of `columns` (missing values shown as '-'); a value wider than
    `max_width` wraps onto more lines of its row."""
    cells = [[_cell(row.get(column), max_width) for column in columns] for row in rows]
    widths = [
        max([len(column), *(len(part) for line in cells for part in line[index])])
        for index, column in enumerate(columns)
    ]
    lines = []
    if title:
        lines.append(title)
    lines.append(
        "  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True))
    )
    lines.append("  ".join("-" * width for width in widths))
    for line in cells:
        for depth in range(max(len(cell) for cell in line)):
            parts = (cell[depth] if depth < len(cell) else "" for cell in line)
            lines.append(
                "  ".join(
                    part.ljust(width) for part, width in zip(parts, widths, strict=True)
                ).rstrip()
            )
    if not rows:
        lines.append("(none)")
    return "\n".join(lines)


def heading(text: str) -> str:
    return f"\n== {text} " + "=" * max(0, 70 - len(text))


def emit(text: str, stream: TextIO | None = None) -> None:
    """Write a line of output (the CLI's only way of printing)."""
    (stream or sys.stdout).write(text + "\n")


def wrapped(text: str, width: int = 100, indent: str = "  ") -> str:
    """A long message as lines of at most `width`, its own leading blanks kept and the
    next lines indented by `indent` (never cut)."""
    lead = text[: len(text) - len(text.lstrip())]
    return textwrap.fill(
        " ".join(text.split()),
        width,
        initial_indent=lead,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`1 endpoint`, `3 endpoints`, `0 entries` (give `many` when it is not noun + 's')."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"
