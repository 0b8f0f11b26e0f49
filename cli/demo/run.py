"""`make demo`: the whole system on the local cloud, start to finish, in under a minute.

1. Seeds a Pinpoint project with plain boto3 calls, then changes it; CloudTrail delivers
   and the catalog pipeline names everything. Shows both tables and the
   `CatalogEntryChanged` events a subscriber received.
2. Builds a sample data lake (engagement events + CRM), registers its endpoints in
   Pinpoint, and publishes segment queries: imports, an imported segment, a dry run, a
   rejection and an Athena failure. Shows each run's lifecycle, a sample of updated
   endpoints, the SNS notifications and one run's X-Ray trace tree.
3. The Connect part: outbound campaigns v2 (MANAGED and JOURNEY) and a segment definition
   made with plain boto3 reach the same catalog (a `platform` column); profiles keyed by
   the lake's ids exist, and one query with `target: "connect"` updates them and defines
   a segment. Shows the run's lifecycle, the profiles' attribute names, the segment
   definition and the run's X-Ray trace.
4. The catalog in the lake: one plain Athena query joins the lake's engagement events
   with names from the catalog's mirror (`cli/demo/report.py`), printed as a table.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

import boto3
import duckdb
from boto3.dynamodb.types import TypeDeserializer

from cli.catalog import CATALOG_COLUMNS, catalog_entries
from cli.demo.connect import (
    CONNECT_QUERY,
    CONNECT_RUN_ID,
    CONNECT_SEGMENT,
    KNOWN_PROFILES,
    seed_connect,
)
from cli.demo.data_lake import build_data_lake, endpoint_records
from cli.demo.pinpoint_seed import change_project, seed_project
from cli.demo.queries import DEMO_QUERIES
from cli.demo.report import catalog_report
from cli.output import emit, heading, plural, table, to_json
from cli.service_logs import services_log_to
from cli.stack import StackOutputs
from cli.traces import render, run_traces
from contracts import SegmentQueryRequested, put_events_entry
from infra.local import LocalCloud
from infra.local.athena import AthenaEmulator

ENDPOINT_BATCH = 100  # UpdateEndpointsBatch takes at most 100 items
RUN_EVENT_TYPES = (
    "SegmentQueryValidated",
    "SegmentQueryRejected",
    "SegmentQueryStarted",
    "SegmentQuerySucceeded",
    "SegmentQueryFailed",
    "EndpointImportStarted",
    "EndpointImportCompleted",
    "EndpointImportFailed",
)
_deserialize = TypeDeserializer().deserialize


class Report:
    """Collects the demo's sections: printed as tables, or as one JSON document."""

    def __init__(self, *, json_output: bool, out: TextIO | None = None) -> None:
        self.json_output = json_output
        self.out = out
        self.sections: dict[str, Any] = {}

    def section(self, key: str, title: str, value: Any, text: str) -> None:
        self.sections[key] = value
        if not self.json_output:
            emit(heading(title), self.out)
            emit(text, self.out)

    def finish(self) -> None:
        if self.json_output:
            emit(to_json(self.sections), self.out)


def _sns_inbox(cloud: LocalCloud) -> tuple[Any, str]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="demo-notifications")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    boto3.client("sns").subscribe(
        TopicArn=cloud.outputs["NotificationTopicArn"], Protocol="sqs", Endpoint=arn
    )
    return sqs, url


def _drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        received.extend(json.loads(message["Body"]) for message in messages)
        for message in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return received


