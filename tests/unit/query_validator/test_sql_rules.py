"""The SQL verdict: the corpus, and the rules that need a closer look than one query."""

from __future__ import annotations

import logging

import pytest
import sqlglot
from sqlglot import exp

from services.common.sql_rules import (
    MAX_MESSAGE_LENGTH,
    RejectionCode,
    ValidationPolicy,
    output_name,
    validate,
)
from services.common.targets.pinpoint.imports import PINPOINT_IMPORTS
from tests.unit.query_validator.corpus import CORPUS, POLICY, CorpusQuery


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_the_corpus_is_judged_as_expected(case: CorpusQuery) -> None:
    verdict = validate(case.sql, POLICY)

    assert set(verdict.codes) == case.codes
    assert verdict.accepted is case.accepted
    if case.columns is not None:
        assert tuple(verdict.columns) == case.columns
    if case.tables is not None:
        assert tuple(verdict.tables) == case.tables
    for reason in verdict.reasons:
        assert 0 < len(reason.message) <= MAX_MESSAGE_LENGTH
    assert len(verdict.codes) == len(set(verdict.codes)) or "DUPLICATE_COLUMN" in verdict.codes


def test_the_corpus_is_big_and_varied_enough_to_benchmark() -> None:
    assert len(CORPUS) >= 40
    assert len({case.name for case in CORPUS}) == len(CORPUS)
    assert sum(case.accepted for case in CORPUS) >= 15
    every_code = {code for case in CORPUS for code in case.codes}
    assert every_code == {code.value for code in RejectionCode}


@pytest.mark.parametrize(
    "case", [c for c in CORPUS if c.accepted], ids=[c.name for c in CORPUS if c.accepted]
)
def test_accepted_queries_read_the_same_in_the_trino_dialect(case: CorpusQuery) -> None:
    # Athena engine 3 is Trino: sqlglot's "athena" and "trino" readers must agree.
    (athena,) = _statements(case.sql, "athena")
    (trino,) = _statements(case.sql, "trino")
    assert isinstance(athena, exp.Query)
    assert athena.sql("trino") == trino.sql("trino")


def _statements(sql: str, dialect: str) -> list[exp.Expr]:
    parsed = sqlglot.parse(sql, read=dialect)
    return [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]


def test_unqualified_tables_are_in_the_default_database() -> None:
    policy = ValidationPolicy(default_database="due_eventdb", allowed_databases=frozenset({"crm"}))
    verdict = validate("SELECT endpoint_id AS Id FROM email_open", policy)

    assert verdict.codes == ["DATABASE_NOT_ALLOWED"]
    assert "default database 'due_eventdb'" in verdict.reasons[0].message


def test_without_an_allow_list_any_database_of_the_catalog_is_read() -> None:
    policy = ValidationPolicy(allowed_databases=None)

    assert validate("SELECT id AS Id FROM finance.salaries", policy).accepted
    assert validate("SELECT id AS Id FROM TABLE(system.query(query => 'x'))", policy).accepted
    assert validate("SELECT id AS Id FROM mysql.crm.t", policy).codes == ["CATALOG_NOT_ALLOWED"]


def test_database_and_catalog_names_compare_without_case() -> None:
    policy = ValidationPolicy(catalog="AwsDataCatalog", allowed_databases=frozenset({" CRM "}))

    assert policy.allowed_databases == frozenset({"crm"})
    assert validate('SELECT id AS Id FROM awsdatacatalog."Crm".contacts', policy).accepted


def test_a_blank_query_and_a_deeply_nested_one_are_rejected_not_crashed() -> None:
    assert validate("  \n ").codes == ["EMPTY_QUERY"]
    nested = "SELECT " + "(" * 5000 + "1" + ")" * 5000 + " AS Id"
    assert validate(nested).codes == ["PARSE_ERROR"]


def test_parse_errors_carry_the_position() -> None:
    (reason,) = validate("SELECT endpoint_id AS Id FROM").reasons

    assert reason.code == "PARSE_ERROR"
    assert "line 1, column 29" in reason.message
    assert "end of the query" in reason.message


def test_unusual_blanks_inside_strings_and_comments_are_fine() -> None:
    sql = "SELECT endpoint_id AS Id -- a\u00a0comment\nFROM t WHERE x = 'a\u00a0b' /* \u2028 */"
    assert validate(sql).accepted
    (reason,) = validate("SELECT endpoint_id AS Id\nFROM t\u3000WHERE 1 = 1").reasons
    assert reason.code == "UNSUPPORTED_WHITESPACE"
    assert "line 2, column 7" in reason.message
    assert "U+3000" in reason.message


