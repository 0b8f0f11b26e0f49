"""Athena (Trino) functions that sqlglot leaves to DuckDB as they are, made to mean what
Athena means. Applied to the parsed query before it is written as DuckDB SQL.

- ``date_add(unit, n, <date>)`` stays a ``date`` (DuckDB's ``date + interval`` is a
  timestamp) when the argument is visibly a date: a ``DATE`` literal or cast,
  ``current_date``, ``date(...)``, ``from_iso8601_date(...)``. A column of type ``date``
  cannot be told here and comes back a timestamp at midnight (docs/ARCHITECTURE.md).
- ``to_iso8601(x)`` is the engine's macro (`MACROS`): ``2024-01-02`` for a date,
  ``2024-01-02T03:04:05.123`` for a timestamp, ``...Z`` for a timestamp in UTC.
- ``format_datetime(x, 'yyyy-MM-dd HH:mm')`` takes a Joda-Time pattern; it becomes
  ``strftime`` with the pattern translated (a pattern that is not a literal is refused).
- ``current_timezone()`` is ``UTC``: Athena runs every session in UTC.
"""

from __future__ import annotations

import re

from sqlglot import exp

from infra.local.athena.errors import NOT_SUPPORTED, user_error

# DuckDB macros the translated SQL calls; the engine creates them once.
MACROS = (
    "CREATE OR REPLACE TEMP MACRO to_iso8601(x) AS CASE "
    "WHEN typeof(x) = 'DATE' THEN strftime(CAST(x AS DATE), '%Y-%m-%d') "
    "WHEN typeof(x) = 'TIMESTAMP WITH TIME ZONE' "
    "THEN strftime(CAST(x AS TIMESTAMPTZ), '%Y-%m-%dT%H:%M:%S.%gZ') "
    "ELSE strftime(CAST(x AS TIMESTAMP), '%Y-%m-%dT%H:%M:%S.%g') END",
)

# Joda-Time pattern letters (longest first) -> strftime directives, as Trino formats them.
_JODA = (
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("M", "%-m"),
    ("dd", "%d"),
    ("d", "%-d"),
    ("HH", "%H"),
    ("H", "%-H"),
    ("hh", "%I"),
    ("h", "%-I"),
    ("mm", "%M"),
    ("m", "%-M"),
    ("ss", "%S"),
    ("s", "%-S"),
    ("SSSSSS", "%f"),
    ("SSS", "%g"),
    ("EEEE", "%A"),
    ("EEE", "%a"),
    ("a", "%p"),
    ("ZZ", "%z"),
    ("Z", "%z"),
    ("DDD", "%j"),
)
_JODA_TOKEN = re.compile("'[^']*'|" + "|".join(re.escape(token) for token, _ in _JODA) + "|.", re.S)
_DATE_NODES = {"CurrentDate", "FromISO8601Date", "TsOrDsToDate", "StrToDate", "Date"}
_DONE = "presto"


def joda_to_strftime(pattern: str) -> str:
    """``yyyy-MM-dd'T'HH:mm`` → ``%Y-%m-%dT%H:%M``; quoted text is kept, ``''`` is a quote."""
    directives = dict(_JODA)
    out = []
    for token in _JODA_TOKEN.findall(pattern):
        if token == "''":  # noqa: S105 - a Joda pattern's escaped quote, not a secret
            out.append("'")
        elif token.startswith("'") and len(token) >= 2:
            out.append(token[1:-1].replace("%", "%%"))
        elif token in directives:
            out.append(directives[token])
        elif token.isalpha():
            raise user_error(
                NOT_SUPPORTED,
                "NOT_SUPPORTED",
                f"format_datetime: the local Athena does not know the pattern letter {token!r}",
            )
        else:
            out.append(token.replace("%", "%%"))
    return "".join(out)


def to_duckdb(node: exp.Expression) -> exp.Expression:
    """One node of an Athena query, as DuckDB must read it to give Athena's answer."""
    if node.meta.get(_DONE):
        return node
    if isinstance(node, exp.DateAdd | exp.DateSub) and _is_date(node.this):
        node.meta[_DONE] = True
        return exp.cast(node, exp.DataType.Type.DATE)
    if isinstance(node, exp.CurrentTimezone):
        return exp.Literal.string("UTC")
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "format_datetime":
        value, pattern = [*node.expressions, None, None][:2]
        if not isinstance(pattern, exp.Literal) or not pattern.is_string or value is None:
            raise user_error(
                NOT_SUPPORTED,
                "NOT_SUPPORTED",
                "format_datetime: the local Athena needs the pattern as a string literal",
            )
        return exp.Anonymous(
            this="strftime",
            expressions=[value, exp.Literal.string(joda_to_strftime(pattern.this))],
        )
    return node


def _is_date(node: exp.Expression | None) -> bool:
    if isinstance(node, exp.Cast):  # DATE '...', CAST(x AS DATE), date(x)
        return node.to.is_type(exp.DataType.Type.DATE)
    return type(node).__name__ in _DATE_NODES
