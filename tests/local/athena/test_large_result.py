"""A 200k-row result is streamed: Python memory stays flat, the file is complete."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from infra.local.athena import AthenaEmulator, State
from infra.local.athena.engine import ResultColumn
from infra.local.athena.results import S3ResultWriter
from infra.local.clock import VirtualClock
from tests.local.athena.conftest import BUCKET, OUTPUT, write_parquet

ROWS = 200_000


class CountingS3:
    """Reads uploads in chunks like the managed transfer does, keeping only a count."""

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}

    def upload_fileobj(self, fileobj: Any, bucket: str, key: str, **_: Any) -> None:
        size = 0
        while chunk := fileobj.read(1024 * 1024):
            size += len(chunk)
        self.sizes[key] = size

    def put_object(self, **kwargs: Any) -> None:
        self.sizes[kwargs["Key"]] = len(kwargs["Body"])


@pytest.mark.slow  # ~4 s: tracemalloc slows every allocation
def test_writer_memory_does_not_grow_with_rows() -> None:
    def batches() -> Iterator[list[tuple[Any, ...]]]:
        for start in range(0, ROWS, 10_000):
            yield [(f"ep-{i:06d}", i, 'a "quoted", note') for i in range(start, start + 10_000)]

    columns = [
        ResultColumn("Id", "VARCHAR"),
        ResultColumn("n", "BIGINT"),
        ResultColumn("note", "VARCHAR"),
    ]
    s3 = CountingS3()
    tracemalloc.start()
    S3ResultWriter(s3).write("s3://bucket/results/q.csv", columns, batches())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert s3.sizes["results/q.csv"] > 8_000_000  # the whole CSV went through
    # Holding the rows (or the file) in memory would cost well over 10 MiB.
    assert peak < 6 * 1024 * 1024, f"peak Python memory {peak / 2**20:.1f} MiB"


@pytest.mark.slow
def test_large_result_end_to_end(
    athena: Any, s3: Any, emulator: AthenaEmulator, lake: Path, clock: VirtualClock
) -> None:
    write_parquet(
        lake / "big" / "part-0.parquet",
        {
            "id": pa.array([f"ep-{i:06d}" for i in range(ROWS)]),
            "n": pa.array(range(ROWS), pa.int64()),
            "note": pa.array(['a "quoted", note'] * ROWS),
        },
    )
    emulator.refresh()
    query_id = athena.start_query_execution(
        QueryString="SELECT id AS Id, n, note FROM big ORDER BY n DESC",
        QueryExecutionContext={"Database": "due_eventdb"},
        ResultConfiguration={"OutputLocation": OUTPUT},
    )["QueryExecutionId"]
    emulator.tick()  # → RUNNING
    clock.advance(1)
    emulator.tick()  # runs the query and streams the file

    execution = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    assert execution["Status"]["State"] == State.SUCCEEDED
    assert execution["Statistics"]["DataScannedInBytes"] > 0

    body = s3.get_object(Bucket=BUCKET, Key=f"queries/{query_id}.csv")["Body"]
    lines = body.read().decode("utf-8").splitlines()
    assert len(lines) == ROWS + 1
    assert lines[0] == '"Id","n","note"'
    assert lines[1] == f'"ep-{ROWS - 1:06d}","{ROWS - 1}","a ""quoted"", note"'
    assert lines[-1] == '"ep-000000","0","a ""quoted"", note"'

    first = athena.get_query_results(QueryExecutionId=query_id)
    assert len(first["ResultSet"]["Rows"]) == 1000
    second = athena.get_query_results(QueryExecutionId=query_id, NextToken=first["NextToken"])
    assert second["ResultSet"]["Rows"][0]["Data"][1] == {"VarCharValue": str(ROWS - 1000)}
