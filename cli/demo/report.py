"""The demo's last section: engagement by name, one plain Athena query.

The sample lake's engagement events (`email_send`, `email_open`, `email_click`,
`journey_send`) name campaigns and journeys by id; the catalog's mirror
(`<CatalogDatabaseName>.campaigns_journeys`) names them. No connector: the query below
is what a user runs in the Athena console, and `pinpoint-lake catalog query --sql FILE`
runs it from a file (`local_catalog_query` here is its local-cloud side).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import boto3

from cli.catalog import QueryRows, run_query
from cli.demo.data_lake import build_data_lake
from cli.demo.pinpoint_seed import change_project, seed_project
from cli.service_logs import services_log_to
from cli.stack import StackOutputs
from infra.local import LocalCloud
from infra.local.athena import AthenaEmulator


def report_sql(catalog_database: str, lake_database: str) -> str:
    """Sends, opens, clicks and journey sends per cataloged name (deleted ones included).

    The two names are Glue database names from the template (`[a-z0-9_]`, its pattern)."""
    return f"""
WITH engagement AS (
    SELECT pinpoint_campaign_id AS id, 'send' AS kind FROM {lake_database}.email_send
    UNION ALL SELECT pinpoint_campaign_id, 'open' FROM {lake_database}.email_open
    UNION ALL SELECT pinpoint_campaign_id, 'click' FROM {lake_database}.email_click
    UNION ALL SELECT journey_id, 'journey_send' FROM {lake_database}.journey_send
)
SELECT c.type, c.name, c.deleted,
       count_if(e.kind = 'send') AS sends,
       count_if(e.kind = 'open') AS opens,
       count_if(e.kind = 'click') AS clicks,
       count_if(e.kind = 'journey_send') AS journey_sends,
       format_datetime(max(c.event_time), 'yyyy-MM-dd HH:mm') AS named_at
FROM engagement e
JOIN {catalog_database}.campaigns_journeys c ON c.id = e.id AND c.platform = 'pinpoint'
GROUP BY c.type, c.name, c.deleted
ORDER BY c.type, sends DESC, journey_sends DESC, c.name
""".strip()  # noqa: S608 - database names the template's AllowedPattern admits


def stack_outputs(cloud: LocalCloud) -> StackOutputs:
    return StackOutputs({key: str(value) for key, value in cloud.outputs.items()})


def catalog_report(cloud: LocalCloud, sql: str | None = None) -> QueryRows:
    """Run the report (or `sql`) in the local cloud's Athena workgroup."""
    outputs = stack_outputs(cloud)
    lake_database = str(cloud.stack.parameter("GlueDatabase"))
    query = sql or report_sql(outputs["CatalogDatabaseName"], lake_database)
    return run_query(boto3.client("athena"), outputs, query, wait=lambda: _run_until_idle(cloud))


def local_catalog_query(sql: str, *, endpoints: int = 1_000) -> QueryRows:
    """`catalog query` without --stack: a local cloud whose catalog holds the demo's
    Pinpoint project and whose lake is the demo's sample lake, then `sql` in Athena."""
    with (
        tempfile.TemporaryDirectory(prefix="pinpoint-lake-query-") as work,
        services_log_to(Path(work) / "services.log"),
        LocalCloud(data_lake=Path(work) / "lake", cloudtrail=True) as cloud,
    ):
        cloud.run_until_idle()
        project = seed_project(
            boto3.client("pinpoint"),
            boto3.client("s3"),
            cloud.outputs["PinpointProjectId"],
            bucket=cloud.outputs["QueryResultsBucketName"],
            role_arn=str(cloud.stack.attribute("PinpointImportRole", "Arn")),
        )
        campaigns = list(project.campaigns.values())
        journeys = list(project.journeys.values())
        cloud.run_until_idle()
        change_project(boto3.client("pinpoint"), project)
        cloud.run_until_idle()
        build_data_lake(
            Path(work) / "lake",
            endpoints=endpoints,
            now=cloud.clock.now(),
            campaign_ids=campaigns,
            journey_ids=journeys,
        )
        cloud.emulator(AthenaEmulator).refresh()
        return catalog_report(cloud, sql)


def _run_until_idle(cloud: LocalCloud) -> None:
    cloud.run_until_idle()
