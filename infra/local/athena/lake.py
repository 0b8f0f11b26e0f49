"""The data-lake folder: each ``<root>/<table>/`` holding Parquet or CSV files is a table.

Files are found recursively, so Hive partition folders (``ingest_timestamp=2024-01-01/``)
work; names starting with ``.`` or ``_`` are skipped like Hive/Athena skip them
(``_SUCCESS``, ``.crc``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LakeTable:
    name: str
    root: Path
    file_format: str  # "parquet" | "csv"
    files: tuple[Path, ...]
    partition_keys: tuple[str, ...]

    @property
    def size_bytes(self) -> int:
        return sum(file.stat().st_size for file in self.files if file.exists())


def discover(root: Path | None) -> list[LakeTable]:
    """The tables of the lake, sorted by name; an absent folder is an empty lake."""
    if root is None or not root.is_dir():
        return []
    tables = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and _visible(p.name)):
        table = _table(folder)
        if table is not None:
            tables.append(table)
    return tables


def _table(folder: Path) -> LakeTable | None:
    for file_format in ("parquet", "csv"):
        files = tuple(
            sorted(
                path
                for path in folder.rglob(f"*.{file_format}")
                if path.is_file() and all(_visible(part) for part in path.relative_to(folder).parts)
            )
        )
        if files:
            return LakeTable(
                name=folder.name.lower(),
                root=folder,
                file_format=file_format,
                files=files,
                partition_keys=_partition_keys(folder, files),
            )
    return None


def _partition_keys(folder: Path, files: tuple[Path, ...]) -> tuple[str, ...]:
    """Hive partition keys in folder order (``year=2024/month=01`` → year, month)."""
    keys: list[str] = []
    for file in files:
        for part in file.relative_to(folder).parts[:-1]:
            key, sep, _ = part.partition("=")
            if sep and key not in keys:
                keys.append(key)
    return tuple(keys)


def _visible(name: str) -> bool:
    return not name.startswith((".", "_"))
