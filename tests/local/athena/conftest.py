"""Fixtures: a moto account, a small lake written with pyarrow, an installed emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from moto import mock_aws

from infra.local.athena import AthenaEmulator, State
from infra.local.clock import VirtualClock

REGION = "us-east-1"
BUCKET = "athena-results"
OUTPUT = f"s3://{BUCKET}/queries/"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def write_parquet(path: Path, columns: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)


def build_lake(root: Path) -> Path:
    """Events-database-like tables (hourly partitions) plus CRM tables, around NOW."""
    recent = NOW - timedelta(hours=2)
    old = NOW - timedelta(days=40)
    for hour, endpoints in ((recent, ["ep-1", "ep-2", "ep-1"]), (old, ["ep-3"])):
        partition = f"ingest_timestamp={hour:%Y-%m-%d %H}:00:00"
        write_parquet(
            root / "email_click" / partition / "part-0.parquet",
            {
                "event_timestamp": pa.array([hour] * len(endpoints), pa.timestamp("ms")),
                "application_id": ["app"] * len(endpoints),
                "endpoint_id": endpoints,
                "link": ["https://example.com/a"] * len(endpoints),
            },
        )
        write_parquet(
            root / "session_start" / partition / "part-0.parquet",
            {
                "event_timestamp": pa.array([hour] * len(endpoints), pa.timestamp("ms")),
                "endpoint_id": endpoints,
            },
        )
    write_parquet(
        root / "salesforce_contact" / "contacts.parquet",
        {
            "id": ["ep-1", "ep-2", "ep-3"],
            "username": ["ann", "bob", "cid"],
            "state": ["WA", "OR", None],
            "missed_payments": pa.array([0, 0, 2], pa.int32()),
        },
    )
    write_parquet(
        root / "salesforce_loan__c" / "loans.parquet",
        {
            "contact_id": ["ep-1", "ep-2", "ep-3"],
            "end_date": pa.array(
                [NOW + timedelta(days=5), NOW - timedelta(days=60), NOW], pa.timestamp("ms")
            ),
            "auto_renewal": [False, False, True],
        },
    )
    write_parquet(root / "some_other_data" / "d.parquet", {"endpoint_id": ["ep-1"]})
    (root / "system_logins").mkdir(parents=True)
    (root / "system_logins" / "logins.csv").write_text(
        "username,timestamp\nann,2024-05-30 10:00:00\nbob,2023-01-01 00:00:00\n"
    )
    write_parquet(
        root / "google_analytics" / "ga.parquet",
        {"user_id": ["ep-2"], "timestamp": pa.array([NOW - timedelta(days=1)], pa.timestamp("ms"))},
    )
    return root


_LOADER = botocore.loaders.create_loader()


def client(service: str) -> Any:
    """A plain boto3 client; the shared loader only saves re-reading service models."""
    core = botocore.session.Session()
    core.register_component("data_loader", _LOADER)
    return boto3.session.Session(botocore_session=core, region_name=REGION).client(service)  # type: ignore[call-overload]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(NOW)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        client("s3").create_bucket(Bucket=BUCKET)
        yield


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    return build_lake(tmp_path / "lake")


@pytest.fixture
def emulator(aws: None, clock: VirtualClock, lake: Path) -> Iterator[AthenaEmulator]:
    with AthenaEmulator(clock=clock, data_lake=lake) as installed:
        yield installed


@pytest.fixture
def athena(emulator: AthenaEmulator) -> Any:
    return client("athena")


@pytest.fixture
def s3(aws: None) -> Any:
    return client("s3")


RunQuery = Callable[..., dict[str, Any]]


@pytest.fixture
def run_query(athena: Any, emulator: AthenaEmulator, clock: VirtualClock) -> RunQuery:
    """Start a query, tick the clock until it ends, return GetQueryExecution's QueryExecution."""

    def run(sql: str, **kwargs: Any) -> dict[str, Any]:
        kwargs.setdefault("QueryExecutionContext", {"Database": "due_eventdb"})
        kwargs.setdefault("ResultConfiguration", {"OutputLocation": OUTPUT})
        query_id = athena.start_query_execution(QueryString=sql, **kwargs)["QueryExecutionId"]
        for _ in range(5):
            state = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
            if State(state["Status"]["State"]).terminal:
                return dict(state)
            clock.advance(1)
            emulator.tick()
        raise AssertionError(f"query {query_id} did not finish: {state['Status']}")

    return run


def all_rows(athena: Any, query_id: str, page_size: int = 1000) -> list[list[str | None]]:
    rows: list[list[str | None]] = []
    kwargs: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": page_size}
    while True:
        page = athena.get_query_results(**kwargs)
        rows.extend([d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"])
        if "NextToken" not in page:
            return rows
        kwargs["NextToken"] = page["NextToken"]
