"""Tables as Athena reads them: described in Glue, read from their location at query time.

For every table a query names, the Glue Data Catalog (moto) gives the location, the
format (SerDe and input format) and the columns; what the query reads is what lies under
the location *when it runs*, so an object written a second before is read and a deleted
one is not, as on Athena. Locations are ``file://`` folders (the local data lake, which
the local crawler registers) or ``s3://`` prefixes in the local S3 (moto), whose objects
are copied into a cache folder (kept per ETag) for DuckDB to read.

Formats: Parquet, CSV/TSV (LazySimpleSerDe, OpenCSVSerde) and JSON lines (Hive and OpenX
JSON SerDes), the text ones plain or compressed (``.gz``, by extension, as Athena decides).
Anything else (ORC, Avro, Ion, regex...) fails the query with ``HIVE_UNSUPPORTED_FORMAT``
naming the table and its SerDe, instead of a DuckDB message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from infra.local.athena.column_types import UnknownHiveTypeError, duckdb_type
from infra.local.athena.errors import (
    BUCKET_NOT_FOUND,
    NOT_SUPPORTED,
    TABLE_NOT_FOUND,
    QueryFailedError,
    user_error,
)

# Set on the tables the local crawler registers: they are read with the types their
# files carry (the crawler's own reading), every other table with its declared columns.
CRAWLER_PARAMETER = "UPDATED_BY_CRAWLER"
READABLE = "Parquet, CSV, TSV and JSON lines, plain or gzip-compressed"


@dataclass(frozen=True)
class TableRef:
    """A table as a query names it; `database` is None when the query does not say."""

    database: str | None
    name: str


@dataclass(frozen=True)
class TableSource:
    """What one query reads of one table."""

    database: str
    name: str
    file_format: str  # parquet | csv | json
    files: tuple[Path, ...]
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type) of the data columns
    partition_columns: tuple[tuple[str, str], ...]  # from Hive folders (key=value)
    declared: bool  # read with `columns` (False: with the types in the files)
    delimiter: str = ","
    header: bool = False

    @property
    def size_bytes(self) -> int:
        return sum(file.stat().st_size for file in self.files if file.exists())


def visible(relative: str) -> bool:
    """Hive and Athena skip files and folders whose name starts with ``_`` or ``.``."""
    return all(part and not part.startswith((".", "_")) for part in relative.split("/"))


def file_format(table: dict[str, Any]) -> str | None:
    """parquet | csv | json from the table's SerDe and input format; None if unreadable."""
    descriptor = table.get("StorageDescriptor", {})
    serde = str(descriptor.get("SerdeInfo", {}).get("SerializationLibrary", "")).lower()
    input_format = str(descriptor.get("InputFormat", "")).lower()
    if "parquet" in serde or "parquet" in input_format:
        return "parquet"
    if "json" in serde:
        return "json"
    if "lazysimpleserde" in serde or "opencsvserde" in serde:
        return "csv"
    return None


class GlueTables:
    def __init__(self, glue: Any, s3: Any, cache: Path, catalog: str) -> None:
        self._glue = glue
        self._s3 = s3
        self._cache = cache
        self._catalog = catalog
        self._cached: dict[tuple[str, str], str] = {}  # (bucket, key) -> ETag copied

    def resolve(self, ref: TableRef, current_database: str) -> TableSource:
        """The table's files and shape now; raises QueryFailedError like Athena would."""
        database = (ref.database or current_database).lower()
        name = ref.name.lower()
        table = self._table(database, name)
        kind = file_format(table)
        descriptor = table.get("StorageDescriptor", {})
        if kind is None:
            serde = descriptor.get("SerdeInfo", {}).get("SerializationLibrary", "no SerDe")
            raise user_error(
                NOT_SUPPORTED,
                "HIVE_UNSUPPORTED_FORMAT",
                f"table {database}.{name} is stored with {serde} "
                f"({descriptor.get('InputFormat', 'no input format')}); "
                f"the local Athena reads {READABLE}",
            )
        try:
            columns = _columns(descriptor.get("Columns", []))
            partition_columns = _columns(table.get("PartitionKeys", []))
        except UnknownHiveTypeError as error:
            raise user_error(
                NOT_SUPPORTED, "HIVE_INVALID_METADATA", f"{database}.{name}: {error}"
            ) from error
        serde_parameters = descriptor.get("SerdeInfo", {}).get("Parameters", {})
        parameters = table.get("Parameters", {})
        return TableSource(
            database=database,
            name=name,
            file_format=kind,
            files=self._files(str(descriptor.get("Location", "")), f"{database}.{name}"),
            columns=columns,
            partition_columns=partition_columns,
            declared=CRAWLER_PARAMETER not in parameters,
            delimiter=str(
                serde_parameters.get("field.delim") or serde_parameters.get("separatorChar") or ","
            ),
            header=str(parameters.get("skip.header.line.count", "0")) != "0",
        )

    def _table(self, database: str, name: str) -> dict[str, Any]:
        try:
            self._glue.get_database(Name=database)
        except self._glue.exceptions.EntityNotFoundException as error:
            raise _not_found("SCHEMA_NOT_FOUND", f"Schema '{database}' does not exist") from error
        try:
            table: dict[str, Any] = self._glue.get_table(DatabaseName=database, Name=name)["Table"]
        except self._glue.exceptions.EntityNotFoundException as error:
            where = f"{self._catalog.lower()}.{database}.{name}"
            raise _not_found("TABLE_NOT_FOUND", f"Table '{where}' does not exist") from error
        return table

    def _files(self, location: str, table: str) -> tuple[Path, ...]:
        parsed = urlparse(location)
        if parsed.scheme == "file":
            return _folder_files(Path(unquote(parsed.path)))
        if parsed.scheme in ("s3", "s3a"):
            return self._s3_files(parsed.netloc, parsed.path.lstrip("/"), table)
        raise user_error(
            NOT_SUPPORTED,
            "HIVE_INVALID_METADATA",
            f"table {table} has no S3 location ({location!r})",
        )

    def _s3_files(self, bucket: str, prefix: str, table: str) -> tuple[Path, ...]:
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        files = []
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            listed = [item for page in pages for item in page.get("Contents", [])]
        except self._s3.exceptions.NoSuchBucket as error:
            raise user_error(
                BUCKET_NOT_FOUND,
                "HIVE_FILESYSTEM_ERROR",
                f"the location of table {table}, s3://{bucket}/{prefix}, is in no bucket",
            ) from error
        for item in listed:
            key = str(item["Key"])
            relative = key[len(prefix) :]
            if key.endswith("/") or not visible(relative):
                continue
            files.append(self._copy(bucket, key, str(item["ETag"])))
        return tuple(sorted(files))

    def _copy(self, bucket: str, key: str, etag: str) -> Path:
        target = self._cache / bucket / key
        if self._cached.get((bucket, key)) != etag or not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            target.write_bytes(body)
            self._cached[(bucket, key)] = etag
        return target


def _columns(glue_columns: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(c["Name"]).lower(), duckdb_type(str(c["Type"]))) for c in glue_columns)


def _folder_files(folder: Path) -> tuple[Path, ...]:
    if not folder.is_dir():
        return ()
    return tuple(
        sorted(
            path
            for path in folder.rglob("*")
            if path.is_file() and visible(path.relative_to(folder).as_posix())
        )
    )


def _not_found(name: str, reason: str) -> QueryFailedError:
    return user_error(TABLE_NOT_FOUND, name, reason)