def _catalog(cloud: LocalCloud, report: Report) -> dict[str, Any]:
    pinpoint, s3 = boto3.client("pinpoint"), boto3.client("s3")
    watch = cloud.subscribe("demo-catalog", {"detail-type": ["CatalogEntryChanged"]})
    project = seed_project(
        pinpoint,
        s3,
        cloud.outputs["PinpointProjectId"],
        bucket=cloud.outputs["QueryResultsBucketName"],
        role_arn=str(cloud.stack.attribute("PinpointImportRole", "Arn")),
    )
    connect = seed_connect(
        boto3.client("customer-profiles"),
        boto3.client("connectcampaignsv2"),
        domain=str(cloud.outputs["CustomerProfilesDomainName"]),
        instance=str(cloud.outputs["ConnectInstanceId"]),
    )
    cloud.run_until_idle()
    # The lake's events name these, the one deleted next too (its events stay in the lake).
    named = {
        "campaigns": list(project.campaigns.values()),
        "journeys": list(project.journeys.values()),
    }
    change_project(pinpoint, project)
    cloud.run_until_idle()

    outputs = StackOutputs({key: str(value) for key, value in cloud.outputs.items()})
    entries = [
        {**entry, "platform": entry.get("platform") or "pinpoint"}
        for entry in catalog_entries(boto3.client("dynamodb"), outputs, include_deleted=True)
    ]
    platforms: dict[str, int] = defaultdict(int)
    for entry in entries:
        platforms[entry["platform"]] += 1
    report.section(
        "catalog",
        "Catalog: campaigns, journeys and segments by name, Pinpoint and Connect",
        entries,
        table(
            entries,
            ["platform", *CATALOG_COLUMNS],
            title=f"{plural(len(entries), 'entry', 'entries')} (deleted ones kept): "
            + ", ".join(f"{count} {name}" for name, count in sorted(platforms.items())),
        ),
    )
    changes = [event["detail"]["data"] for event in watch.received()]
    rows = [
        {
            "change": change["change"],
            "type": change["after"]["type"],
            "before": (change.get("before") or {}).get("name"),
            "after": change["after"]["name"],
        }
        for change in changes
    ]
    counts: dict[str, int] = defaultdict(int)
    for change in changes:
        counts[change["change"]] += 1
    report.section(
        "catalog_changes",
        "CatalogEntryChanged events a subscriber received",
        changes,
        table(
            [row for row in rows if row["change"] != "created"] + rows[:5],
            ["change", "type", "before", "after"],
            title=", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
            + " (showing the changes and the first 5 creations)",
        ),
    )
    return {"project": project, "connect": connect, "changes": len(changes), "named": named}


def _register_endpoints(application_id: str, records: list[dict[str, Any]]) -> None:
    pinpoint: Any = boto3.client("pinpoint")
    for start in range(0, len(records), ENDPOINT_BATCH):
        pinpoint.update_endpoints_batch(
            ApplicationId=application_id,
            EndpointBatchRequest={"Item": records[start : start + ENDPOINT_BATCH]},
        )


def _segmentation(
    cloud: LocalCloud, lake: Path, endpoints: int, report: Report, named: dict[str, list[str]]
) -> None:
    summary = build_data_lake(
        lake,
        endpoints=endpoints,
        now=cloud.clock.now(),
        campaign_ids=named["campaigns"],
        journey_ids=named["journeys"],
    )
    cloud.emulator(AthenaEmulator).refresh()
    application_id = str(cloud.outputs["PinpointProjectId"])
    records = endpoint_records(endpoints)
    _register_endpoints(application_id, records)
    report.section(
        "data_lake",
        "Sample data lake",
        summary,
        table(
            [{"table": name, "rows": rows} for name, rows in summary.tables.items()],
            ["table", "rows"],
            title=f"{plural(endpoints, 'endpoint')} registered in Pinpoint",
        ),
    )

    watch = cloud.subscribe("demo-runs", {"detail-type": list(RUN_EVENT_TYPES)})
    sqs, inbox = _sns_inbox(cloud)
    bus = str(cloud.outputs["EventBusName"])
    entries = []
    for query in DEMO_QUERIES:
        fields: dict[str, Any] = {"run_id": query.run_id, "requested_by": "demo"}
        if query.segment_name:
            fields["segment_name"] = query.segment_name
        if query.dry_run:
            fields["dry_run"] = True
        request = SegmentQueryRequested.from_user(query.sql, **fields)
        entries.append(put_events_entry(request, event_bus_name=bus))
    events_client = boto3.client("events")
    for start in range(0, len(entries), 10):
        events_client.put_events(Entries=entries[start : start + 10])
    cloud.run_until_idle(max_rounds=400)

    by_run: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in watch.received():
        by_run[event["detail"]["metadata"]["correlation_id"]].append(event)
    lifecycle = []
    for query in DEMO_QUERIES:
        events = sorted(by_run.get(query.run_id, []), key=lambda e: e["time"])
        final = events[-1] if events else None
        final_data = (final or {}).get("detail", {}).get("data", {})
        lifecycle.append(
            {
                "run": query.run_id,
                "expected": query.expected,
                "events": " > ".join(e["detail-type"].removeprefix("Segment") for e in events),
                "outcome": final_data.get("outcome") or final_data.get("state") or "-",
                "rows": (final_data.get("counts") or {}).get("rows_read"),
                "rejected": (final_data.get("counts") or {}).get("rows_rejected"),
            }
        )
    report.section(
        "runs",
        "Segment runs: lifecycle events on the bus",
        lifecycle,
        table(
            lifecycle, ["run", "expected", "outcome", "rows", "rejected", "events"], max_width=90
        ),
    )

    pinpoint = boto3.client("pinpoint")
    sample = []
    for record in records[:5]:
        endpoint = pinpoint.get_endpoint(ApplicationId=application_id, EndpointId=record["Id"])
        response = endpoint["EndpointResponse"]
        sample.append(
            {
                "endpoint": response["Id"],
                "attributes": ", ".join(sorted(response.get("Attributes", {}))),
                "metrics": ", ".join(sorted(response.get("Metrics", {}))),
                "user_attributes": ", ".join(
                    sorted((response.get("User") or {}).get("UserAttributes", {}))
                ),
            }
        )
    report.section(
        "endpoints",
        "Updated endpoints (attribute names only: values are customer data)",
        sample,
        table(sample, ["endpoint", "attributes", "metrics", "user_attributes"], max_width=60),
    )

    notifications = _drain(sqs, inbox)
    rows = [{"subject": n.get("Subject"), "message": n.get("Message", "")} for n in notifications]
    report.section(
        "notifications",
        "SNS notifications",
        rows,
        table(rows, ["subject", "message"], max_width=70),
    )

    traced_run = next(q.run_id for q in DEMO_QUERIES if q.expected == "imported")
    now = cloud.clock.now()
    traces = run_traces(
        boto3.client("xray"),
        traced_run,
        start=now - timedelta(days=1),
        end=now + timedelta(days=1),
        server_side_filter=False,  # moto's X-Ray does not evaluate filter expressions
    )
    report.section(
        "trace",
        f"X-Ray trace of run {traced_run}",
        [trace.to_dict() for trace in traces],
        "\n\n".join(render(trace) for trace in traces) or "(no trace captured)",
    )


