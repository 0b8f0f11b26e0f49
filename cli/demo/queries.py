"""The demo's segment queries: the original solution's examples, adapted to the sample lake.

The first four follow the shapes of the examples in the original Step Functions
solution's documentation (clicked, renewal lifecycle stage, unengaged by state, logged in
recently), written against the sample lake's tables. Then: a CRM query that defines an
imported segment, a dry run, one the validator rejects and one that fails in Athena.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoQuery:
    run_id: str
    description: str
    sql: str
    expected: str  # imported | dry_run | rejected | athena_failed
    segment_name: str | None = None
    dry_run: bool = False


DEMO_QUERIES: tuple[DemoQuery, ...] = (
    DemoQuery(
        run_id="demo-clicked",
        description="endpoints that clicked an email",
        sql="""
SELECT DISTINCT endpoint_id AS "Id", 'Yes' AS "User.UserAttributes.HasClicked"
FROM email_click
""",
        expected="imported",
    ),
    DemoQuery(
        run_id="demo-renewal",
        description="customers whose subscription ends in the next 30 days",
        sql="""
SELECT MAX(contact.endpoint_id) AS "Id",
       'Renewal' AS "User.UserAttributes.LifecycleStage"
FROM crm_contacts contact
INNER JOIN subscriptions sub ON sub.contact_id = contact.id
WHERE sub.end_date BETWEEN current_date AND date_add('day', 30, current_date)
GROUP BY contact.id
""",
        expected="imported",
    ),
    DemoQuery(
        run_id="demo-unengaged",
        description="contacts with no click and no login in six months, by state",
        sql="""
SELECT MAX(contact.endpoint_id) AS "Id",
       MAX(contact.state) AS "User.UserAttributes.UnengagedByState"
FROM crm_contacts contact
LEFT JOIN email_click click
  ON click.endpoint_id = contact.endpoint_id
 AND click.ingest_timestamp > date_add('month', -6, now())
LEFT JOIN system_logins logins
  ON logins.contact_id = contact.id
 AND logins.login_time > date_add('month', -6, now())
WHERE click.endpoint_id IS NULL AND logins.contact_id IS NULL
GROUP BY contact.id
""",
        expected="imported",
    ),
    DemoQuery(
        run_id="demo-recent-sessions",
        description="endpoints that started a session in the last 24 hours",
        sql="""
SELECT DISTINCT endpoint_id AS "Id", 'Yes' AS "Attributes.LoggedInDuringLast24Hours"
FROM session_start
WHERE ingest_timestamp > current_timestamp - interval '24' hour
""",
        expected="imported",
    ),
    DemoQuery(
        run_id="demo-high-value",
        description="gold and platinum customers, as an imported segment with their value",
        sql="""
select c.endpoint_id as "Id", 'EMAIL' as "ChannelType", c.email as "Address",
       upper(c.plan) as "Attributes.Plan", c.lifetime_value as "Metrics.LifetimeValue",
       c.id as "User.UserId"
from crm_contacts c
where c.plan in ('gold', 'platinum') and c.lifetime_value > 2500
""",
        expected="imported",
        segment_name="High-value customers",
    ),
    DemoQuery(
        run_id="demo-openers-dry-run",
        description="opened but never clicked (dry run: checked, not imported)",
        sql="""
WITH openers AS (SELECT DISTINCT endpoint_id FROM email_open),
     clickers AS (SELECT DISTINCT endpoint_id FROM email_click)
SELECT o.endpoint_id AS "Id", 'OpenedNotClicked' AS "Attributes.EngagementStage"
FROM openers o LEFT JOIN clickers c ON c.endpoint_id = o.endpoint_id
WHERE c.endpoint_id IS NULL
""",
        expected="dry_run",
        dry_run=True,
    ),
    DemoQuery(
        run_id="demo-rejected",
        description="writes to the lake and selects every column: rejected",
        sql="INSERT INTO crm_contacts SELECT * FROM crm_contacts",
        expected="rejected",
    ),
    DemoQuery(
        run_id="demo-athena-fails",
        description="reads a table the lake does not have: Athena fails it",
        sql="""
SELECT visitor_id AS "Id", 'Yes' AS "Attributes.VisitedPricing"
FROM web_analytics WHERE page = '/pricing'
""",
        expected="athena_failed",
    ),
)
