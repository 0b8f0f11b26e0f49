"""Benchmark 6: both pipelines end to end on the local cloud, wall time per run.

Everything runs in this process: moto, the Pinpoint and Athena emulators and the real
handlers, pumped by the local runtime until the system is idle. Emulated time (import job
stages, CloudTrail windows) moves on a virtual clock, so the figures are the system's own
work, not waiting.

(a) Segmentation: a `SegmentQueryRequested` over the sample data lake's `crm_contacts`
(`cli/demo/data_lake.py`, 100,000 endpoints; quick: 2,000) runs through validator, runner,
Athena on DuckDB, importer and a Pinpoint import job to `EndpointImportCompleted`. The
same run for a 10-row query gives the fixed overhead, so the difference is the per-row
cost; the same SQL run on Athena alone shows how much of the time the query engine takes.

(b) Catalog: resources are created in Pinpoint with plain boto3 calls (half segments, half
campaigns); the emulator's CloudTrail recorder writes them into one log file in the trail
bucket, whose "Object Created" event starts log-ingester, name-resolver and catalog-writer.
The API-call events of the same writes are dropped first, so the file alone carries the
changes. A file of 1,000 resources (quick: 50) is timed against one of 10, and every
resource must be in the catalog tables afterwards.
"""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from bench.cloud_tools import services_log_to
from bench.harness import Options, Report, Timing, cost, interleaved
from cli.demo.data_lake import build_data_lake, endpoint_id
from contracts import SegmentQueryRequested, put_events_entry
from infra.local import LocalCloud
from infra.local.athena import AthenaEmulator
from infra.local.pinpoint import PinpointEmulator

NAME = "end_to_end"
TINY_ROWS = 10
SMALL_FILE = 10
COLUMNS = (
    'select endpoint_id as "Id", \'EMAIL\' as "ChannelType", email as "Address", '
    'plan as "Attributes.Plan", state as "Attributes.State", '
    'lifetime_value as "Metrics.LifetimeValue" from crm_contacts'
)
RUN_END_TYPES = (
    "EndpointImportCompleted",
    "EndpointImportFailed",
    "SegmentQueryRejected",
    "SegmentQueryFailed",
)
MAX_ROUNDS = 2000


def run(options: Options) -> Report:
    report = Report(NAME)
    log = options.work_dir / f"{NAME}-services.log"
    rows = options.scaled(100_000, 2_000)
    resources = options.scaled(1_000, 50)
    segmentation = _segmentation(options, rows, log)
    catalog = _catalog(options, resources, log)

    big, tiny, athena = segmentation
    report.figure(f"services' logs in {log}")
    report.figure(
        f"(a) {rows:,} rows: {big.median:.2f} s, {rows / big.median:,.0f} rows/s; "
        f"{TINY_ROWS} rows: {tiny.median:.2f} s; the same SQL on Athena alone: "
        f"{athena.median:.2f} s"
    )
    per_row = (big.median - tiny.median) / (rows - TINY_ROWS)
    report.figure(
        f"(a) fixed overhead ~{tiny.median:.2f} s per run, then {1e6 * per_row:.0f} us per row "
        f"({1 / per_row:,.0f} rows/s past the overhead)"
    )
    report.ratio(cost(NAME, big, tiny))
    report.ratio(cost(NAME, big, athena))

    large, small = catalog
    per_resource = (large.median - small.median) / (resources - SMALL_FILE)
    report.figure(
        f"(b) file of {resources:,} resources: {large.median:.2f} s "
        f"({1000 * large.median / resources:.1f} ms per resource); {SMALL_FILE} resources: "
        f"{small.median:.2f} s; past the fixed cost {1000 * per_resource:.1f} ms per resource"
    )
    report.ratio(cost(NAME, large, small))
    return report


# ---------------------------------------------------------------------- (a) segmentation


def _segmentation(options: Options, rows: int, log: Path) -> tuple[Timing, Timing, Timing]:
    lake = options.work_dir / f"{NAME}-lake"
    shutil.rmtree(lake, ignore_errors=True)
    lake.mkdir(parents=True)
    try:
        with services_log_to(log), LocalCloud(data_lake=lake) as cloud:
            cloud.run_until_idle()
            build_data_lake(lake, endpoints=rows, now=cloud.clock.now())
            cloud.emulator(AthenaEmulator).refresh()
            watch = cloud.subscribe("bench-runs", {"detail-type": list(RUN_END_TYPES)})
            runs = itertools.count(1)

            def pipeline(sql: str, expected_rows: int) -> Callable[[], int]:
                def run_once() -> int:
                    run_id = f"bench-{next(runs)}"
                    request = SegmentQueryRequested.from_user(sql, run_id=run_id)
                    _put(put_events_entry(request, event_bus_name=_bus(cloud)))
                    cloud.run_until_idle(max_rounds=MAX_ROUNDS)
                    return _imported_rows(watch.received(), run_id, expected_rows)

                return run_once

            timings = interleaved(
                {
                    f"{rows:,}-row run": pipeline(COLUMNS, rows),
                    f"{TINY_ROWS}-row run": pipeline(f"{COLUMNS} limit {TINY_ROWS}", TINY_ROWS),
                    "Athena alone": lambda: _athena_alone(cloud, COLUMNS),
                },
                repeat=options.repeat,
            )
            _check_endpoint(cloud)
    finally:
        shutil.rmtree(lake, ignore_errors=True)
    big, tiny, athena = timings.values()
    return big, tiny, athena


