"""Whether an analyst's Athena query may run and be imported into Pinpoint.

The query is parsed with sqlglot in the Athena (Trino) dialect, never matched with regular
expressions: the original validator was a regex that refused commas, lowercase keywords and
CTEs, and let an INSERT through. Every problem found is reported, so an analyst fixes the
query in one round. Nothing here talks to AWS: the CLI's `query check` uses it as is.

Rejection codes (stable; subscribers may filter on them):

- ``EMPTY_QUERY``: the query is blank or holds only comments.
- ``PARSE_ERROR``: sqlglot cannot read the query; the message carries its reason and position.
- ``UNSUPPORTED_WHITESPACE``: a non-breaking space, line separator or other exotic blank
  outside strings and comments (pasted from a document). sqlglot reads it as a space;
  Athena's lexer takes only spaces, tabs and line breaks, and fails the query.
- ``MULTIPLE_STATEMENTS``: more than one statement, including one hidden after a comment or
  a semicolon.
- ``STATEMENT_NOT_ALLOWED``: not a read-only query (INSERT, CTAS, UNLOAD, DROP, DELETE,
  UPDATE, MERGE, MSCK, SHOW, DESCRIBE, CALL, EXPLAIN, a bare VALUES, SELECT ... INTO, ...).
  Accepted: SELECT, WITH ... SELECT, and UNION / INTERSECT / EXCEPT of selects.
- ``SELECT_STAR``: ``*`` or ``t.*`` in the output; every column must be named.
- ``UNNAMED_COLUMN``: an output expression Athena would name ``_colN`` (no alias).
- ``DUPLICATE_COLUMN``: two output columns whose names differ at most in letter case, or
  that write the same field of a target whose attributes hold one value (Connect:
  ``Attributes.Plan`` and ``User.UserAttributes.Plan``).
- ``MISSING_ID_COLUMN``: no ``Id`` output column (case-sensitive, as Pinpoint's header is).
- ``UNKNOWN_COLUMN``: an output column that is not an import column of the run's target
  (Pinpoint's, or on Connect one it has no place for, such as ``ChannelType``: the message
  names the target and why).
- ``COLUMN_CASE_MISMATCH``: an output column that is a Pinpoint column in another letter
  case (``id``, ``attributes.Plan``); the message gives the right spelling.
- ``ATTRIBUTE_NAME_INVALID``: an attribute column without a name (``Attributes.``), or
  whose name holds characters the target does not take (Connect: letters, digits, ``_.-``).
- ``ATTRIBUTE_NAME_TOO_LONG``: an attribute name longer than Pinpoint's 50 characters.
- ``TOO_MANY_ATTRIBUTES``: more custom attributes (Attributes, Metrics and UserAttributes
  together) than the 250 a Pinpoint project holds.
- ``SET_OPERATION_COLUMN_MISMATCH``: the branches of a UNION / INTERSECT / EXCEPT have
  different numbers of columns.
- ``CATALOG_NOT_ALLOWED``: a table in another data catalog than the deployment's (a
  federated source).
- ``DATABASE_NOT_ALLOWED``: a table outside the allowed databases (an unqualified table is in
  the default database), or a table function, which the allow-list cannot check.
- ``UNKNOWN_TABLE_REFERENCE``: a ``GROUP BY`` column qualified by a name that is no table,
  alias or CTE of its query (``GROUP BY endpoint.id`` over ``FROM contact``): Athena fails it
  ("cannot be resolved") after the run started.

A query that cannot be parsed because of ``\"`` (pasted from a JSON example) is told to
drop the backslashes.

`logic` adds the codes of the request itself (the target application, unreadable requests).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope
from sqlglot.tokenizer_core import Token, TokenType

from contracts import Rejection
from services.common.targets.imports import ImportColumn, ImportVocabulary
from services.common.targets.pinpoint.imports import PINPOINT_IMPORTS

DIALECT = "athena"
DEFAULT_CATALOG = "AwsDataCatalog"
DEFAULT_DATABASE = "due_eventdb"
MAX_MESSAGE_LENGTH = 1024  # Rejection.message's bound


class RejectionCode(StrEnum):
    EMPTY_QUERY = "EMPTY_QUERY"
    PARSE_ERROR = "PARSE_ERROR"
    UNSUPPORTED_WHITESPACE = "UNSUPPORTED_WHITESPACE"
    MULTIPLE_STATEMENTS = "MULTIPLE_STATEMENTS"
    STATEMENT_NOT_ALLOWED = "STATEMENT_NOT_ALLOWED"
    SELECT_STAR = "SELECT_STAR"
    UNNAMED_COLUMN = "UNNAMED_COLUMN"
    DUPLICATE_COLUMN = "DUPLICATE_COLUMN"
    MISSING_ID_COLUMN = "MISSING_ID_COLUMN"
    UNKNOWN_COLUMN = "UNKNOWN_COLUMN"
    COLUMN_CASE_MISMATCH = "COLUMN_CASE_MISMATCH"
    ATTRIBUTE_NAME_INVALID = "ATTRIBUTE_NAME_INVALID"
    ATTRIBUTE_NAME_TOO_LONG = "ATTRIBUTE_NAME_TOO_LONG"
    TOO_MANY_ATTRIBUTES = "TOO_MANY_ATTRIBUTES"
    SET_OPERATION_COLUMN_MISMATCH = "SET_OPERATION_COLUMN_MISMATCH"
    CATALOG_NOT_ALLOWED = "CATALOG_NOT_ALLOWED"
    DATABASE_NOT_ALLOWED = "DATABASE_NOT_ALLOWED"
    UNKNOWN_TABLE_REFERENCE = "UNKNOWN_TABLE_REFERENCE"


def rejection(code: str, message: str) -> Rejection:
    """A reason, its message cut to the contract's bound."""
    if len(message) > MAX_MESSAGE_LENGTH:
        message = message[: MAX_MESSAGE_LENGTH - 1] + "…"
    return Rejection(code=str(code), message=message)


