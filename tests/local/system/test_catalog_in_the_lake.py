"""The catalog in the lake, black box on the local cloud: Pinpoint and Connect calls in,
plain Athena queries over `<CatalogDatabaseName>.campaigns_journeys` and `segments` out,
joined with the data lake's own tables, with no connector."""

# The queries are built from the stack's outputs and the ids the tests made.
# ruff: noqa: S608

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli import catalog as cli_catalog
from cli import main as cli_main
from cli.catalog import CatalogQueryError, run_query
from cli.demo.report import stack_outputs
from contracts import SegmentQueryRequested, put_events_entry
from infra.local import LocalCloud
from infra.local.athena import AthenaEmulator
from tests.fixtures.connect import managed_campaign, segment_definition
from tests.fixtures.pinpoint_resources import create_campaign, create_segment

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lake")


@pytest.fixture(scope="module")
def cloud(lake: Path) -> Iterator[LocalCloud]:
    with LocalCloud(data_lake=lake, cloudtrail=True) as running:
        running.run_until_idle()  # the deploy-time backfill of empty scopes
        yield running


def athena(cloud: LocalCloud, sql: str) -> list[dict[str, str | None]]:
    return run_query(
        boto3.client("athena"), stack_outputs(cloud), sql, wait=lambda: _idle(cloud)
    ).rows


def _idle(cloud: LocalCloud) -> None:
    cloud.run_until_idle()


def write_sends(lake: Path, name: str, campaign_ids: list[str]) -> None:
    folder = lake / "email_send"
    folder.mkdir(exist_ok=True)
    pq.write_table(
        pa.table(
            {
                "endpoint_id": [f"ep-{i}" for i in range(len(campaign_ids))],
                "pinpoint_campaign_id": campaign_ids,
            }
        ),
        folder / name,
    )


def test_a_campaign_cataloged_from_cloudtrail_is_named_in_athena(cloud: LocalCloud) -> None:
    pinpoint = boto3.client("pinpoint")
    app = cloud.outputs["PinpointProjectId"]
    database = cloud.outputs["CatalogDatabaseName"]
    segment = create_segment(pinpoint, app, "Lake audience")
    campaign = create_campaign(pinpoint, app, "Lake launch", segment)
    cloud.run_until_idle()

    rows = athena(
        cloud,
        f"SELECT name, type, platform, deleted, application_id FROM {database}.campaigns_journeys"
        f" WHERE id = '{campaign}'",
    )
    assert rows == [
        {
            "name": "Lake launch",
            "type": "campaign",
            "platform": "pinpoint",
            "deleted": "false",
            "application_id": app,
        }
    ]
    segments = athena(cloud, f"SELECT name FROM {database}.segments WHERE id = '{segment}'")
    assert segments == [{"name": "Lake audience"}]

    # A rename and a delete: each shows as soon as the catalog has written it.
    pinpoint.update_campaign(
        ApplicationId=app, CampaignId=campaign, WriteCampaignRequest={"Name": "Lake relaunch"}
    )
    cloud.run_until_idle()
    renamed = athena(
        cloud, f"SELECT name FROM {database}.campaigns_journeys WHERE id = '{campaign}'"
    )
    assert renamed == [{"name": "Lake relaunch"}]

    pinpoint.delete_campaign(ApplicationId=app, CampaignId=campaign)
    cloud.run_until_idle()
    deleted = athena(
        cloud,
        f"SELECT name, deleted FROM {database}.campaigns_journeys WHERE id = '{campaign}'",
    )
    assert deleted == [{"name": "Lake relaunch", "deleted": "true"}]  # kept, marked deleted


def test_the_mirror_equals_the_catalog_tables(cloud: LocalCloud) -> None:
    database = cloud.outputs["CatalogDatabaseName"]
    dynamodb = boto3.client("dynamodb")
    for output, table in (
        ("CampaignJourneyTableName", "campaigns_journeys"),
        ("SegmentTableName", "segments"),
    ):
        items = dynamodb.scan(TableName=cloud.outputs[output])["Items"]
        in_table = {
            (
                item.get("resource_id", item["id"])["S"],
                item["name"].get("S"),
                item["deleted"]["BOOL"],
            )
            for item in items
        }
        in_athena = {
            (row["id"], row["name"], row["deleted"] == "true")
            for row in athena(cloud, f"SELECT id, name, deleted FROM {database}.{table}")
        }
        assert in_athena == in_table
        assert in_table  # the earlier tests' writes are there


def test_connect_entries_are_in_the_same_tables(cloud: LocalCloud) -> None:
    domain = cloud.outputs["CustomerProfilesDomainName"]
    instance = cloud.outputs["ConnectInstanceId"]
    database = cloud.outputs["CatalogDatabaseName"]
    gold = segment_definition(
        boto3.client("customer-profiles"), "lake-gold", "Lake gold", domain=domain
    )
    campaign = managed_campaign(
        boto3.client("connectcampaignsv2"), "Lake winback", gold, instance, domain
    )
    cloud.run_until_idle()

    rows = athena(
        cloud,
        f"SELECT c.name, c.connect_instance_id, s.name AS segment, s.domain_name"
        f" FROM {database}.campaigns_journeys c, {database}.segments s"
        f" WHERE c.platform = 'connect' AND c.id = '{campaign}'"
        f" AND s.platform = 'connect' AND s.id = '{gold}'",
    )
    assert rows == [
        {
            "name": "Lake winback",
            "connect_instance_id": instance,
            "segment": "Lake gold",
            "domain_name": domain,
        }
    ]


