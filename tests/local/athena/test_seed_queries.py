"""The example queries of the original solution (seed 001), on a lake shaped like theirs."""

from __future__ import annotations

from typing import Any

from tests.local.athena.conftest import RunQuery, all_rows

HAS_CLICKED = """
SELECT DISTINCT(endpoint_id) as Id, 'Yes' as "User.UserAttributes.HasClicked"
FROM email_click
"""

RENEWAL = """
SELECT MAX(contact.id) as Id, 'Renewal' as "User.UserAttributes.LifecycleStage"

FROM salesforce_contact contact

INNER JOIN salesforce_loan__c loan
   ON loan.contact_id = contact.id

LEFT JOIN some_other_data other
   ON contact.id = other.endpoint_id

WHERE loan.end_date > date_add('day', -30, NOW())
   AND loan.auto_renewal = false
   AND contact.missed_payments = 0

GROUP BY {group_by}
"""

UNENGAGED = """
SELECT MAX(contact.id) as Id, MAX(contact.state) as "User.UserAttributes.UnengagedByState"

FROM salesforce_contact contact

LEFT JOIN email_click click
   ON contact.id = click.endpoint_id

LEFT JOIN system_logins logins
  ON logins.username = contact.username

LEFT JOIN google_analytics ga ON ga.user_id = contact.id

WHERE (click.ingest_timestamp IS NULL OR click.ingest_timestamp > date_add('month', -6, NOW()))
GROUP BY contact.id
HAVING COUNT(click.event_timestamp) < 2
   AND COUNT(logins.timestamp) < 2 AND COUNT(ga.timestamp) < 2
ORDER BY 1
"""

LOGGED_IN_24H = """
SELECT DISTINCT(endpoint_id) as Id, 'Yes' as "Attributes.LoggedInDuringLast24Hours"
FROM session_start
WHERE ingest_timestamp > current_timestamp - interval '24' hour
"""


def _rows(athena: Any, run_query: RunQuery, sql: str) -> list[list[str | None]]:
    execution = run_query(sql)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    return all_rows(athena, execution["QueryExecutionId"])


def test_distinct_with_quoted_attribute_alias(athena: Any, run_query: RunQuery) -> None:
    rows = _rows(athena, run_query, HAS_CLICKED)
    assert rows[0] == ["Id", "User.UserAttributes.HasClicked"]
    assert sorted(rows[1:]) == [["ep-1", "Yes"], ["ep-2", "Yes"], ["ep-3", "Yes"]]


def test_joins_with_date_add_on_now(athena: Any, run_query: RunQuery) -> None:
    rows = _rows(athena, run_query, RENEWAL.format(group_by="contact.id"))
    assert rows == [["Id", "User.UserAttributes.LifecycleStage"], ["ep-1", "Renewal"]]


def test_seed_text_as_published_fails_like_athena_would(run_query: RunQuery) -> None:
    # The original README groups by `endpoint.id`, a table the query never names.
    status = run_query(RENEWAL.format(group_by="endpoint.id"))["Status"]
    assert status["State"] == "FAILED"
    assert "endpoint" in status["StateChangeReason"]


def test_left_joins_group_by_having(athena: Any, run_query: RunQuery) -> None:
    rows = _rows(athena, run_query, UNENGAGED)
    assert rows == [
        ["Id", "User.UserAttributes.UnengagedByState"],
        # ep-1 clicked twice: HAVING drops it.
        ["ep-2", "OR"],
        ["ep-3", None],
    ]


def test_interval_hours_against_current_timestamp(athena: Any, run_query: RunQuery) -> None:
    rows = _rows(athena, run_query, LOGGED_IN_24H)
    assert sorted(rows[1:]) == [["ep-1", "Yes"], ["ep-2", "Yes"]]