def _lifecycle(events: list[dict[str, Any]]) -> dict[str, Any]:
    events = sorted(events, key=lambda e: e["time"])
    final_data = (events[-1] if events else {}).get("detail", {}).get("data", {})
    counts = final_data.get("counts") or {}
    return {
        "events": " > ".join(e["detail-type"].removeprefix("Segment") for e in events),
        "outcome": final_data.get("outcome") or final_data.get("state") or "-",
        "rows": counts.get("rows_read"),
        "rejected": counts.get("rows_rejected"),
        "profiles_created": final_data.get("profiles_created"),
        "profiles_updated": final_data.get("profiles_updated"),
        "segment_definition": final_data.get("segment_definition_name"),
    }


def _connect(cloud: LocalCloud, lake: Path, report: Report) -> None:
    """One query with target connect: profiles updated, a segment definition made."""
    domain = str(cloud.outputs["CustomerProfilesDomainName"])
    profiles: Any = boto3.client("customer-profiles")
    contacts = lake / "crm_contacts" / "part-0.parquet"
    with duckdb.connect() as connection:
        known = [
            str(row[0])
            for row in connection.execute(
                "SELECT endpoint_id FROM read_parquet(?) WHERE plan = 'gold' AND state = 'CA' "
                "ORDER BY endpoint_id LIMIT ?",
                [str(contacts), KNOWN_PROFILES],
            ).fetchall()
        ]
    for endpoint in known:  # customers Connect already knows: the upload updates them
        profiles.create_profile(DomainName=domain, AccountNumber=endpoint, FirstName="Known")

    watch = cloud.subscribe("demo-connect-run", {"detail-type": list(RUN_EVENT_TYPES)})
    request = SegmentQueryRequested.from_user(
        CONNECT_QUERY,
        run_id=CONNECT_RUN_ID,
        requested_by="demo",
        segment_name=CONNECT_SEGMENT,
        target="connect",
    )
    boto3.client("events").put_events(
        Entries=[put_events_entry(request, event_bus_name=str(cloud.outputs["EventBusName"]))]
    )
    cloud.run_until_idle(max_rounds=400)
    run = {"run": CONNECT_RUN_ID, "target": "connect", **_lifecycle(watch.received())}
    report.section(
        "connect_run",
        f"Connect run {CONNECT_RUN_ID}: lifecycle events on the bus",
        run,
        table(
            [run],
            [
                "run",
                "outcome",
                "rows",
                "rejected",
                "profiles_created",
                "profiles_updated",
                "events",
            ],
            max_width=90,
        ),
    )

    sample = []
    for endpoint in known:
        found = profiles.search_profiles(DomainName=domain, KeyName="_account", Values=[endpoint])
        for profile in found.get("Items", []):
            sample.append(
                {
                    "profile": profile["ProfileId"],
                    "attributes": ", ".join(sorted(profile.get("Attributes", {}))),
                    "fields": ", ".join(
                        sorted(
                            key
                            for key, value in profile.items()
                            if key not in ("Attributes", "ProfileId") and isinstance(value, str)
                        )
                    ),
                }
            )
    report.section(
        "connect_profiles",
        "Updated profiles (attribute names only: values are customer data)",
        sample,
        table(sample, ["profile", "attributes", "fields"], max_width=70),
    )

    definition = profiles.get_segment_definition(
        DomainName=domain, SegmentDefinitionName=CONNECT_SEGMENT
    )
    definition.pop("ResponseMetadata", None)
    shown = {
        "name": definition.get("SegmentDefinitionName"),
        "display_name": definition.get("DisplayName"),
        "type": definition.get("SegmentType"),
        "groups": definition.get("SegmentGroups"),
    }
    report.section(
        "connect_segment",
        f"Segment definition {CONNECT_SEGMENT} (made by the run)",
        shown,
        to_json(shown),
    )

    now = cloud.clock.now()
    traces = run_traces(
        boto3.client("xray"),
        CONNECT_RUN_ID,
        start=now - timedelta(days=1),
        end=now + timedelta(days=1),
        server_side_filter=False,
    )
    report.section(
        "connect_trace",
        f"X-Ray trace of run {CONNECT_RUN_ID}",
        [trace.to_dict() for trace in traces],
        "\n\n".join(render(trace) for trace in traces) or "(no trace captured)",
    )


