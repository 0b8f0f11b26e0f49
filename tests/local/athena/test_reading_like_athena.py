"""Tables are read the way Athena reads them: from their Glue description, with the files
their location holds when the query runs, in the layouts Firehose and the events database
write, and a clear error for a layout the local Athena cannot read."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from infra.local.athena import AthenaEmulator
from tests.local.athena.conftest import RunQuery, all_rows, client, write_parquet

JSON_SERDE = "org.apache.hive.hcatalog.data.JsonSerDe"


def rows(athena: Any, run_query: RunQuery, sql: str, **kwargs: Any) -> list[list[str | None]]:
    execution = run_query(sql, **kwargs)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    return all_rows(athena, execution["QueryExecutionId"])[1:]


def failure(run_query: RunQuery, sql: str) -> dict[str, Any]:
    status = run_query(sql)["Status"]
    assert status["State"] == "FAILED", status
    return dict(status["AthenaError"])


def json_lines(*records: dict[str, Any]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def test_a_new_file_in_an_existing_table_is_read_by_the_next_query(
    athena: Any, run_query: RunQuery, lake: Path
) -> None:
    sql = "SELECT count(*) FROM salesforce_contact"
    assert rows(athena, run_query, sql) == [["3"]]
    write_parquet(
        lake / "salesforce_contact" / "more.parquet",
        {"id": ["ep-9"], "username": ["dee"], "state": ["CA"], "missed_payments": [1]},
    )

    assert rows(athena, run_query, sql) == [["4"]]  # no refresh: read as the query runs

    (lake / "salesforce_contact" / "more.parquet").unlink()
    assert rows(athena, run_query, sql) == [["3"]]


def test_a_table_in_the_local_s3_is_read_with_its_declared_columns(
    athena: Any, run_query: RunQuery
) -> None:
    s3, glue = client("s3"), client("glue")
    s3.create_bucket(Bucket="catalog-mirror")
    glue.create_database(DatabaseInput={"Name": "names"})
    glue.create_table(
        DatabaseName="names",
        TableInput={
            "Name": "campaigns",
            "TableType": "EXTERNAL_TABLE",
            "StorageDescriptor": {
                "Location": "s3://catalog-mirror/catalog/campaigns/",
                "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                "SerdeInfo": {"SerializationLibrary": JSON_SERDE},
                "Columns": [
                    {"Name": "id", "Type": "string"},
                    {"Name": "name", "Type": "string"},
                    {"Name": "deleted", "Type": "boolean"},
                    {"Name": "event_time", "Type": "timestamp"},
                ],
            },
        },
    )
    sql = "SELECT id, name, deleted, event_time FROM names.campaigns ORDER BY id"
    assert rows(athena, run_query, sql) == []  # no object yet: empty, not an error

    s3.put_object(
        Bucket="catalog-mirror",
        Key="catalog/campaigns/pinpoint-c1.json",
        Body=json_lines(
            {
                "id": "c1",
                "name": "Winback",
                "deleted": False,
                "event_time": "2024-06-01 09:00:00.000",
                "not_a_column": 1,
            }
        ),
    )
    s3.put_object(Bucket="catalog-mirror", Key="catalog/campaigns/_tmp/x.json", Body=b"{}\n")
    assert rows(athena, run_query, sql) == [["c1", "Winback", "false", "2024-06-01 09:00:00.000"]]

    s3.put_object(
        Bucket="catalog-mirror",
        Key="catalog/campaigns/pinpoint-c1.json",
        Body=json_lines(
            {
                "id": "c1",
                "name": "Winback - Nov",
                "deleted": True,
                "event_time": "2024-06-01 10:00:00.000",
            }
        ),
    )
    assert rows(athena, run_query, sql) == [
        ["c1", "Winback - Nov", "true", "2024-06-01 10:00:00.000"]
    ]
    joined = rows(
        athena,
        run_query,
        "SELECT c.name, count(*) FROM email_click e JOIN names.campaigns c ON c.id = 'c1'"
        " GROUP BY 1",
    )
    assert joined == [["Winback - Nov", "4"]]


def test_firehose_and_events_database_layouts_are_read(
    athena: Any, emulator: AthenaEmulator, run_query: RunQuery, lake: Path
) -> None:
    # Firehose: JSON lines in hourly folders, no extension; gzip JSON; gzip CSV.
    hourly = lake / "firehose_events" / "2024" / "06" / "01" / "11"
    hourly.mkdir(parents=True)
    (hourly / "stream-1-2024-06-01-11-00-00-abc").write_bytes(
        json_lines(
            {"event_type": "_email.send", "endpoint_id": "ep-1"},
            {"event_type": "_email.open", "endpoint_id": "ep-2"},
        )
    )
    (hourly / "stream-1-2024-06-01-11-05-00-def.gz").write_bytes(
        gzip.compress(json_lines({"event_type": "_email.click", "endpoint_id": "ep-1"}))
    )
    (lake / "crm_export").mkdir()
    (lake / "crm_export" / "part-0.csv.gz").write_bytes(
        gzip.compress(b"contact_id,plan\nct-1,gold\nct-2,free\n")
    )
    assert {"firehose_events", "crm_export"} <= set(emulator.refresh())

    events = rows(
        athena, run_query, "SELECT event_type, endpoint_id FROM firehose_events ORDER BY event_type"
    )
    assert events == [["_email.click", "ep-1"], ["_email.open", "ep-2"], ["_email.send", "ep-1"]]
    assert rows(athena, run_query, "SELECT plan FROM crm_export ORDER BY contact_id") == [
        ["gold"],
        ["free"],
    ]
    tables = {
        t["Name"]: t for t in client("glue").get_tables(DatabaseName="due_eventdb")["TableList"]
    }
    assert tables["firehose_events"]["Parameters"]["classification"] == "json"
    assert tables["crm_export"]["Parameters"]["compressionType"] == "gzip"


def test_events_database_maps_and_structs_are_read(
    athena: Any, emulator: AthenaEmulator, run_query: RunQuery, lake: Path
) -> None:
    """The events database's views read `attributes['campaign_id']`, `client.client_id`
    and `facets.email_channel.mail_event.mail.message_id` from each event."""
    (lake / "all_events").mkdir()
    (lake / "all_events" / "events.json").write_bytes(
        json_lines(
            {
                "event_type": "_email.send",
                "event_timestamp": 1717239600000,
                "attributes": {"campaign_id": "c1", "treatment_id": "0"},
                "client": {"client_id": "ep-1"},
                "facets": {"email_channel": {"mail_event": {"mail": {"message_id": "m-1"}}}},
            }
        )
    )
    emulator.refresh()

    found = rows(
        athena,
        run_query,
        "SELECT attributes['campaign_id'], element_at(attributes, 'treatment_id'),"
        " client.client_id, facets.email_channel.mail_event.mail.message_id,"
        " from_unixtime(event_timestamp / 1000) FROM all_events",
    )
    assert found == [["c1", "0", "ep-1", "m-1", "2024-06-01 11:00:00.000 UTC"]]


def test_a_layout_the_local_athena_cannot_read_fails_with_athenas_error(
    run_query: RunQuery, emulator: AthenaEmulator, lake: Path
) -> None:
    (lake / "orc_events").mkdir()
    (lake / "orc_events" / "part-0.orc").write_bytes(b"ORC" + bytes(64))
    emulator.refresh()

    error = failure(run_query, "SELECT * FROM orc_events")

    assert error["ErrorType"] == 1200
    assert error["ErrorMessage"].startswith("HIVE_UNSUPPORTED_FORMAT: table due_eventdb.orc_events")
    assert "OrcSerde" in error["ErrorMessage"]
    assert "Parquet, CSV, TSV and JSON lines" in error["ErrorMessage"]


def test_a_missing_table_or_database_is_named_the_way_athena_names_it(
    run_query: RunQuery,
) -> None:
    table = failure(run_query, "SELECT * FROM web_analytics")
    assert table["ErrorMessage"] == (
        "TABLE_NOT_FOUND: Table 'awsdatacatalog.due_eventdb.web_analytics' does not exist"
    )
    assert "Did you mean" not in table["ErrorMessage"]
    schema = failure(run_query, "SELECT * FROM crm.contacts")
    assert schema["ErrorMessage"] == "SCHEMA_NOT_FOUND: Schema 'crm' does not exist"


def test_engine_messages_do_not_suggest_duckdbs_own_tables(run_query: RunQuery) -> None:
    status = run_query("SELECT * FROM pg_collatio")["Status"]
    assert status["State"] == "FAILED"
    assert "Did you mean" not in status["StateChangeReason"]
    assert "pg_collation" not in status["StateChangeReason"]
