"""DuckDB type names → Athena result types (``ColumnInfo``) and Glue (Hive) column types."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class AthenaType:
    """How Athena describes a result column's type in ``ResultSetMetadata.ColumnInfo``."""

    name: str
    precision: int
    scale: int = 0


# Athena (Trino) name, ColumnInfo precision, Glue type, keyed by DuckDB's base type name.
_SCALARS: dict[str, tuple[str, int, str]] = {
    "BOOLEAN": ("boolean", 0, "boolean"),
    "TINYINT": ("tinyint", 3, "tinyint"),
    "UTINYINT": ("smallint", 5, "smallint"),
    "SMALLINT": ("smallint", 5, "smallint"),
    "USMALLINT": ("integer", 10, "int"),
    "INTEGER": ("integer", 10, "int"),
    "UINTEGER": ("bigint", 19, "bigint"),
    "BIGINT": ("bigint", 19, "bigint"),
    "UBIGINT": ("decimal", 20, "decimal(20,0)"),
    "HUGEINT": ("decimal", 38, "decimal(38,0)"),
    "UHUGEINT": ("decimal", 38, "decimal(38,0)"),
    "FLOAT": ("float", 7, "float"),
    "DOUBLE": ("double", 17, "double"),
    "VARCHAR": ("varchar", 2147483647, "string"),
    "UUID": ("varchar", 2147483647, "string"),
    "JSON": ("json", 0, "string"),
    "BLOB": ("varbinary", 2147483647, "binary"),
    "DATE": ("date", 0, "date"),
    "TIME": ("time", 3, "string"),
    "TIMESTAMP": ("timestamp", 3, "timestamp"),
    "TIMESTAMP_S": ("timestamp", 3, "timestamp"),
    "TIMESTAMP_MS": ("timestamp", 3, "timestamp"),
    "TIMESTAMP_NS": ("timestamp", 3, "timestamp"),
    "TIMESTAMP WITH TIME ZONE": ("timestamp with time zone", 3, "timestamp"),
    "INTERVAL": ("interval day to second", 0, "string"),
}

_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")


def athena_type(duckdb_type: str) -> AthenaType:
    text = duckdb_type.strip().upper()
    if text.endswith("]"):
        return AthenaType("array", 0)
    if text.startswith("STRUCT"):
        return AthenaType("row", 0)
    if text.startswith("MAP"):
        return AthenaType("map", 0)
    decimal = _DECIMAL.fullmatch(text)
    if decimal:
        return AthenaType("decimal", int(decimal.group(1)), int(decimal.group(2)))
    name, precision, _ = _SCALARS.get(text, ("varchar", 2147483647, "string"))
    return AthenaType(name, precision)


def is_zoned_timestamp(duckdb_type: str) -> bool:
    return duckdb_type.strip().upper() == "TIMESTAMP WITH TIME ZONE"


def glue_type(duckdb_type: str) -> str:
    """The Hive type Glue stores for a column (``array<int>``, ``struct<a:string>``...)."""
    text = duckdb_type.strip()
    upper = text.upper()
    if upper.endswith("[]"):
        return f"array<{glue_type(text[:-2])}>"
    if re.search(r"\[\d+\]$", upper):  # DuckDB fixed-size ARRAY
        return f"array<{glue_type(text[: text.rindex('[')])}>"
    if upper.startswith("STRUCT(") and text.endswith(")"):
        fields = []
        for field in _split_top_level(text[len("STRUCT(") : -1]):
            name, _, field_type = field.strip().partition(" ")
            fields.append(f"{name.strip(chr(34)).lower()}:{glue_type(field_type)}")
        return f"struct<{','.join(fields)}>"
    if upper.startswith("MAP(") and text.endswith(")"):
        key, value = _split_top_level(text[len("MAP(") : -1])
        return f"map<{glue_type(key)},{glue_type(value)}>"
    decimal = _DECIMAL.fullmatch(upper)
    if decimal:
        return f"decimal({decimal.group(1)},{decimal.group(2)})"
    return _SCALARS.get(upper, ("varchar", 0, "string"))[2]


def _split_top_level(text: str) -> list[str]:
    """Split ``a INTEGER, b STRUCT(c INT, d INT)`` on the commas outside parentheses."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in text:
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        current += char
    if current.strip():
        parts.append(current.strip())
    return parts


_HIVE_SCALARS = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "boolean": "BOOLEAN",
    "tinyint": "TINYINT",
    "smallint": "SMALLINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "binary": "BLOB",
}


class UnknownHiveTypeError(ValueError):
    pass


def duckdb_type(hive_type: str) -> str:
    """The DuckDB type that reads a Glue (Hive) column type: ``array<struct<a:int>>`` →
    ``STRUCT("a" INTEGER)[]``; raises UnknownHiveTypeError for a type Athena does not know."""
    text = hive_type.strip()
    lower = text.lower()
    head, bracket, _ = lower.partition("<")
    if bracket and text.endswith(">"):
        inner = text[len(head) + 1 : -1]
        if head == "array":
            return f"{duckdb_type(inner)}[]"
        if head == "map":
            key, value = _split_top_level(inner.replace("<", "(").replace(">", ")"))
            return f"MAP({duckdb_type(_angled(key))}, {duckdb_type(_angled(value))})"
        if head == "struct":
            fields = []
            for field in _split_top_level(inner.replace("<", "(").replace(">", ")")):
                name, _, field_type = field.partition(":")
                quoted = '"' + name.strip().replace('"', '""') + '"'
                fields.append(f"{quoted} {duckdb_type(_angled(field_type))}")
            return f"STRUCT({', '.join(fields)})"
    decimal = re.fullmatch(r"decimal[(<](\d+),\s*(\d+)[)>]", lower)
    if decimal:
        return f"DECIMAL({decimal.group(1)},{decimal.group(2)})"
    base = re.sub(r"\(\d+\)$", "", lower)  # varchar(10), char(2)
    if base in _HIVE_SCALARS:
        return _HIVE_SCALARS[base]
    raise UnknownHiveTypeError(f"unknown column type {hive_type!r}")


def _angled(text: str) -> str:
    """Back from the parenthesised form `_split_top_level` splits to Hive's angle brackets."""
    return text.strip().replace("(", "<").replace(")", ">")
