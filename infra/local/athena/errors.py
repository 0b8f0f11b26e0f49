"""Athena's error vocabulary: request errors (synchronous) and query failures (AthenaError).

Athena reports a failed query with an ``AthenaError``: a category (1 SYSTEM, 2 USER,
3 OTHER), a numeric type from the Athena error catalog, and a message that starts with the
engine's error name (``TABLE_NOT_FOUND: ...``). DuckDB's exceptions are mapped onto that
vocabulary here so the rest of the emulator never sees a DuckDB class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

SYSTEM = 1
USER = 2

# Error types from the Athena error catalog (docs: "Athena error catalog").
GENERIC_USER_ERROR = 1000
DATA_ERROR = 1001
SYNTAX_ERROR = 1006
QUERY_CANCELED_BY_USER = 1011
TABLE_NOT_FOUND = 1110
NOT_SUPPORTED = 1200
QUERY_TYPE_NOT_SUPPORTED = 1202
GENERAL_NOT_FOUND = 1300
FILE_NOT_FOUND = 1302
FUNCTION_NOT_FOUND = 1303
BUCKET_NOT_FOUND = 1306
ENGINE_INTERNAL_ERROR = 200
RESULT_WRITE_FAILED = 401


@dataclass(frozen=True)
class QueryFailure:
    """The ``AthenaError`` of a FAILED (or CANCELLED) query."""

    category: int
    error_type: int
    message: str
    retryable: bool = False


class QueryFailedError(Exception):
    """Raised by the engine when a query fails; carries Athena's description of it."""

    def __init__(self, failure: QueryFailure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def user_error(error_type: int, name: str, reason: str) -> QueryFailedError:
    return QueryFailedError(QueryFailure(USER, error_type, f"{name}: {reason}"))


class AthenaRequestError(Exception):
    """A synchronous API error (HTTP 4xx/5xx), e.g. ``InvalidRequestException``."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "InvalidRequestException",
        athena_error_code: str | None = "INVALID_INPUT",
        status: int = 400,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.athena_error_code = athena_error_code
        self.status = status


# DuckDB exception → (Athena error type, Trino error name); the first match wins.
_BY_CLASS: tuple[tuple[type[duckdb.Error], int, str], ...] = (
    (duckdb.ParserException, SYNTAX_ERROR, "SYNTAX_ERROR"),
    (duckdb.NotImplementedException, NOT_SUPPORTED, "NOT_SUPPORTED"),
    (duckdb.IOException, FILE_NOT_FOUND, "HIVE_CANNOT_OPEN_SPLIT"),
    (duckdb.ConversionException, DATA_ERROR, "INVALID_CAST_ARGUMENT"),
    (duckdb.OutOfRangeException, DATA_ERROR, "NUMERIC_VALUE_OUT_OF_RANGE"),
    (duckdb.DataError, DATA_ERROR, "INVALID_FUNCTION_ARGUMENT"),
    (duckdb.InvalidInputException, DATA_ERROR, "INVALID_FUNCTION_ARGUMENT"),
)


def from_duckdb(error: duckdb.Error) -> QueryFailedError:
    """Translate a DuckDB exception into the failure Athena would report for the query."""
    reason = _reason(error)
    lowered = reason.lower()
    if isinstance(error, duckdb.CatalogException):
        error_type, name = _catalog_error(lowered)
        return user_error(error_type, name, reason)
    if isinstance(error, duckdb.BinderException):
        return user_error(SYNTAX_ERROR, _binder_error_name(lowered), reason)
    if isinstance(error, duckdb.InternalException):
        # An engine bug, not the analyst's: Athena marks those SYSTEM and retryable.
        message = f"GENERIC_INTERNAL_ERROR: {reason}"
        return QueryFailedError(QueryFailure(SYSTEM, ENGINE_INTERNAL_ERROR, message, True))
    for error_class, error_type, name in _BY_CLASS:
        if isinstance(error, error_class):
            return user_error(error_type, name, reason)
    return user_error(GENERIC_USER_ERROR, "GENERIC_USER_ERROR", reason)


def _catalog_error(lowered: str) -> tuple[int, str]:
    if "function" in lowered:
        return FUNCTION_NOT_FOUND, "FUNCTION_NOT_FOUND"
    if "schema" in lowered:
        return TABLE_NOT_FOUND, "SCHEMA_NOT_FOUND"
    if "table" in lowered or "view" in lowered:
        return TABLE_NOT_FOUND, "TABLE_NOT_FOUND"
    return GENERAL_NOT_FOUND, "NOT_FOUND"


def _binder_error_name(lowered: str) -> str:
    if "group by" in lowered or "aggregate" in lowered:
        return "EXPRESSION_NOT_AGGREGATE"
    if "referenced table" in lowered:
        return "MISSING_TABLE"
    if "column" in lowered:
        return "COLUMN_NOT_FOUND"
    if "function" in lowered or "cast" in lowered:
        return "TYPE_MISMATCH"
    return "SYNTAX_ERROR"


def _reason(error: duckdb.Error) -> str:
    """DuckDB's message on one line, without its ``Binder Error:`` prefix nor its
    suggestions, which name DuckDB's own catalog (``Did you mean "pg_collation"?``)."""
    text = str(error).strip()
    head, _, rest = text.partition(": ")
    if head.endswith("Error") and rest:
        text = rest
    text = _SUGGESTION.sub("", text)
    return " ".join(text.split())


_SUGGESTION = re.compile(r"\s*(Did you mean|Candidate (bindings|functions)).*$", re.S)