def test_a_join_with_a_lake_table_and_a_new_file_read_by_the_next_query(
    cloud: LocalCloud, lake: Path
) -> None:
    pinpoint = boto3.client("pinpoint")
    app = cloud.outputs["PinpointProjectId"]
    database = cloud.outputs["CatalogDatabaseName"]
    segment = create_segment(pinpoint, app, "Join audience")
    first = create_campaign(pinpoint, app, "Join first", segment)
    second = create_campaign(pinpoint, app, "Join second", segment)
    cloud.run_until_idle()
    write_sends(lake, "part-0.parquet", [first, first, second, "f" * 32])
    cloud.emulator(AthenaEmulator).refresh()  # a crawler run: the new table enters Glue
    report = (
        f"SELECT c.name, count(*) AS sends FROM due_eventdb.email_send e"
        f" JOIN {database}.campaigns_journeys c ON c.id = e.pinpoint_campaign_id"
        " GROUP BY c.name ORDER BY c.name"
    )

    assert athena(cloud, report) == [
        {"name": "Join first", "sends": "2"},
        {"name": "Join second", "sends": "1"},
    ]

    write_sends(lake, "part-1.parquet", [second, second])  # no crawler run this time
    assert athena(cloud, report) == [
        {"name": "Join first", "sends": "2"},
        {"name": "Join second", "sends": "3"},
    ]


def test_a_failing_report_says_why(cloud: LocalCloud) -> None:
    database = cloud.outputs["CatalogDatabaseName"]
    with pytest.raises(CatalogQueryError) as failed:
        athena(cloud, f"SELECT nope FROM {database}.campaigns_journeys")
    assert "COLUMN_NOT_FOUND" in str(failed.value)
    assert json.dumps(str(failed.value))  # one line of text, no traceback


def test_a_segment_query_joins_names_from_the_catalog(cloud: LocalCloud, lake: Path) -> None:
    """The validator and the runner admit the catalog's database: a segment is defined by
    a campaign's *name*, and its endpoints are imported."""
    pinpoint = boto3.client("pinpoint")
    app = cloud.outputs["PinpointProjectId"]
    database = cloud.outputs["CatalogDatabaseName"]
    segment = create_segment(pinpoint, app, "Named audience")
    named = create_campaign(pinpoint, app, "Spring offer", segment)
    cloud.run_until_idle()
    endpoints = [f"{index:032x}" for index in range(1, 4)]
    folder = lake / "email_click"
    folder.mkdir(exist_ok=True)
    pq.write_table(
        pa.table({"endpoint_id": endpoints, "pinpoint_campaign_id": [named, named, "e" * 32]}),
        folder / "part-0.parquet",
    )
    cloud.emulator(AthenaEmulator).refresh()
    watch = cloud.subscribe(
        "named-run", {"detail-type": ["EndpointImportCompleted", "SegmentQueryRejected"]}
    )
    request = SegmentQueryRequested.from_user(
        f"""
        SELECT DISTINCT e.endpoint_id AS "Id", 'EMAIL' AS "ChannelType",
               'Yes' AS "Attributes.ClickedSpringOffer"
        FROM email_click e
        JOIN {database}.campaigns_journeys c ON c.id = e.pinpoint_campaign_id
        WHERE c.name = 'Spring offer' AND NOT c.deleted
        """,
        run_id="named-run",
    )
    boto3.client("events").put_events(
        Entries=[put_events_entry(request, event_bus_name=cloud.outputs["EventBusName"])]
    )
    cloud.run_until_idle()

    (completed,) = watch.received()
    assert completed["detail-type"] == "EndpointImportCompleted", completed["detail"]
    assert completed["detail"]["data"]["counts"]["rows_read"] == 2


def test_catalog_query_runs_a_report_file_on_the_stack(
    cloud: LocalCloud,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(cli_main, "read_outputs", lambda client, name: stack_outputs(cloud))
    monkeypatch.setattr(cli_catalog, "_pause", lambda: _idle(cloud))  # Athena moves on
    report = tmp_path / "names.sql"
    report.write_text(
        "SELECT type, count(*) AS entries FROM campaigns_journeys GROUP BY type ORDER BY type"
    )
    capsys.readouterr()

    assert cli_main.main(["catalog", "query", "--sql", str(report), "--stack", "s", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["columns"] == ["type", "entries"]
    assert [row["type"] for row in answer["rows"]] == ["campaign"]

    report.write_text("SELECT nope FROM campaigns_journeys")
    assert cli_main.main(["catalog", "query", "--sql", str(report), "--stack", "s"]) == 1
    printed = capsys.readouterr()
    assert printed.err.startswith("error: Athena failed query ")
    assert "COLUMN_NOT_FOUND" in printed.err
    assert "Traceback" not in printed.err + printed.out
