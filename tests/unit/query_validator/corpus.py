"""Segment queries the validator must judge right: the seed examples, everyday queries, and
the tricky ones (comments, semicolons in strings, hidden statements, nested WITH).

Data only, so the tests parametrize over it and a benchmark can time the validator on it:

    from tests.unit.query_validator.corpus import CORPUS, POLICY
    for case in CORPUS:
        validate(case.sql, POLICY)

`codes` is the set of rejection codes expected (empty: accepted); `columns` and `tables`,
when given, are the expected output columns and tables read.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.common.sql_rules import ValidationPolicy


@dataclass(frozen=True)
class CorpusQuery:
    name: str
    sql: str
    codes: frozenset[str] = frozenset()
    columns: tuple[str, ...] | None = None
    tables: tuple[str, ...] | None = None

    @property
    def accepted(self) -> bool:
        return not self.codes


# The policy the corpus is judged with: the default catalog, the events database and a CRM
# database beside it.
POLICY = ValidationPolicy(
    catalog="AwsDataCatalog",
    default_database="due_eventdb",
    allowed_databases=frozenset({"due_eventdb", "crm"}),
)


def good(
    name: str,
    sql: str,
    columns: tuple[str, ...] | None = None,
    tables: tuple[str, ...] | None = None,
) -> CorpusQuery:
    return CorpusQuery(name, sql, frozenset(), columns, tables)


def bad(name: str, sql: str, *codes: str, columns: tuple[str, ...] | None = None) -> CorpusQuery:
    return CorpusQuery(name, sql, frozenset(codes), columns)


_MANY_ATTRIBUTES = ", ".join(f'{i} AS "Attributes.A{i}"' for i in range(251))
_LONG_NAME = "N" * 51

CORPUS: tuple[CorpusQuery, ...] = (
    # --- the seed examples (the original solution's README), adapted -----------------------
    good(
        "seed_clicked_email",
        "SELECT DISTINCT(endpoint_id) as Id, 'Yes' as \"User.UserAttributes.HasClicked\"\n"
        "FROM email_click",
        columns=("Id", "User.UserAttributes.HasClicked"),
        tables=("email_click",),
    ),
    good(
        "seed_lifecycle_stage_renewal",
        "SELECT MAX(contact.id) as Id, 'Renewal' as \"User.UserAttributes.LifecycleStage\"\n\n"
        "FROM crm.salesforce_contact contact\n\n"
        "INNER JOIN crm.salesforce_loan__c loan\n"
        "   ON loan.contact_id = contact.id\n\n"
        "LEFT JOIN crm.some_other_data other\n"
        "   ON contact.id = other.endpoint_id\n\n"
        "WHERE loan.end_date > date_add('day', -30, NOW())\n"
        "   AND loan.auto_renewal = false\n"
        "   AND contact.missed_payments = 0\n\n"
        "GROUP BY contact.id\n",
        columns=("Id", "User.UserAttributes.LifecycleStage"),
        tables=("crm.salesforce_contact", "crm.salesforce_loan__c", "crm.some_other_data"),
    ),
    good(
        "seed_unengaged_by_state",
        "SELECT MAX(contact.id) as Id, MAX(contact.state) as "
        '"User.UserAttributes.UnengagedByState"\n\n'
        "FROM crm.salesforce_contact contact\n\n"
        "LEFT JOIN email_click click\n"
        "   ON contact.id = click.endpoint_id\n\n"
        "LEFT JOIN crm.system_logins logins\n"
        "  ON logins.username = contact.username\n\n"
        "LEFT JOIN crm.google_analytics ga ON ga.user_id = contact.id\n\n"
        "WHERE click.ingest_timestamp > date_add('month', -6, NOW())\n"
        "   AND logins.timestamp > date_add('month', -6, NOW())\n"
        "   AND ga.timestamp > date_add('month', -6, NOW())\n"
        "GROUP BY contact.id\n"
        "HAVING COUNT(click.event_timestamp) < 2\n"
        "   AND COUNT(logins.timestamp) < 2 AND COUNT(ga.timestamp) < 2\n",
        columns=("Id", "User.UserAttributes.UnengagedByState"),
        tables=(
            "crm.salesforce_contact",
            "email_click",
            "crm.system_logins",
            "crm.google_analytics",
        ),
    ),
    # The README's copy of that query carries a U+2028 LINE SEPARATOR after a NOW().
    bad(
        "seed_unengaged_with_pasted_line_separator",
        "SELECT MAX(contact.id) as Id FROM crm.salesforce_contact contact\n"
        "WHERE contact.created > date_add('month', -6, NOW())\u2028\n"
        "GROUP BY contact.id",
        "UNSUPPORTED_WHITESPACE",
    ),
    good(
        "seed_logged_in_last_24_hours",
        "SELECT DISTINCT(endpoint_id) as Id, 'Yes' as \"Attributes.LoggedInDuringLast24Hours\"\n"
        "FROM session_start\n"
        "WHERE ingest_timestamp > current_timestamp - interval '24' hour",
        columns=("Id", "Attributes.LoggedInDuringLast24Hours"),
        tables=("session_start",),
    ),
    # --- everyday queries the regex of the original refused --------------------------------
    good(
        "lowercase_keywords_and_commas_in_expressions",
        "select endpoint_id as Id, date_format(max(event_timestamp), '%Y-%m-%d') as "
        '"Attributes.LastOpen", count(*) as "Metrics.Opens"\n'
        "from email_open group by endpoint_id",
        columns=("Id", "Attributes.LastOpen", "Metrics.Opens"),
    ),
    good(
        "cte_is_not_a_table",
        "WITH clicks AS (SELECT endpoint_id, count(*) AS n FROM email_click GROUP BY 1)\n"
        'SELECT endpoint_id AS Id, n AS "Metrics.Clicks" FROM clicks WHERE n > 3',
        tables=("email_click",),
    ),
    good(
        "nested_with",
        "WITH a AS (WITH b AS (SELECT endpoint_id FROM email_open) "
        "SELECT endpoint_id FROM b)\nSELECT endpoint_id AS Id FROM a",
        columns=("Id",),
        tables=("email_open",),
    ),
    good(
        "cte_shadowing_a_table_name",
        "WITH email_click AS (SELECT endpoint_id FROM email_open)\n"
        "SELECT endpoint_id AS Id FROM email_click",
        tables=("email_open",),
    ),
    good(
        "join_and_subquery",
        'SELECT o.endpoint_id AS Id, c.segment AS "User.UserAttributes.Segment"\n'
        "FROM email_open o JOIN (SELECT id, segment FROM crm.contacts) c ON c.id = o.endpoint_id\n"
        "WHERE o.endpoint_id IN (SELECT endpoint_id FROM email_click)",
        tables=("email_open", "crm.contacts", "email_click"),
    ),
    good(
        "union_all_with_matching_columns",
        "SELECT endpoint_id AS Id, 'open' AS \"Attributes.Last\" FROM email_open\n"
        "UNION ALL\nSELECT endpoint_id, 'click' FROM email_click",
        columns=("Id", "Attributes.Last"),
    ),
    good(
        "except_and_intersect",
        "SELECT endpoint_id AS Id FROM email_send EXCEPT SELECT endpoint_id FROM email_open\n"
        "INTERSECT SELECT endpoint_id FROM email_delivered",
    ),
    good(
        "every_fixed_column",
        "SELECT endpoint_id AS Id, destination AS Address, 'EMAIL' AS ChannelType, "
        "'u1' AS \"User.UserId\", 'NONE' AS OptOut, "
        "'2026-11-01T00:00:00Z' AS EffectiveDate, 'r1' AS RequestId, "
        "'Paris' AS \"Location.City\", 'FR' AS \"Location.Country\", "
        '48.85 AS "Location.Latitude", 2.35 AS "Location.Longitude", '
        "'75001' AS \"Location.PostalCode\", 'IDF' AS \"Location.Region\", "
        "'1.2' AS \"Demographic.AppVersion\", 'fr_FR' AS \"Demographic.Locale\", "
        "'Apple' AS \"Demographic.Make\", 'iPhone' AS \"Demographic.Model\", "
        "'15' AS \"Demographic.ModelVersion\", 'iOS' AS \"Demographic.Platform\", "
        "'17' AS \"Demographic.PlatformVersion\", 'Europe/Paris' AS \"Demographic.Timezone\" "
        "FROM email_send",
    ),
    good("quoted_id_alias", 'SELECT endpoint_id AS "Id" FROM email_open', columns=("Id",)),
    good("alias_without_as", "SELECT endpoint_id Id FROM email_open", columns=("Id",)),
    good(
        "selected_column_keeps_its_name",
        'SELECT Id, "Attributes.Plan" FROM (SELECT endpoint_id AS Id, '
        'plan AS "Attributes.Plan" FROM crm.plans)',
        columns=("Id", "Attributes.Plan"),
    ),
    good(
        "string_literal_with_semicolon_and_drop",
        "SELECT endpoint_id AS Id, 'x; DROP TABLE email_open; --' AS \"Attributes.Note\"\n"
        "FROM email_open WHERE subject <> 'it''s; DELETE FROM t'",
        columns=("Id", "Attributes.Note"),
    ),
    good(
        "comments_everywhere",
        "/* weekly refresh; owner: growth */\n"
        "SELECT endpoint_id AS Id -- the endpoint; not the user\n"
        "FROM email_open /* ; DROP TABLE email_open */\n"
        "-- trailing comment; DROP TABLE x",
        columns=("Id",),
    ),
    good("trailing_semicolon", "SELECT endpoint_id AS Id FROM email_open;\n"),
    good(
        "trailing_semicolon_then_comment",
        "SELECT endpoint_id AS Id FROM email_open; -- done",
    ),
    good(
        "window_function_and_lambda",
        "SELECT endpoint_id AS Id, ROW_NUMBER() OVER (PARTITION BY application_id ORDER BY "
        'event_timestamp DESC) AS "Metrics.Rank", transform(ARRAY[1, 2], x -> x + 1)[1] AS '
        '"Metrics.Next" FROM email_open',
    ),
    good(
        "unnest_is_not_a_table",
        'SELECT endpoint_id AS Id, tag AS "Attributes.Tag" FROM email_send '
        "CROSS JOIN UNNEST(split(message_tags, ',')) AS t(tag)",
        tables=("email_send",),
    ),
    good(
        "qualified_with_the_glue_catalog",
        'SELECT endpoint_id AS Id FROM "AwsDataCatalog"."due_eventdb"."email_open"',
        tables=("awsdatacatalog.due_eventdb.email_open",),
    ),
    good(
        "database_in_another_case",
        "SELECT endpoint_id AS Id FROM DUE_EVENTDB.email_open",
        tables=("due_eventdb.email_open",),
    ),
    good(
        "parenthesized_query_with_limit",
        "(SELECT endpoint_id AS Id FROM email_open ORDER BY event_timestamp DESC LIMIT 100)",
    ),
    good(
        "attribute_name_of_fifty_characters",
        f'SELECT endpoint_id AS Id, 1 AS "Metrics.{"N" * 50}" FROM email_open',  # noqa: S608 - test data
    ),
    # --- statements that are not one read-only query ----------------------------------------
    bad(
        "statement_hidden_after_a_comment",
        "SELECT endpoint_id AS Id FROM email_open -- x \n; DROP TABLE email_open",
        "MULTIPLE_STATEMENTS",
        "STATEMENT_NOT_ALLOWED",
    ),
    bad(
        "two_selects",
        "SELECT endpoint_id AS Id FROM email_open; SELECT endpoint_id AS Id FROM email_click",
        "MULTIPLE_STATEMENTS",
    ),
    bad(
        "insert",
        "INSERT INTO crm.t SELECT endpoint_id AS Id FROM email_open",
        "STATEMENT_NOT_ALLOWED",
    ),
    bad(
        "with_then_insert",
        "WITH a AS (SELECT 1 AS x) INSERT INTO crm.t SELECT x FROM a",
        "STATEMENT_NOT_ALLOWED",
    ),
    bad(
        "ctas",
        "CREATE TABLE crm.copy AS SELECT endpoint_id AS Id FROM email_open",
        "STATEMENT_NOT_ALLOWED",
    ),
    bad(
        "unload",
        "UNLOAD (SELECT endpoint_id AS Id FROM email_open) TO 's3://bucket/out/' "
        "WITH (format = 'CSV')",
        "STATEMENT_NOT_ALLOWED",
    ),
    bad("drop_table", "DROP TABLE email_open", "STATEMENT_NOT_ALLOWED"),
    bad("msck_repair", "MSCK REPAIR TABLE all_events", "STATEMENT_NOT_ALLOWED"),
    bad("show_tables", "SHOW TABLES IN due_eventdb", "STATEMENT_NOT_ALLOWED"),
    bad("describe", "DESCRIBE email_open", "STATEMENT_NOT_ALLOWED"),
    bad("explain", "EXPLAIN SELECT endpoint_id AS Id FROM email_open", "STATEMENT_NOT_ALLOWED"),
    bad("delete", "DELETE FROM email_open WHERE 1 = 1", "STATEMENT_NOT_ALLOWED"),
    bad(
        "merge",
        "MERGE INTO crm.t USING crm.s ON t.id = s.id WHEN MATCHED THEN DELETE",
        "STATEMENT_NOT_ALLOWED",
    ),
    bad("bare_values", "VALUES ('a', 1)", "STATEMENT_NOT_ALLOWED"),
    bad(
        "select_into",
        "SELECT endpoint_id AS Id INTO crm.copy FROM email_open",
        "STATEMENT_NOT_ALLOWED",
    ),
    bad("only_comments", "-- SELECT endpoint_id AS Id FROM email_open", "EMPTY_QUERY"),
    bad("parse_error", "SELECT endpoint_id AS Id FROM", "PARSE_ERROR"),
    bad("unterminated_string", "SELECT 'Yes AS Id FROM email_open", "PARSE_ERROR"),
    bad(
        "non_breaking_space",
        "SELECT endpoint_id AS Id\u00a0FROM email_open",
        "UNSUPPORTED_WHITESPACE",
    ),
    # --- output columns ---------------------------------------------------------------------
    bad("select_star", "SELECT * FROM email_open", "SELECT_STAR", "MISSING_ID_COLUMN"),
    bad(
        "qualified_star",
        "SELECT o.endpoint_id AS Id, c.* FROM email_open o JOIN email_click c "
        "ON c.endpoint_id = o.endpoint_id",
        "SELECT_STAR",
    ),
    bad(
        "unnamed_expression",
        "SELECT endpoint_id AS Id, count(*) FROM email_open GROUP BY 1",
        "UNNAMED_COLUMN",
    ),
    bad(
        "cast_without_alias_is_unnamed",
        "SELECT CAST(endpoint_id AS varchar) FROM email_open",
        "UNNAMED_COLUMN",
        "MISSING_ID_COLUMN",
    ),
    bad(
        "missing_id",
        "SELECT 'Yes' AS \"Attributes.Clicked\" FROM email_click",
        "MISSING_ID_COLUMN",
    ),
    bad(
        "lowercase_id",
        "SELECT endpoint_id AS id FROM email_open",
        "MISSING_ID_COLUMN",
        "COLUMN_CASE_MISMATCH",
    ),
    bad(
        "lowercase_attribute_prefix",
        'SELECT endpoint_id AS Id, 1 AS "attributes.Plan" FROM email_open',
        "COLUMN_CASE_MISMATCH",
    ),
    bad(
        "raw_column_name",
        "SELECT endpoint_id AS Id, subject FROM email_send",
        "UNKNOWN_COLUMN",
    ),
    bad(
        "unknown_location_field",
        "SELECT endpoint_id AS Id, 'x' AS \"Location.Street\" FROM email_send",
        "UNKNOWN_COLUMN",
    ),
    bad(
        "duplicate_column",
        'SELECT endpoint_id AS Id, 1 AS "Metrics.N", 2 AS "Metrics.N" FROM email_open',
        "DUPLICATE_COLUMN",
    ),
    bad(
        "duplicate_in_another_case",
        "SELECT endpoint_id AS Id, endpoint_id AS ID FROM email_open",
        "DUPLICATE_COLUMN",
        "COLUMN_CASE_MISMATCH",
    ),
    bad(
        "attribute_without_name",
        'SELECT endpoint_id AS Id, 1 AS "Attributes." FROM email_open',
        "ATTRIBUTE_NAME_INVALID",
    ),
    bad(
        "attribute_name_too_long",
        f'SELECT endpoint_id AS Id, 1 AS "User.UserAttributes.{_LONG_NAME}" FROM email_open',  # noqa: S608 - test data
        "ATTRIBUTE_NAME_TOO_LONG",
    ),
    bad(
        "too_many_attributes",
        f"SELECT endpoint_id AS Id, {_MANY_ATTRIBUTES} FROM email_open",  # noqa: S608 - test data
        "TOO_MANY_ATTRIBUTES",
    ),
    bad(
        "union_with_mismatched_columns",
        "SELECT endpoint_id AS Id, 'a' AS \"Attributes.Source\" FROM email_open\n"
        "UNION SELECT endpoint_id FROM email_click",
        "SET_OPERATION_COLUMN_MISMATCH",
    ),
    # --- tables ------------------------------------------------------------------------------
    bad(
        "seed_renewal_as_published_groups_by_a_table_it_lacks",
        "SELECT MAX(contact.id) as Id FROM crm.salesforce_contact contact GROUP BY endpoint.id",
        "UNKNOWN_TABLE_REFERENCE",
    ),
    bad(
        "other_database",
        "SELECT id AS Id FROM finance.salaries",
        "DATABASE_NOT_ALLOWED",
    ),
    bad(
        "other_database_in_a_subquery",
        "SELECT endpoint_id AS Id FROM email_open WHERE endpoint_id IN "
        "(SELECT id FROM finance.salaries)",
        "DATABASE_NOT_ALLOWED",
    ),
    bad(
        "other_database_in_a_cte",
        "WITH s AS (SELECT id FROM finance.salaries) SELECT id AS Id FROM s",
        "DATABASE_NOT_ALLOWED",
    ),
    bad(
        "information_schema",
        "SELECT table_name AS Id FROM information_schema.tables",
        "DATABASE_NOT_ALLOWED",
    ),
    bad(
        "federated_catalog",
        "SELECT id AS Id FROM mysql.crm.contacts",
        "CATALOG_NOT_ALLOWED",
    ),
    bad(
        "table_function",
        "SELECT id AS Id FROM TABLE(system.query(query => 'SELECT id FROM contacts'))",
        "DATABASE_NOT_ALLOWED",
    ),
    # --- several problems at once: every one is listed --------------------------------------
    bad(
        "everything_wrong",
        'SELECT *, count(*), endpoint_id AS id, 1 AS "Attributes." FROM finance.salaries',
        "SELECT_STAR",
        "UNNAMED_COLUMN",
        "MISSING_ID_COLUMN",
        "COLUMN_CASE_MISMATCH",
        "ATTRIBUTE_NAME_INVALID",
        "DATABASE_NOT_ALLOWED",
    ),
)
