"""The query engine: DuckDB over the tables' files, with Athena's catalog and database names.

The configured catalog is an attached in-memory DuckDB database and each Athena database a
schema in it, so ``email_click``, ``due_eventdb.email_click`` and
``"AwsDataCatalog"."due_eventdb"."email_click"`` all resolve. Each table a query reads is a
view over the files its location holds when the query runs (``bind``). A query's rows are
materialized in a DuckDB table (DuckDB's memory, which spills to disk, not Python's), from
which the CSV is streamed and result pages are read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb

from infra.local.athena.column_types import is_zoned_timestamp
from infra.local.athena.errors import TABLE_NOT_FOUND, from_duckdb, user_error
from infra.local.athena.lake import LakeTable
from infra.local.athena.presto import MACROS
from infra.local.athena.sql import PreparedQuery
from infra.local.athena.tables import TableSource

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
        # Athena runs in UTC; DuckDB would otherwise use the host's zone for TIMESTAMPTZ.
        self._conn.execute("SET TimeZone='UTC'")
        self._conn.execute(f"ATTACH ':memory:' AS {quote(catalog)}")
        self._conn.execute(f"CREATE SCHEMA {self._schema()}")
        # Athena's current database when a request names none; empty, but it must exist.
        self._conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self._schema('default')}")
        self._conn.execute(f"CREATE SCHEMA {_RESULTS_SCHEMA}")
        for macro in MACROS:
            self._conn.execute(macro)

    def _schema(self, database: str | None = None) -> str:
        return f"{quote(self.catalog)}.{quote(database or self.database)}"

    # ------------------------------------------------------------------ tables

    def describe(self, table: LakeTable) -> list[ResultColumn]:
        """The columns the crawler sees in a lake table's files (none for ORC, Avro)."""
        if table.file_format not in _READERS:
            return []
        try:
            reader = _reader(_crawled(table, self.database))
            described = self._conn.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
        except duckdb.Error:
            return []  # unreadable files: registered without columns, refused when queried
        return [ResultColumn(str(row[0]), str(row[1])) for row in described]

    def register(self, tables: Sequence[LakeTable]) -> None:
        """Bind a lake folder's tables as they are now, without Glue (`query check`)."""
        for table in tables:
            if table.file_format in _READERS:
                self.bind(_crawled(table, self.database))

    def bind(self, source: TableSource) -> None:
        """Point the table's view at the files it holds now (called as each query runs)."""
        schema = self._schema(source.database)
        self._conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        view = f"{schema}.{quote(source.name)}"
        self._conn.execute(f"CREATE OR REPLACE VIEW {view} AS {_view_query(source)}")

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


_READERS = {"parquet": "read_parquet", "csv": "read_csv", "json": "read_json"}


def _crawled(table: LakeTable, database: str) -> TableSource:
    """A lake folder's table read with the types its files carry."""
    return TableSource(
        database=database,
        name=table.name,
        file_format=table.file_format,
        files=table.files,
        columns=(),
        partition_columns=(),
        declared=False,
    )


def _struct(columns: Sequence[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{_literal(name)}: {_literal(kind)}" for name, kind in columns) + "}"


def _reader(source: TableSource) -> str:
    """The DuckDB table function reading the source's files the way its SerDe does."""
    files = "[" + ", ".join(_literal(str(f.resolve())) for f in source.files) + "]"
    options = [
        f"hive_partitioning = {str(bool(source.partition_columns) or not source.declared).lower()}"
    ]
    if source.file_format == "parquet":
        options.append("union_by_name = true")
    elif source.file_format == "csv":
        if source.declared:
            options += [
                f"columns = {_struct(source.columns)}",
                f"header = {str(source.header).lower()}",
                f"delim = {_literal(source.delimiter)}",
                "auto_detect = false",
            ]
        else:
            options.append("union_by_name = true")
    else:
        options.append("format = 'newline_delimited'")
        if source.declared:
            options.append(f"columns = {_struct(source.columns)}")
        else:
            options.append("union_by_name = true")
    return f"{_READERS[source.file_format]}({files}, {', '.join(options)})"


def _view_query(source: TableSource) -> str:
    """The view's body; a table whose location holds no file is empty, with its columns."""
    if not source.files:
        columns = [*source.columns, *source.partition_columns] or [("_empty", "VARCHAR")]
        casts = ", ".join(f"CAST(NULL AS {kind}) AS {quote(name)}" for name, kind in columns)
        return f"SELECT {casts} WHERE false"
    if source.declared:
        # Athena reads the declared columns (partition keys last); DuckDB may add others.
        names = [quote(name) for name, _ in (*source.columns, *source.partition_columns)]
        return f"SELECT {', '.join(names)} FROM {_reader(source)}"
    return f"SELECT * FROM {_reader(source)}"