@dataclass(frozen=True)
class ValidationPolicy:
    """The deployment's limits; Pinpoint's own limits are the defaults.

    Athena folds catalog and database names to lower case, so they are compared that way.
    `allowed_databases=None` lets a query read any database of the catalog.
    """

    catalog: str = DEFAULT_CATALOG
    default_database: str = DEFAULT_DATABASE
    allowed_databases: frozenset[str] | None = None
    # The import target's columns and limits (services.common.targets): the importer checks
    # rows against the same vocabulary.
    vocabulary: ImportVocabulary = PINPOINT_IMPORTS
    max_attribute_name_length: int = PINPOINT_IMPORTS.limits.max_attribute_name
    max_custom_attributes: int = PINPOINT_IMPORTS.limits.max_custom_attributes

    def __post_init__(self) -> None:
        if self.allowed_databases is not None:
            lowered = frozenset(name.strip().lower() for name in self.allowed_databases)
            object.__setattr__(self, "allowed_databases", lowered - {""})

    def for_vocabulary(self, vocabulary: ImportVocabulary) -> ValidationPolicy:
        """The same policy for another target's columns and limits."""
        if vocabulary is self.vocabulary:
            return self
        return replace(
            self,
            vocabulary=vocabulary,
            max_attribute_name_length=vocabulary.limits.max_attribute_name,
            max_custom_attributes=vocabulary.limits.max_custom_attributes,
        )

    def allows_catalog(self, catalog: str) -> bool:
        return catalog.lower() == self.catalog.lower()

    def allows_database(self, database: str) -> bool:
        return self.allowed_databases is None or database.lower() in self.allowed_databases


@dataclass(frozen=True)
class Verdict:
    """What the validator found: the output columns, the tables read, and every reason."""

    columns: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    reasons: list[Rejection] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.reasons

    @property
    def codes(self) -> list[str]:
        return [reason.code for reason in self.reasons]


def validate(sql: str, policy: ValidationPolicy | None = None) -> Verdict:
    """Every reason `sql` cannot run as a segmentation query; none when it can."""
    policy = policy or ValidationPolicy()
    if not sql.strip():
        return Verdict(reasons=[rejection(RejectionCode.EMPTY_QUERY, "the query is blank")])
    try:
        return _validate(sql, policy)
    except RecursionError:
        return Verdict(
            reasons=[
                rejection(
                    RejectionCode.PARSE_ERROR,
                    "the query cannot be parsed: it is nested too deeply",
                )
            ]
        )


