"""Values as Athena renders them, and result lines in Athena's CSV dialect.

Athena's result file quotes every value (``"a","b"``), doubles embedded quotes, writes
NULL as an empty unquoted field, and ends lines with ``\\n``. The same text rendering feeds
``GetQueryResults`` (``VarCharValue``), so the file and the API always agree.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any


def render(value: Any) -> str | None:
    """Athena's (Trino's) text for a value; ``None`` for SQL NULL."""
    if value is None:
        return None
    return _render(value)


def _render(value: Any) -> str:  # noqa: PLR0911 - one branch per SQL type family
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return _timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if isinstance(value, timedelta):
        return _interval(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return " ".join(f"{byte:02x}" for byte in bytes(value))
    if isinstance(value, Mapping):
        items = ", ".join(f"{_nested(k)}={_nested(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_nested(item) for item in value) + "]"
    return str(value)


def _nested(value: Any) -> str:
    return "null" if value is None else _render(value)


def _timestamp(value: datetime) -> str:
    text = value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    if value.tzinfo is not None:
        text += " UTC" if value.utcoffset() == timedelta(0) else f" {value.strftime('%z')}"
    return text


def _interval(value: timedelta) -> str:
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    millis = value.microseconds // 1000
    return f"{sign}{value.days} {hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def _java_double(value: float) -> str:
    """``Double.toString``: plain between 1e-3 and 1e7, else ``1.0E10`` style."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    magnitude = abs(value)
    if value == 0 or 1e-3 <= magnitude < 1e7:
        text = repr(value)
        return text if "e" not in text else format(value, "f")
    mantissa, _, exponent = f"{value!r}".partition("e")
    if not exponent:  # repr stayed plain (e.g. 12345678.0): rebuild from scientific form
        mantissa, _, exponent = f"{value:.17e}".partition("e")
        mantissa = repr(float(mantissa))
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}E{int(exponent)}"


def csv_field(text: str | None) -> str:
    if text is None:
        return ""
    return '"' + text.replace('"', '""') + '"'


def csv_line(texts: Iterable[str | None]) -> str:
    return ",".join(csv_field(text) for text in texts) + "\n"


def csv_row(values: Iterable[Any]) -> str:
    return csv_line(render(value) for value in values)
