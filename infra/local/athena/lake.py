"""The local data-lake folder and its crawler: each ``<root>/<table>/`` folder is a table.

Like a Glue crawler, the crawler classifies a folder by what its files hold, not by their
names: Parquet (``PAR1``), JSON lines (a first character ``{``), gzip (the text inside,
decided the same way) or else CSV; ORC and Avro are recognised, registered, and refused
when read (the local Athena cannot read them). Files are found recursively, so Hive
partition folders (``ingest_timestamp=2024-01-01/``) work; names starting with ``.`` or
``_`` are skipped like Hive/Athena skip them (``_SUCCESS``, ``.crc``). Which files a query
reads is decided when it runs (``infra.local.athena.tables``), not here.
"""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from infra.local.athena.tables import visible

_SNIFF_BYTES = 4096


@dataclass(frozen=True)
class LakeTable:
    name: str
    root: Path
    file_format: str  # parquet | csv | json | orc | avro
    files: tuple[Path, ...]
    partition_keys: tuple[str, ...]
    compression: str | None = None  # gzip when its text files are compressed


def discover(root: Path | None) -> list[LakeTable]:
    """The tables of the lake, sorted by name; an absent folder is an empty lake."""
    if root is None or not root.is_dir():
        return []
    tables = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and visible(p.name)):
        table = _table(folder)
        if table is not None:
            tables.append(table)
    return tables


def classify(path: Path) -> tuple[str, str | None]:
    """(format, compression) of one file, from its first bytes."""
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(b"PAR1"):
        return "parquet", None
    if head.startswith(b"ORC"):
        return "orc", None
    if head.startswith(b"Obj\x01"):
        return "avro", None
    if head.startswith(b"\x1f\x8b"):
        try:
            with gzip.open(path, "rb") as text:
                inner = text.read(_SNIFF_BYTES)
        except (OSError, EOFError, zlib.error):
            inner = b""
        return _text_format(inner), "gzip"
    return _text_format(head), None


def _text_format(head: bytes) -> str:
    return "json" if head.lstrip().startswith(b"{") else "csv"


def _table(folder: Path) -> LakeTable | None:
    files = tuple(
        sorted(
            path
            for path in folder.rglob("*")
            if path.is_file() and visible(path.relative_to(folder).as_posix())
        )
    )
    if not files:
        return None
    kinds = Counter(classify(file) for file in files)
    (file_format, compression), _ = kinds.most_common(1)[0]
    return LakeTable(
        name=folder.name.lower(),
        root=folder,
        file_format=file_format,
        files=files,
        partition_keys=_partition_keys(folder, files),
        compression=compression,
    )


def _partition_keys(folder: Path, files: tuple[Path, ...]) -> tuple[str, ...]:
    """Hive partition keys in folder order (``year=2024/month=01`` → year, month)."""
    keys: list[str] = []
    for file in files:
        for part in file.relative_to(folder).parts[:-1]:
            key, sep, _ = part.partition("=")
            if sep and key not in keys:
                keys.append(key)
    return tuple(keys)
