"""The catalog mirror equals the catalog tables after any delivery order, duplicate, or
crash between the two writes (the DynamoDB write done, the mirror's not).

The real adapters run on moto: the DynamoDB store and the S3 mirror. A history of one
resource's resolutions (create, renames, delete) is delivered in a shuffled order, every
message at least once, and some invocations die right after the table write (the mirror
write raises, as a function killed between the two would leave it). Failed messages come
back, as SQS redelivers them. At the end, every row of both tables has its mirror object,
holding exactly the row's entry, and no object is without its row.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts import PinpointResourceResolved, Platform, ResourceType
from services.catalog_writer.adapters import DynamoCatalogStore, from_item
from services.catalog_writer.logic import StoredEntry, apply_resolution
from services.catalog_writer.mirror import S3CatalogMirror, mirror_key, mirror_line
from tests.fixtures.tables import create_template_table
from tests.unit.catalog_writer.test_logic import CAMPAIGN, SEGMENT, resolved

BUCKET = "catalog-mirror"
CONNECT_CAMPAIGN = "0f4c7c77-0000-4000-8000-000000000001"
INSTANCE = "11111111-2222-3333-4444-555555555555"


class CrashingMirror:
    """The S3 mirror, whose next `crashes` writes die before they reach S3."""

    def __init__(self, mirror: S3CatalogMirror) -> None:
        self._mirror = mirror
        self.crashes = 0

    def write(self, stored: StoredEntry) -> None:
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("the function died between the table write and the mirror's")
        self._mirror.write(stored)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_template_table(dynamodb, "CampaignJourneyTable", "campaigns-journeys")
        create_template_table(dynamodb, "SegmentTable", "segments")
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield dynamodb, s3


def history() -> list[PinpointResourceResolved]:
    """Three resources' lives: a Pinpoint campaign, a segment, a Connect campaign."""
    campaign = [
        resolved(0),
        resolved(1, name="Winback - Nov"),
        resolved(2, name="Winback - Nov", state="PAUSED"),
        resolved(3, deleted=True, name=None, state=None),
    ]
    segment = [
        resolved(
            0,
            source="sg-0",
            resource_type=ResourceType.SEGMENT,
            resource_id=SEGMENT,
            segment_id=None,
            state=None,
        ),
        resolved(
            4,
            source="sg-4",
            resource_type=ResourceType.SEGMENT,
            resource_id=SEGMENT,
            segment_id=None,
            state=None,
            name="Lapsed buyers",
        ),
    ]
    connect = [
        resolved(
            0,
            source="cc-0",
            platform=Platform.CONNECT,
            application_id=None,
            connect_instance_id=INSTANCE,
            resource_id=CONNECT_CAMPAIGN,
            segment_id=None,
        ),
        resolved(
            6,
            source="cc-6",
            platform=Platform.CONNECT,
            application_id=None,
            connect_instance_id=INSTANCE,
            resource_id=CONNECT_CAMPAIGN,
            segment_id=None,
            name="Renewals",
        ),
    ]
    return campaign + segment + connect


def deliver(seed: int, store: DynamoCatalogStore, mirror: CrashingMirror) -> None:
    """Every event once or twice, shuffled; a crashed delivery is retried later."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret
    events = history()
    queue = [event for event in events for _ in range(rng.choice((1, 2)))]
    rng.shuffle(queue)
    while queue:
        event = queue.pop(0)
        mirror.crashes = 1 if rng.random() < 0.3 else 0
        try:
            apply_resolution(event, store, lambda events: None, mirror=mirror)
        except RuntimeError:
            queue.insert(rng.randrange(len(queue) + 1), event)  # SQS redelivers it later


def rows(dynamodb: Any) -> list[StoredEntry]:
    return [
        from_item(dict(item))
        for table in ("campaigns-journeys", "segments")
        for item in dynamodb.scan(TableName=table)["Items"]
    ]


def objects(s3: Any) -> dict[str, str]:
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {
        item["Key"]: s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read().decode()
        for item in listed
    }


@pytest.mark.parametrize("seed", range(12))
def test_the_mirror_equals_the_tables_after_any_order_duplicates_and_crashes(
    aws: tuple[Any, Any], seed: int
) -> None:
    dynamodb, s3 = aws
    store = DynamoCatalogStore(
        lambda: dynamodb, campaign_journey_table="campaigns-journeys", segment_table="segments"
    )
    mirror = CrashingMirror(S3CatalogMirror(lambda: s3, bucket=BUCKET, prefix="catalog/"))

    deliver(seed, store, mirror)

    table_rows = rows(dynamodb)
    assert len(table_rows) == 3
    expected = {mirror_key("catalog/", row.entry): mirror_line(row) for row in table_rows}
    assert objects(s3) == expected
    held = {json.loads(line)["id"]: json.loads(line) for line in expected.values()}
    assert held[CONNECT_CAMPAIGN]["name"] == "Renewals"  # the newest of each, whatever came last
    assert held[SEGMENT]["name"] == "Lapsed buyers"
    assert [entry["id"] for entry in held.values() if entry["deleted"]] == [CAMPAIGN]


def test_a_crash_between_the_writes_is_repaired_by_the_redelivery(aws: tuple[Any, Any]) -> None:
    dynamodb, s3 = aws
    store = DynamoCatalogStore(
        lambda: dynamodb, campaign_journey_table="campaigns-journeys", segment_table="segments"
    )
    mirror = CrashingMirror(S3CatalogMirror(lambda: s3, bucket=BUCKET, prefix="catalog/"))
    event = resolved(0)
    mirror.crashes = 1
    with pytest.raises(RuntimeError):
        apply_resolution(event, store, lambda events: None, mirror=mirror)
    assert len(rows(dynamodb)) == 1
    assert objects(s3) == {}

    apply_resolution(event, store, lambda events: None, mirror=mirror)  # SQS redelivers

    (row,) = rows(dynamodb)
    assert objects(s3) == {mirror_key("catalog/", row.entry): mirror_line(row)}
