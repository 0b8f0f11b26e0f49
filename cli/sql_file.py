"""Reading the SQL file a user gives: UTF-8 (with or without a byte order mark) or UTF-16.

Editors on Windows save "Unicode" as UTF-16 with a byte order mark, and some add a UTF-8
one; both are read. Anything else that is not UTF-8 is refused with where it breaks, never
guessed at.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from cli.errors import UsageError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_sql(data: bytes, path: str) -> str:
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise UsageError(
            f"{path} is not {encoding.upper().removesuffix('-SIG')} text (byte "
            f"0x{data[error.start]:02x} at offset {error.start}): save it as UTF-8"
        ) from None


def read_sql(path: str) -> str:
    """The query in `path`, decoded; a missing or unreadable file is a UsageError."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"no SQL file at {path}: give the path of a file holding one query")
    try:
        data = file.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    return decode_sql(data, path)
