"""Athena SQL → DuckDB SQL: parse, classify, pin ``now()`` to the virtual clock, transpile.

Pure functions: no connection, no I/O. The engine runs what :func:`prepare` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from infra.local.athena.errors import (
    QUERY_TYPE_NOT_SUPPORTED,
    SYNTAX_ERROR,
    user_error,
)
from infra.local.athena.presto import to_duckdb
from infra.local.athena.tables import TableRef

_UTILITY_VERBS = {"SHOW", "DESCRIBE", "DESC", "EXPLAIN", "MSCK", "USE", "PREPARE", "EXECUTE"}


@dataclass(frozen=True)
class Statement:
    """What Athena reports about a statement before running it."""

    statement_type: str  # DDL | DML | UTILITY
    substatement_type: str  # SELECT, INSERT, CREATE_TABLE, SHOW_TABLES, ...


@dataclass(frozen=True)
class PreparedQuery:
    duckdb_sql: str
    tables: frozenset[TableRef]
    """The tables the query reads, as it names them (bound to their files when it runs)."""


def classify(sql: str) -> Statement:
    """Athena's StatementType/SubstatementType; unparsable SQL counts as DML like Athena."""
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except SqlglotError:
        statements = []
    first = statements[0] if statements else exp.select("1")
    if isinstance(first, exp.Query):
        return Statement("DML", "SELECT")
    if isinstance(first, exp.Insert | exp.Update | exp.Delete | exp.Merge):
        return Statement("DML", first.key.upper())
    if isinstance(first, exp.Create | exp.Drop | exp.Alter):
        kind = str(first.args.get("kind") or "TABLE").upper()
        return Statement("DDL", f"{first.key.upper()}_{kind}")
    name = (str(first.this) if isinstance(first, exp.Command) else first.key).upper()
    if name.split(" ")[0] not in _UTILITY_VERBS:
        return Statement("DML", "SELECT")  # text sqlglot could not read: Athena fails it later
    return Statement("UTILITY", name.replace(" ", "_"))


def prepare(sql: str, now: datetime) -> PreparedQuery:
    """Transpile one read-only Athena statement to DuckDB, ``now()`` pinned to ``now``.

    Raises :class:`QueryFailedError` with Athena's error names for what Athena would reject
    while planning: unparsable text, several statements, statements other than queries.
    """
    try:
        statements = [s for s in sqlglot.parse(sql, read="athena") if s is not None]
    except SqlglotError as error:
        reason = " ".join(str(error).split())
        raise user_error(SYNTAX_ERROR, "SYNTAX_ERROR", reason) from error
    if not statements:
        raise user_error(SYNTAX_ERROR, "SYNTAX_ERROR", "the query string holds no statement")
    if len(statements) > 1:
        raise user_error(SYNTAX_ERROR, "SYNTAX_ERROR", "Only one sql statement is allowed.")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise user_error(
            QUERY_TYPE_NOT_SUPPORTED,
            "NOT_SUPPORTED",
            f"the local Athena runs queries only, not {classify(sql).substatement_type}",
        )
    pinned = statement.transform(lambda node: _pin_clock(node, now))
    cte_names = {cte.alias_or_name.lower() for cte in pinned.find_all(exp.CTE)}
    tables = frozenset(
        TableRef(table.db.lower() or None, table.name.lower())
        for table in pinned.find_all(exp.Table)
        if table.name and not (not table.db and table.name.lower() in cte_names)
    )
    translated = pinned.transform(to_duckdb)
    return PreparedQuery(duckdb_sql=translated.sql(dialect="duckdb"), tables=tables)


def _pin_clock(node: exp.Expression, now: datetime) -> exp.Expression:
    """Replace the SQL clock functions by literals of the virtual clock's time.

    Why: data lakes in tests are written relative to the virtual clock, so
    ``date_add('day', -30, now())`` must mean 30 days before *virtual* now.
    """
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(node, exp.CurrentTimestamp):
        return exp.cast(exp.Literal.string(f"{stamp}+00"), exp.DataType.Type.TIMESTAMPTZ)
    if isinstance(node, exp.Localtimestamp):
        return exp.cast(exp.Literal.string(stamp), exp.DataType.Type.TIMESTAMP)
    if isinstance(node, exp.CurrentDate):
        return exp.cast(exp.Literal.string(now.date().isoformat()), exp.DataType.Type.DATE)
    return node