def _validate(sql: str, policy: ValidationPolicy) -> Verdict:
    dialect = Dialect.get_or_raise(DIALECT)
    try:
        with _quiet_parser():
            tokens = dialect.tokenize(sql)
            parsed = dialect.parser().parse(tokens, sql)
    except SqlglotError as error:
        message = _parse_message(error) + _escaped_quote_hint(sql)
        return Verdict(reasons=[rejection(RejectionCode.PARSE_ERROR, message)])

    # A trailing semicolon yields None; a comment after the last semicolon yields a Semicolon.
    statements = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
    if not statements:
        return Verdict(
            reasons=[rejection(RejectionCode.EMPTY_QUERY, "the query holds only comments")]
        )

    reasons: list[Rejection] = list(_unusual_whitespace(sql, tokens))
    if len(statements) > 1:
        kinds = ", ".join(_statement_kind(s) for s in statements)
        reasons.append(
            rejection(
                RejectionCode.MULTIPLE_STATEMENTS,
                f"the query holds {len(statements)} statements ({kinds}); give exactly one "
                "SELECT (a statement after a semicolon counts, even behind a comment)",
            )
        )

    columns: list[str] | None = None
    tables: list[str] = []
    for statement in statements:
        if not _is_read_only_query(statement):
            reasons.append(
                rejection(
                    RejectionCode.STATEMENT_NOT_ALLOWED,
                    f"{_statement_kind(statement)} is not allowed: only a SELECT (with WITH, "
                    "UNION, INTERSECT or EXCEPT) can run",
                )
            )
            continue
        reasons.extend(_forbidden_clauses(statement))
        reasons.extend(_unknown_group_by_tables(statement))
        statement_columns, column_reasons = _check_output(statement, policy)
        statement_tables, table_reasons = _check_tables(statement, policy)
        reasons.extend(column_reasons)
        reasons.extend(table_reasons)
        if columns is None:
            columns, tables = statement_columns, statement_tables
    return Verdict(columns=columns or [], tables=tables, reasons=_unique(reasons))


# --- parsing ------------------------------------------------------------------------------

_parsing = contextvars.ContextVar("query_validator_parsing", default=False)


