"""The S3 catalog mirror against moto: one JSON line per entry, newer rows win."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts import Platform, ResourceType, SegmentType
from services.catalog_writer.logic import StoredEntry, decide
from services.catalog_writer.mirror import MIRROR_COLUMNS, S3CatalogMirror, mirror_key
from tests.unit.catalog_writer.test_logic import APP, CAMPAIGN, resolved

BUCKET = "catalog-mirror"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def mirror(s3: Any) -> S3CatalogMirror:
    return S3CatalogMirror(lambda: s3, bucket=BUCKET, prefix="catalog/")


def row(minutes: int = 0, **fields: Any) -> StoredEntry:
    decision = decide(None, resolved(minutes, **fields))
    assert decision.write is not None
    return decision.write


def line(s3: Any, key: str) -> dict[str, Any]:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
    assert body.endswith("\n")
    assert body.count("\n") == 1
    parsed: dict[str, Any] = json.loads(body)
    return parsed


def test_an_entry_is_one_line_with_its_tables_columns_and_hive_timestamps(
    s3: Any, mirror: S3CatalogMirror
) -> None:
    mirror.write(row(0))

    held = line(s3, f"catalog/campaigns_journeys/pinpoint-{CAMPAIGN}.json")
    assert list(held) == [name for name, _ in MIRROR_COLUMNS["campaigns_journeys"]]
    assert held["id"] == CAMPAIGN
    assert held["application_id"] == APP
    assert held["platform"] == "pinpoint"
    assert held["name"] == "Winback"
    assert held["deleted"] is False
    assert held["domain_name"] is None
    assert held["event_time"] == "2026-11-22 09:00:00.000"
    assert held["source_event_id"] == "ct-0000"


def test_segments_go_to_their_own_table_with_their_type(s3: Any, mirror: S3CatalogMirror) -> None:
    segment = row(
        0,
        resource_type=ResourceType.SEGMENT,
        segment_id=None,
        state=None,
        segment_type=SegmentType.DIMENSIONAL,
    )

    mirror.write(segment)

    held = line(s3, mirror_key("catalog/", segment.entry))
    assert mirror_key("catalog/", segment.entry).startswith("catalog/segments/")
    assert list(held) == [name for name, _ in MIRROR_COLUMNS["segments"]]
    assert held["segment_type"] == "DIMENSIONAL"


def test_an_older_row_never_replaces_a_newer_one(s3: Any, mirror: S3CatalogMirror) -> None:
    mirror.write(row(5, name="Newer"))
    mirror.write(row(2, name="Older"))
    mirror.write(row(5, name="Newer"))  # the same row again: nothing to write

    held = line(s3, f"catalog/campaigns_journeys/pinpoint-{CAMPAIGN}.json")
    assert held["name"] == "Newer"
    assert len(s3.list_objects_v2(Bucket=BUCKET)["Contents"]) == 1


def test_a_deleted_entry_stays_with_deleted_true(s3: Any, mirror: S3CatalogMirror) -> None:
    mirror.write(row(0))
    mirror.write(row(1, deleted=True))

    held = line(s3, f"catalog/campaigns_journeys/pinpoint-{CAMPAIGN}.json")
    assert held["deleted"] is True
    assert held["name"] == "Winback"


def test_a_connect_entry_is_keyed_by_its_platform(s3: Any, mirror: S3CatalogMirror) -> None:
    connect = row(
        0,
        platform=Platform.CONNECT,
        application_id=None,
        connect_instance_id="11111111-2222-3333-4444-555555555555",
        resource_id="0f4c7c77-0000-4000-8000-000000000001",
        segment_id=None,
    )

    mirror.write(connect)

    held = line(s3, "catalog/campaigns_journeys/connect-0f4c7c77-0000-4000-8000-000000000001.json")
    assert held["platform"] == "connect"
    assert held["id"] == "0f4c7c77-0000-4000-8000-000000000001"
    assert held["connect_instance_id"] == "11111111-2222-3333-4444-555555555555"
    assert held["application_id"] is None


def test_a_write_that_loses_a_race_reads_again_and_keeps_the_newer_row(
    s3: Any, mirror: S3CatalogMirror
) -> None:
    """Between this writer's HEAD and its PUT another writer stores a newer row: the
    conditional PUT fails (412), the next HEAD sees the newer row, and it stays."""
    mirror.write(row(0, name="First"))
    key = f"catalog/campaigns_journeys/pinpoint-{CAMPAIGN}.json"
    other = S3CatalogMirror(lambda: s3, bucket=BUCKET, prefix="catalog/")
    real_head = s3.head_object
    raced: list[bool] = []

    def head_then_race(**kwargs: Any) -> Any:
        answer = real_head(**kwargs)
        if not raced:
            raced.append(True)
            other.write(row(9, name="Newest"))
        return answer

    s3.head_object = head_then_race
    try:
        mirror.write(row(3, name="Middle"))
    finally:
        s3.head_object = real_head

    assert raced
    assert line(s3, key)["name"] == "Newest"
