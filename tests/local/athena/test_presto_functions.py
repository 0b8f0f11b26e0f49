"""The Presto/Trino functions the events database's queries and the seed examples use, each
run through the local Athena and compared with the text Athena returns for it."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.athena.presto import joda_to_strftime
from tests.local.athena.conftest import RunQuery, all_rows

CASES = [
    ("to_iso8601(TIMESTAMP '2024-01-02 03:04:05.123')", "2024-01-02T03:04:05.123"),
    ("to_iso8601(from_iso8601_timestamp('2024-01-02T03:04:05Z'))", "2024-01-02T03:04:05.000Z"),
    ("to_iso8601(DATE '2024-01-02')", "2024-01-02"),
    ("format_datetime(TIMESTAMP '2024-01-02 03:04:05', 'yyyy-MM-dd HH:mm')", "2024-01-02 03:04"),
    (
        "format_datetime(from_iso8601_timestamp('2024-01-02T15:04:05Z'), "
        "'EEE, dd MMM yyyy hh:mm a')",
        "Tue, 02 Jan 2024 03:04 PM",
    ),
    ("format_datetime(TIMESTAMP '2024-01-02 03:04:05', 'yyyyMMdd''T''HHmmss')", "20240102T030405"),
    ("date_add('day', 3, TIMESTAMP '2024-01-02 03:04:05')", "2024-01-05 03:04:05.000"),
    ("date_add('month', -1, DATE '2024-03-31')", "2024-02-29"),
    ("date_add('day', -30, current_date)", "2024-05-02"),
    ("date_trunc('minute', date_add('hour', -2, now()))", "2024-06-01 10:00:00.000 UTC"),
    ("from_iso8601_timestamp('2024-01-02T03:04:05.678Z')", "2024-01-02 03:04:05.678 UTC"),
    ("from_iso8601_date('2024-01-02')", "2024-01-02"),
    ("from_unixtime(1704164645)", "2024-01-02 03:04:05.000 UTC"),
    ("date_diff('day', DATE '2024-01-01', DATE '2024-01-31')", "30"),
    ("date_trunc('hour', TIMESTAMP '2024-01-02 03:04:05')", "2024-01-02 03:00:00.000"),
    ("date_format(TIMESTAMP '2024-01-02 03:04:05', '%Y-%m-%d %H:%i')", "2024-01-02 03:04"),
    ("date_parse('2024-01-02 03:04', '%Y-%m-%d %H:%i')", "2024-01-02 03:04:00.000"),
    ("current_timezone()", "UTC"),
    ("MAP(ARRAY['campaign_id'], ARRAY['c1'])['campaign_id']", "c1"),
    ("element_at(MAP(ARRAY['a'], ARRAY['x']), 'missing')", None),
    ("CAST(ROW(1, 'x') AS ROW(a INTEGER, b VARCHAR)).b", "x"),
    ('json_extract_scalar(\'{"a": {"b": "c"}}\', \'$.a.b\')', "c"),
    ("cardinality(ARRAY[1, 2, 3])", "3"),
]


@pytest.mark.parametrize(("expression", "athena_gives"), CASES, ids=[c[0] for c in CASES])
def test_a_function_gives_what_athena_gives(
    athena: Any, run_query: RunQuery, expression: str, athena_gives: str | None
) -> None:
    execution = run_query(f"SELECT {expression} AS value")
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]

    (_, (value,)) = all_rows(athena, execution["QueryExecutionId"])

    assert value == athena_gives


def test_joda_patterns_translate_letter_by_letter_and_keep_quoted_text() -> None:
    assert joda_to_strftime("yyyy-MM-dd'T'HH:mm:ss.SSS") == "%Y-%m-%dT%H:%M:%S.%g"
    assert joda_to_strftime("d MMMM yy, h a ''") == "%-d %B %y, %-I %p '"
    assert joda_to_strftime("'100%' yyyy") == "100%% %Y"


def test_a_pattern_letter_it_does_not_know_is_refused_clearly(run_query: RunQuery) -> None:
    status = run_query("SELECT format_datetime(now(), 'yyyy ww')")["Status"]
    assert status["State"] == "FAILED"
    assert "format_datetime" in status["StateChangeReason"]
    assert "'w'" in status["StateChangeReason"] or "'ww'" in status["StateChangeReason"]
