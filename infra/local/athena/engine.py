"""The query engine: DuckDB over the lake folder, with Athena's catalog and database names.

The configured catalog is an attached in-memory DuckDB database and the Athena database a
schema in it, so ``email_click``, ``due_eventdb.email_click`` and
``"AwsDataCatalog"."due_eventdb"."email_click"`` all resolve. Each lake table is a view
over its files. A query's rows are materialized in a DuckDB table (DuckDB's memory, which
spills to disk, not Python's), from which the CSV is streamed and result pages are read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from infra.local.athena.column_types import is_zoned_timestamp
from infra.local.athena.errors import TABLE_NOT_FOUND, from_duckdb, user_error
from infra.local.athena.lake import LakeTable
from infra.local.athena.sql import PreparedQuery

_RESULTS_SCHEMA = "memory._athena_results"

# Building SQL text is this module's job (it *is* the SQL engine): identifiers go through
# quote(), literals through _literal(), and analysts' SQL is run as given, like Athena does.
# ruff: noqa: S608


@dataclass(frozen=True)
class ResultColumn:
    name: str
    duckdb_type: str


@dataclass(frozen=True)
class QueryResult:
    """Where a finished query's rows live in the engine, and their shape."""

    table: str
    columns: tuple[ResultColumn, ...]
    row_count: int


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDbEngine:
    def __init__(self, *, catalog: str, database: str) -> None:
        self.catalog = catalog
        self.database = database
        self._conn = duckdb.connect(":memory:")
        self._views: set[str] = set()
        # Athena runs in UTC; DuckDB would otherwise use the host's zone for TIMESTAMPTZ.
        self._conn.execute("SET TimeZone='UTC'")
        self._conn.execute(f"ATTACH ':memory:' AS {quote(catalog)}")
        self._conn.execute(f"CREATE SCHEMA {self._schema()}")
        # Athena's current database when a request names none; empty, but it must exist.
        self._conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self._schema('default')}")
        self._conn.execute(f"CREATE SCHEMA {_RESULTS_SCHEMA}")

    def _schema(self, database: str | None = None) -> str:
        return f"{quote(self.catalog)}.{quote(database or self.database)}"

    # ------------------------------------------------------------------ tables

    def register(self, tables: Sequence[LakeTable]) -> dict[str, list[ResultColumn]]:
        """(Re)create one view per lake table, drop vanished ones; columns by table name."""
        columns: dict[str, list[ResultColumn]] = {}
        for table in tables:
            view = f"{self._schema()}.{quote(table.name)}"
            files = "[" + ", ".join(_literal(str(f.resolve())) for f in table.files) + "]"
            reader = "read_parquet" if table.file_format == "parquet" else "read_csv_auto"
            self._conn.execute(
                f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM "
                f"{reader}({files}, hive_partitioning = true, union_by_name = true)"
            )
            described = self._conn.execute(f"DESCRIBE {view}").fetchall()
            columns[table.name] = [ResultColumn(str(row[0]), str(row[1])) for row in described]
        for vanished in self._views - set(columns):
            self._conn.execute(f"DROP VIEW IF EXISTS {self._schema()}.{quote(vanished)}")
        self._views = set(columns)
        return columns

    # ------------------------------------------------------------------ queries

    def run(
        self, query: PreparedQuery, *, result_table: str, catalog: str, database: str
    ) -> QueryResult:
        """Run a prepared query into ``result_table``; raises ``QueryFailedError``."""
        if catalog.lower() != self.catalog.lower():
            raise user_error(
                TABLE_NOT_FOUND, "CATALOG_NOT_FOUND", f"Catalog '{catalog}' does not exist"
            )
        target = f"{_RESULTS_SCHEMA}.{quote(result_table)}"
        try:
            self._conn.execute(f"USE {self._schema(database)}")
            relation = self._conn.sql(query.duckdb_sql)
            columns = tuple(
                ResultColumn(str(name), str(kind))
                for name, kind in zip(relation.columns, relation.types, strict=True)
            )
            # Positional names: Athena allows duplicate output names, a DuckDB table does not.
            positional = ", ".join(f"c{i}" for i in range(len(columns)))
            self._conn.execute(
                f"CREATE TABLE {target} AS SELECT {self._select_list(columns)} "
                f"FROM ({query.duckdb_sql}) AS q({positional})"
            )
            counted = self._conn.execute(f"SELECT count(*) FROM {target}").fetchone()
        except duckdb.Error as error:
            self._conn.execute(f"DROP TABLE IF EXISTS {target}")
            raise from_duckdb(error) from error
        return QueryResult(result_table, columns, int(counted[0]) if counted else 0)

    @staticmethod
    def _select_list(columns: Sequence[ResultColumn]) -> str:
        """Zoned timestamps are rendered in SQL: fetching them into Python needs pytz."""
        parts = []
        for i, column in enumerate(columns):
            if is_zoned_timestamp(column.duckdb_type):
                parts.append(f"strftime(c{i}, '%Y-%m-%d %H:%M:%S.%g UTC') AS c{i}")
            elif "WITH TIME ZONE" in column.duckdb_type.upper():
                parts.append(f"CAST(c{i} AS VARCHAR) AS c{i}")
            else:
                parts.append(f"c{i}")
        return ", ".join(parts)

    def page(self, result: QueryResult, offset: int, limit: int) -> list[tuple[Any, ...]]:
        return self._conn.execute(
            f"SELECT * FROM {_RESULTS_SCHEMA}.{quote(result.table)} LIMIT ? OFFSET ?",
            [limit, offset],
        ).fetchall()

    def batches(self, result: QueryResult, size: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
        """The rows in insertion (= ORDER BY) order, ``size`` at a time."""
        cursor = self._conn.cursor()
        try:
            cursor.execute(f"SELECT * FROM {_RESULTS_SCHEMA}.{quote(result.table)}")
            while batch := cursor.fetchmany(size):
                yield batch
        finally:
            cursor.close()

    def drop(self, result_table: str) -> None:
        self._conn.execute(f"DROP TABLE IF EXISTS {_RESULTS_SCHEMA}.{quote(result_table)}")

    def close(self) -> None:
        self._conn.close()