class _DropQueryEcho(logging.Filter):
    """sqlglot logs the statement it falls back to parsing as a Command: query text, which
    may hold customer values (literals in WHERE), stays out of the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _parsing.get()


_SQLGLOT_LOGGER = logging.getLogger("sqlglot")
if not any(isinstance(f, _DropQueryEcho) for f in _SQLGLOT_LOGGER.filters):
    _SQLGLOT_LOGGER.addFilter(_DropQueryEcho())


@contextlib.contextmanager
def _quiet_parser() -> Iterator[None]:
    token = _parsing.set(True)
    try:
        yield
    finally:
        _parsing.reset(token)


_TOKEN_REPR = re.compile(r"<Token token_type: [^,]+, text: (.*?), line: \d+.*?>")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _token_text(match: re.Match[str]) -> str:
    text = match.group(1)
    return "the end of the query" if text == "SENTINEL" else f"'{text}'"


def _parse_message(error: SqlglotError) -> str:
    if isinstance(error, ParseError) and error.errors:
        first = error.errors[0]
        description = _TOKEN_REPR.sub(_token_text, str(first.get("description", "syntax error")))
        where = f"line {first.get('line')}, column {first.get('col')}"
        near = first.get("highlight")
        near_text = f", near '{_shorten(str(near), 60)}'" if near else ""
        return f"the query cannot be parsed: {description} ({where}{near_text})"
    return f"the query cannot be parsed: {_ANSI.sub('', str(error))}"


def _escaped_quote_hint(sql: str) -> str:
    if '\\"' not in sql:
        return ""
    return (
        '; the query holds \\" (copied from a JSON example?): in SQL write plain double quotes, '
        "without the backslashes"
    )


_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_ATHENA_BLANKS = frozenset(" \t\r\n")


def _unusual_whitespace(sql: str, tokens: list[Token]) -> Iterator[Rejection]:
    """The first exotic blank between tokens (strings and comments may hold anything)."""
    cursor = 0
    spans = [(t.start, t.end) for t in tokens if t.token_type != TokenType.HIVE_TOKEN_STREAM]
    for start, end in [*spans, (len(sql), len(sql))]:
        gap = _COMMENT.sub(lambda m: " " * len(m.group()), sql[cursor:start])
        for offset, char in enumerate(gap):
            if char.isspace() and char not in _ATHENA_BLANKS:
                index = cursor + offset
                line = sql.count("\n", 0, index) + 1
                column = index - (sql.rfind("\n", 0, index) + 1) + 1
                name = unicodedata.name(char, "a blank")
                yield rejection(
                    RejectionCode.UNSUPPORTED_WHITESPACE,
                    f"line {line}, column {column} holds U+{ord(char):04X} ({name}) outside "
                    "any string or comment; Athena reads only spaces, tabs and line breaks "
                    "there: retype it as a space",
                )
                return
        cursor = max(cursor, end + 1)


# --- statements -------------------------------------------------------------------------


def _is_read_only_query(statement: exp.Expr) -> bool:
    # A bare VALUES parses as a query too, but its columns have no names to import.
    return isinstance(statement, exp.Query) and isinstance(_first_branch(statement), exp.Select)


def _statement_kind(statement: exp.Expr) -> str:
    if isinstance(statement, exp.Command):
        keyword = str(statement.this).upper()
        rest = statement.expression
        rest_text = rest.name if isinstance(rest, exp.Expr) else str(rest or "")
        if keyword == "EXPLAIN" and rest_text.lstrip().upper().startswith("ANALYZE"):
            return "EXPLAIN ANALYZE"
        if keyword == "DESCRIBE" and rest_text.lstrip().upper().startswith("INPUT"):
            return "DESCRIBE INPUT"
        return keyword
    if isinstance(statement, exp.Create):
        kind = str(statement.args.get("kind") or "").upper()
        as_select = " AS SELECT" if isinstance(statement.expression, exp.Query) else ""
        return f"CREATE {kind}{as_select}".strip()
    if isinstance(statement, exp.Query):
        first = _first_branch(statement)
        return "SELECT" if isinstance(first, exp.Select) else type(first).__name__.upper()
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type(statement).__name__).upper()


# Nodes that write or change the catalog, should a dialect ever allow them inside a query.
_WRITING_NODES: tuple[type[exp.Expr], ...] = (
    exp.DML,
    exp.DDL,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.TruncateTable,
)


def _forbidden_clauses(query: exp.Expr) -> Iterator[Rejection]:
    for node in query.find_all(*_WRITING_NODES):
        yield rejection(
            RejectionCode.STATEMENT_NOT_ALLOWED,
            f"{_statement_kind(node)} inside the query is not allowed",
        )
    for select in query.find_all(exp.Select):
        if select.args.get("into"):
            yield rejection(
                RejectionCode.STATEMENT_NOT_ALLOWED,
                "SELECT ... INTO writes a table and is not allowed",
            )
        if select.args.get("locks"):
            yield rejection(
                RejectionCode.STATEMENT_NOT_ALLOWED,
                "locking clauses (FOR UPDATE / FOR SHARE) are not allowed",
            )


def _unknown_group_by_tables(query: exp.Expr) -> Iterator[Rejection]:
    """GROUP BY columns qualified by a name their query has no table, alias or CTE for.

    Only GROUP BY is checked: elsewhere `a.b` may be field `b` of a struct column `a`, which
    the validator cannot tell without the table's schema.
    """
    try:
        scopes = traverse_scope(query)
    except SqlglotError:
        return
    for scope in scopes:
        group = scope.expression.args.get("group")
        if not isinstance(scope.expression, exp.Select) or group is None:
            continue
        known: set[str] = set()
        outer: Scope | None = scope
        while outer is not None:  # a correlated subquery may name its outer query's tables
            known.update(name.lower() for name in outer.sources)
            outer = outer.parent
        for expression in group.expressions:
            for column in expression.find_all(exp.Column):
                if column.table and column.table.lower() not in known:
                    names = ", ".join(sorted(scope.sources)) or "none"
                    yield rejection(
                        RejectionCode.UNKNOWN_TABLE_REFERENCE,
                        f"GROUP BY {_shorten(column.sql(DIALECT), 60)} names "
                        f"'{_shorten(column.table, 60)}', which is no table or alias of its "
                        f"query (it has: {_shorten(names)}); Athena would fail the run",
                    )


# --- output columns -----------------------------------------------------------------------


def _branches(query: exp.Expr) -> list[exp.Expr]:
    """The SELECTs whose rows make the output: every branch of a set operation."""
    if isinstance(query, exp.Subquery):
        return _branches(query.this)
    if isinstance(query, exp.SetOperation):
        return _branches(query.left) + _branches(query.right)
    return [query]


def _first_branch(query: exp.Expr) -> exp.Expr:
    # The first branch of a set operation names the output columns.
    return _branches(query)[0]


def output_name(projection: exp.Expr) -> str:
    """The column name Athena (Trino) gives an output expression; '' when it makes one up.

    Trino names a column by its alias, or by the column (or struct field) it selects; any
    other expression becomes `_col<N>`. sqlglot's own `output_name` is more generous (it
    names `CAST(Id AS varchar)` 'Id' and a literal by its value), so it is not used alone.
    """
    while isinstance(projection, exp.Paren):
        projection = projection.this
    if isinstance(projection, exp.Alias | exp.Column | exp.Dot):
        return projection.output_name
    return ""


def _check_output(query: exp.Expr, policy: ValidationPolicy) -> tuple[list[str], list[Rejection]]:
    reasons: list[Rejection] = []
    selects = [branch for branch in _branches(query) if isinstance(branch, exp.Select)]
    for select in selects:
        for projection in select.selects:
            if projection.is_star:
                reasons.append(
                    rejection(
                        RejectionCode.SELECT_STAR,
                        f"'{_shorten(projection.sql(DIALECT))}' cannot map to Pinpoint "
                        "columns: select each column with an alias",
                    )
                )
    if len(selects) > 1 and not any(p.is_star for s in selects for p in s.selects):
        widths = [len(select.selects) for select in selects]
        if len(set(widths)) > 1:
            reasons.append(
                rejection(
                    RejectionCode.SET_OPERATION_COLUMN_MISMATCH,
                    f"the branches of the set operation have {', '.join(map(str, widths))} "
                    "columns; each must have the same number",
                )
            )

    columns: list[str] = []
    for position, projection in enumerate(selects[0].selects, start=1):
        if projection.is_star:
            continue
        name = output_name(projection)
        if not name:
            reasons.append(
                rejection(
                    RejectionCode.UNNAMED_COLUMN,
                    f"column {position} ('{_shorten(projection.sql(DIALECT))}') has no name "
                    f"(Athena would call it _col{position - 1}): give it an alias such as "
                    'AS "Attributes.<name>"',
                )
            )
            continue
        columns.append(name)
    reasons.extend(_check_column_names(columns, policy))
    return columns, reasons


def _check_column_names(columns: list[str], policy: ValidationPolicy) -> Iterator[Rejection]:
    vocabulary = policy.vocabulary
    if vocabulary.id_column not in columns:
        id_column = vocabulary.id_column
        yield rejection(
            RejectionCode.MISSING_ID_COLUMN,
            f"the output has no '{id_column}' column (the endpoint id; spelled exactly "
            f"'{id_column}')",
        )
    # A repeated attribute column is several values of one attribute to Pinpoint, but
    # duplicates are refused: a repeated name is far more often a copy-paste slip than a
    # multi-value attribute, and names that differ only in case are the same to Athena.
    spellings: dict[str, list[str]] = {}
    for column in columns:
        spellings.setdefault(column.lower(), []).append(column)
    for same in spellings.values():
        if len(same) > 1:
            shown = ", ".join(f"'{_shorten(name, 80)}'" for name in same)
            yield rejection(
                RejectionCode.DUPLICATE_COLUMN,
                f"{len(same)} output columns have the same name ({shown}); "
                "column names must be unique, whatever their letter case",
            )
    attributes: set[tuple[str, str]] = set()
    writers: dict[tuple[str, ...], list[str]] = {}  # target field -> the columns writing it
    for name in dict.fromkeys(columns):
        import_column = vocabulary.column(name)
        yield from _check_column(name, import_column, policy)
        if import_column is not None and import_column.family and import_column.attribute_name:
            attributes.add((import_column.family, import_column.attribute_name))
        if import_column is not None:
            writers.setdefault(import_column.path, []).append(name)
    if vocabulary.limits.max_values_per_attribute <= 1:
        for path, names in writers.items():
            if len(names) > 1 and len({name.lower() for name in names}) == len(names):
                shown = " and ".join(f"'{_shorten(name, 80)}'" for name in names)
                yield rejection(
                    RejectionCode.DUPLICATE_COLUMN,
                    f"columns {shown} both write {'.'.join(path)} on {vocabulary.target}, "
                    "where a field holds one value: keep one of them",
                )
    if len(attributes) > policy.max_custom_attributes:
        families = ", ".join(prefix.rstrip(".") for prefix in vocabulary.families)
        yield rejection(
            RejectionCode.TOO_MANY_ATTRIBUTES,
            f"the query sets {len(attributes)} custom attributes; a {vocabulary.target} "
            f"project holds at most {policy.max_custom_attributes} ({families} together)",
        )


def _check_column(
    name: str, column: ImportColumn | None, policy: ValidationPolicy
) -> Iterator[Rejection]:
    target = policy.vocabulary.target
    if column is None:
        spelled_as = policy.vocabulary.spelled_as(name)
        unavailable = policy.vocabulary.unavailable_reason(name)
        if unavailable is not None:
            yield rejection(
                RejectionCode.UNKNOWN_COLUMN,
                f"column '{_shorten(name)}' cannot be imported into {target}: {unavailable}",
            )
        elif spelled_as is not None:
            yield rejection(
                RejectionCode.COLUMN_CASE_MISMATCH,
                f"column '{_shorten(name)}' must be spelled "
                f"'{_shorten(spelled_as)}': {target}'s header is case-sensitive",
            )
        else:
            yield rejection(
                RejectionCode.UNKNOWN_COLUMN,
                f"column '{_shorten(name)}' is not a {target} import column "
                f"({policy.vocabulary.columns_help})",
            )
        return
    attribute = column.attribute_name
    if attribute is None:
        return
    if not attribute.strip():
        yield rejection(
            RejectionCode.ATTRIBUTE_NAME_INVALID,
            f"column '{_shorten(name)}' names no attribute after '{column.family}'",
        )
    elif len(attribute) > policy.max_attribute_name_length:
        yield rejection(
            RejectionCode.ATTRIBUTE_NAME_TOO_LONG,
            f"attribute name '{_shorten(attribute)}' has {len(attribute)} "
            f"characters; {target} allows {policy.max_attribute_name_length}",
        )
    elif not policy.vocabulary.attribute_name_is_valid(attribute):
        yield rejection(
            RejectionCode.ATTRIBUTE_NAME_INVALID,
            f"attribute name '{_shorten(attribute)}' holds characters {target} does not take "
            f"in a field name (only {policy.vocabulary.attribute_name_help})",
        )


# --- tables -------------------------------------------------------------------------------


def _check_tables(query: exp.Expr, policy: ValidationPolicy) -> tuple[list[str], list[Rejection]]:
    tables: list[str] = []
    reasons: list[Rejection] = []
    for table in _table_references(query):
        if not isinstance(table.this, exp.Identifier):
            # Table functions such as TABLE(system.query(...)) reach federated sources.
            text = _shorten(table.sql(DIALECT))
            tables.append(text)
            if policy.allowed_databases is not None:
                reasons.append(
                    rejection(
                        RejectionCode.DATABASE_NOT_ALLOWED,
                        f"table function '{text}' cannot be checked against the allowed databases",
                    )
                )
            continue
        name = ".".join(part for part in (table.catalog, table.db, table.name) if part).lower()
        tables.append(name)
        if table.catalog and not policy.allows_catalog(table.catalog):
            reasons.append(
                rejection(
                    RejectionCode.CATALOG_NOT_ALLOWED,
                    f"table '{_shorten(name)}' is in catalog '{_shorten(table.catalog)}'; "
                    f"queries read only the catalog '{policy.catalog}'",
                )
            )
        database = table.db or policy.default_database
        if not policy.allows_database(database):
            where = (
                f"table '{_shorten(name)}' is in database '{_shorten(table.db)}'"
                if table.db
                else f"unqualified table '{_shorten(name)}' is in the default database '{database}'"
            )
            allowed = ", ".join(sorted(policy.allowed_databases or ()))
            reasons.append(
                rejection(
                    RejectionCode.DATABASE_NOT_ALLOWED,
                    f"{where}, which queries may not read (allowed: {allowed or 'none'})",
                )
            )
    return list(dict.fromkeys(tables)), reasons


def _table_references(query: exp.Expr) -> list[exp.Table]:
    """Tables the query reads, in order; names of CTEs in scope are not tables."""
    try:
        scopes = traverse_scope(query)
    except SqlglotError:
        return _table_references_without_scopes(query)
    seen: dict[int, exp.Table] = {}
    for scope in scopes:
        for source in scope.sources.values():
            if isinstance(source, exp.Table):
                seen.setdefault(id(source), source)
    return sorted(seen.values(), key=_position)


def _table_references_without_scopes(query: exp.Expr) -> list[exp.Table]:
    # Coarser: any unqualified name equal to some CTE's name counts as that CTE.
    cte_names = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
    return [
        table
        for table in query.find_all(exp.Table)
        if table.db or table.name not in cte_names or not isinstance(table.this, exp.Identifier)
    ]


def _position(table: exp.Table) -> int:
    meta = table.this.meta if isinstance(table.this, exp.Expr) else {}
    return int(meta.get("start", 0))


# --- helpers ------------------------------------------------------------------------------


def _shorten(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _unique(reasons: Iterable[Rejection]) -> list[Rejection]:
    return list(dict.fromkeys(reasons))