@pytest.mark.parametrize(
    ("projection", "name"),
    [
        ("endpoint_id", "endpoint_id"),
        ("t.endpoint_id", "endpoint_id"),
        ('"Attributes.Plan"', "Attributes.Plan"),
        ("(endpoint_id)", "endpoint_id"),
        ("endpoint_id AS Id", "Id"),
        ("CAST(endpoint_id AS varchar)", ""),
        ("1", ""),
        ("'Yes'", ""),
        ("upper(x)", ""),
        ("arr[1]", ""),
    ],
)
def test_output_names_follow_athena_not_sqlglot(projection: str, name: str) -> None:
    select = sqlglot.parse_one(f"SELECT {projection} FROM t", read="athena")  # noqa: S608 - test data
    assert isinstance(select, exp.Select)
    assert output_name(select.selects[0]) == name


def test_the_parser_does_not_echo_queries_into_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    secret = "SHOW TABLES LIKE 'alice@example.com'"
    with caplog.at_level(logging.DEBUG):
        assert validate(secret).codes == ["STATEMENT_NOT_ALLOWED"]
        logging.getLogger("sqlglot").warning("other sqlglot warnings still pass")

    assert "alice@example.com" not in caplog.text
    assert "other sqlglot warnings still pass" in caplog.text


def test_attribute_limits_come_from_the_policy() -> None:
    policy = ValidationPolicy(max_attribute_name_length=5, max_custom_attributes=1)
    sql = 'SELECT endpoint_id AS Id, 1 AS "Attributes.Longer", 2 AS "Metrics.M" FROM t'

    assert set(validate(sql, policy).codes) == {"ATTRIBUTE_NAME_TOO_LONG", "TOO_MANY_ATTRIBUTES"}


def test_columns_are_classified_as_pinpoints_import_reads_them() -> None:
    vocabulary = PINPOINT_IMPORTS
    identity = vocabulary.column("Id")
    assert identity is not None
    assert identity.attribute_name is None
    user_attribute = vocabulary.column("User.UserAttributes.Plan")
    assert user_attribute is not None
    assert user_attribute.family == "User.UserAttributes."
    assert user_attribute.attribute_name == "Plan"
    user_id = vocabulary.column("User.UserId")
    assert user_id is not None
    assert user_id.attribute_name is None
    assert vocabulary.spelled_as("Demographic.timezone") == "Demographic.Timezone"
    assert vocabulary.spelled_as("metrics.Score") == "Metrics.Score"
    assert vocabulary.spelled_as("endpoint_id") is None
    assert vocabulary.column("endpoint_id") is None


def test_the_help_text_names_every_fixed_column() -> None:
    for column in PINPOINT_IMPORTS.fixed:
        family, _, field = column.partition(".")
        assert (field or family) in PINPOINT_IMPORTS.columns_help


def test_group_by_a_table_the_query_does_not_have_is_rejected() -> None:
    # Seed 001's renewal query as published: it groups by `endpoint`, which it never names.
    verdict = validate(
        'SELECT MAX(contact.id) AS "Id" FROM salesforce_contact contact '
        "INNER JOIN salesforce_loan__c loan ON loan.contact_id = contact.id "
        "GROUP BY endpoint.id"
    )
    assert verdict.codes == ["UNKNOWN_TABLE_REFERENCE"]
    assert "'endpoint'" in verdict.reasons[0].message
    assert "contact, loan" in verdict.reasons[0].message


@pytest.mark.parametrize(
    "group_by",
    [
        "CONTACT.id",  # Athena folds identifiers: the alias in another case is the alias
        "salesforce_contact.id",
        "1",
        "id",
    ],
)
def test_group_by_the_query_s_own_tables_is_accepted(group_by: str) -> None:
    table = (
        "salesforce_contact" if group_by.startswith("salesforce") else "salesforce_contact contact"
    )
    verdict = validate(f'SELECT MAX(id) AS "Id" FROM {table} GROUP BY {group_by}')  # noqa: S608
    assert verdict.accepted, verdict.reasons


def test_a_correlated_subquery_may_group_by_its_outer_table() -> None:
    verdict = validate(
        'SELECT c.id AS "Id" FROM contact c WHERE EXISTS '
        "(SELECT 1 FROM loan GROUP BY c.id, loan.contact_id)"
    )
    assert verdict.accepted, verdict.reasons


def test_json_escaped_quotes_get_a_hint() -> None:
    verdict = validate(r"SELECT endpoint_id AS \"Id\" FROM crm")
    assert verdict.codes == ["PARSE_ERROR"]
    assert "without the backslashes" in verdict.reasons[0].message
    plain = validate("SELECT endpoint_id AS Id FROM crm WHERE")
    assert "backslashes" not in plain.reasons[0].message