def _imported_rows(events: list[dict[str, Any]], run_id: str, expected: int) -> int:
    ended = [e for e in events if e["detail"]["metadata"]["correlation_id"] == run_id]
    if len(ended) != 1 or ended[0]["detail-type"] != "EndpointImportCompleted":
        raise RuntimeError(f"run {run_id} did not import: {[e['detail-type'] for e in ended]}")
    data = ended[0]["detail"]["data"]
    counts = data["counts"]
    if data["outcome"] != "complete" or counts["rows_to_import"] != expected:
        raise RuntimeError(f"run {run_id}: outcome {data['outcome']}, counts {counts}")
    return int(counts["rows_to_import"])


def _athena_alone(cloud: LocalCloud, sql: str) -> str:
    athena: Any = boto3.client("athena")
    execution = athena.start_query_execution(
        QueryString=sql,
        WorkGroup=str(cloud.outputs["AthenaWorkGroupName"]),
        QueryExecutionContext={"Database": str(cloud.stack.parameter("GlueDatabase"))},
    )["QueryExecutionId"]
    cloud.run_until_idle(max_rounds=MAX_ROUNDS)
    state = athena.get_query_execution(QueryExecutionId=execution)["QueryExecution"]["Status"]
    if state["State"] != "SUCCEEDED":
        raise RuntimeError(f"Athena alone: {state}")
    return str(execution)


def _check_endpoint(cloud: LocalCloud) -> None:
    """The imported endpoints are in Pinpoint, attributes and all."""
    pinpoint: Any = boto3.client("pinpoint")
    endpoint = pinpoint.get_endpoint(
        ApplicationId=str(cloud.outputs["PinpointProjectId"]), EndpointId=endpoint_id(0)
    )["EndpointResponse"]
    if "Plan" not in endpoint.get("Attributes", {}) or endpoint.get("ChannelType") != "EMAIL":
        raise RuntimeError(f"the import did not reach Pinpoint's endpoints: {endpoint}")


# ---------------------------------------------------------------------- (b) catalog


def _catalog(options: Options, resources: int, log: Path) -> tuple[Timing, Timing]:
    large = Timing(f"file of {resources:,} resources")
    small = Timing(f"file of {SMALL_FILE} resources")
    with services_log_to(log), LocalCloud(cloudtrail=True) as cloud:
        cloud.run_until_idle()
        batches = itertools.count(1)
        _catalog_run(cloud, SMALL_FILE, next(batches))  # warm-up: every handler imported
        for _ in range(options.repeat):
            for timing, count in ((large, resources), (small, SMALL_FILE)):
                timing.seconds.append(_catalog_run(cloud, count, next(batches)))
    return large, small


def _catalog_run(cloud: LocalCloud, count: int, batch: int) -> float:
    """Seconds from the log file's delivery until the system is idle, all cataloged."""
    created = _create_resources(cloud, count, batch)
    _drop_api_call_events(cloud)
    recorder = cloud.emulator(PinpointEmulator).recorder
    if recorder is None:
        raise RuntimeError("the local cloud does not record CloudTrail")
    started = time.perf_counter()
    recorder.flush_all()  # one log file with every record
    cloud.run_until_idle(max_rounds=MAX_ROUNDS)
    seconds = time.perf_counter() - started
    cataloged = _cataloged(cloud, created)
    if cataloged != count:
        raise RuntimeError(f"{cataloged} of {count} resources cataloged")
    return seconds


def _create_resources(cloud: LocalCloud, count: int, batch: int) -> list[str]:
    pinpoint: Any = boto3.client("pinpoint")
    application_id = str(cloud.outputs["PinpointProjectId"])
    segments: list[str] = []
    created: list[str] = []
    for index in range(count):
        if index % 2 == 0:
            response = pinpoint.create_segment(
                ApplicationId=application_id,
                WriteSegmentRequest={
                    "Name": f"Bench {batch} segment {index}",
                    "Dimensions": {"Demographic": {"Channel": {"Values": ["EMAIL"]}}},
                },
            )
            segments.append(str(response["SegmentResponse"]["Id"]))
            created.append(segments[-1])
        else:
            campaign = pinpoint.create_campaign(
                ApplicationId=application_id,
                WriteCampaignRequest={
                    "Name": f"Bench {batch} campaign {index}",
                    "SegmentId": segments[-1],
                    "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
                    "MessageConfiguration": {
                        "EmailMessage": {"Title": "Hello", "HtmlBody": "<p>Hello</p>"}
                    },
                },
            )["CampaignResponse"]
            created.append(str(campaign["Id"]))
    return created


def _drop_api_call_events(cloud: LocalCloud) -> None:
    """Empty the log-ingester's queue: the writes' API-call events, not the file."""
    sqs: Any = boto3.client("sqs")
    queue_url = cloud.stack.physical_id("LogIngesterQueue")
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(messages)
            ],
        )


def _cataloged(cloud: LocalCloud, created: list[str]) -> int:
    """How many of `created` have a named, live entry in the catalog tables."""
    dynamodb: Any = boto3.client("dynamodb")
    found: set[str] = set()
    for output in ("CampaignJourneyTableName", "SegmentTableName"):
        paginator = dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=str(cloud.outputs[output])):
            for item in page["Items"]:
                named = "name" in item and "S" in item["name"]
                live = not item.get("deleted", {}).get("BOOL", False)
                if named and live:
                    found.add(item["id"]["S"])
    return len(found & set(created))


def _bus(cloud: LocalCloud) -> str:
    return str(cloud.outputs["EventBusName"])


def _put(entry: Any) -> None:
    response = boto3.client("events").put_events(Entries=[entry])
    if response["FailedEntryCount"]:
        raise RuntimeError(f"PutEvents failed: {response['Entries']}")