def _names_report(cloud: LocalCloud, report: Report) -> None:
    """Engagement by name: the lake's events joined with the catalog's mirror, in Athena."""
    result = catalog_report(cloud)
    database = cloud.outputs["CatalogDatabaseName"]
    report.section(
        "catalog_report",
        f"Engagement by name: the lake joined with {database}.campaigns_journeys in Athena",
        result.rows,
        table(
            result.rows,
            result.columns,
            title=f"{len(result.rows)} names, one plain Athena query (no connector)",
            max_width=40,
        ),
    )


def run_demo(
    *,
    json_output: bool = False,
    endpoints: int = 10_000,
    keep: str | None = None,
    out: TextIO | None = None,
) -> int:
    """Run the demo; 0 when every message was handled (nothing in a dead-letter queue)."""
    started = time.monotonic()
    out = out or sys.stdout  # resolved before the service logs take stdout over
    report = Report(json_output=json_output, out=out)
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="pinpoint-lake-demo-"))
    lake = work / "lake"
    lake.mkdir(parents=True, exist_ok=True)
    log_path = work / "services.log"
    if not json_output:
        kept = "kept" if keep else "removed at the end unless something fails (--keep DIR keeps it)"
        emit(f"pinpoint-lake demo: service logs go to {log_path}, {kept}", out)
    dead: dict[str, int] = {}
    try:
        dead = _run(report, lake, log_path, endpoints)
    finally:
        # Without --keep nothing is left behind, unless the logs explain a dead letter.
        if not keep:
            shutil.rmtree(lake if dead else work, ignore_errors=True)
    report.sections["seconds"] = round(time.monotonic() - started, 1)
    if dead:
        report.sections["service_log"] = str(log_path)
    if not json_output:
        if dead:
            emit(f"\nsomething failed: the service logs are kept in {log_path}", out)
        emit(f"\ndemo finished in {report.sections['seconds']} s", out)
    report.finish()
    return 0 if not dead else 1


def _run(report: Report, lake: Path, log_path: Path, endpoints: int) -> dict[str, int]:
    """The demo's three parts; the dead-letter queues that hold messages at the end."""
    with services_log_to(log_path), LocalCloud(data_lake=lake, cloudtrail=True) as cloud:
        cloud.run_until_idle()
        seeded = _catalog(cloud, report)
        _segmentation(cloud, lake, endpoints, report, seeded["named"])
        _connect(cloud, lake, report)
        _names_report(cloud, report)
        dead = {name: len(items) for name, items in cloud.dead_letters().items() if items}
        report.section(
            "dead_letters",
            "Dead-letter queues",
            dead,
            "empty: every message was handled" if not dead else to_json(dead),
        )
    return dead
