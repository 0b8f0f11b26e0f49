"""The DynamoDB catalog store against moto: item shape, conditions, round trips."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts import CatalogEntryChanged, ResourceType, SegmentType
from services.catalog_writer.adapters import DynamoCatalogStore
from services.catalog_writer.logic import Outcome, apply_resolution
from services.catalog_writer.mirror import S3CatalogMirror
from tests.fixtures.tables import create_template_table
from tests.unit.catalog_writer.test_logic import APP, CAMPAIGN, SEGMENT, resolved


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_template_table(client, "CampaignJourneyTable", "campaigns-journeys")
        create_template_table(client, "SegmentTable", "segments")
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="catalog-mirror")
        yield client


@pytest.fixture
def mirror(dynamodb: Any) -> S3CatalogMirror:
    s3 = boto3.client("s3", region_name="us-east-1")
    return S3CatalogMirror(lambda: s3, bucket="catalog-mirror", prefix="catalog/")


@pytest.fixture
def store(dynamodb: Any) -> DynamoCatalogStore:
    return DynamoCatalogStore(
        lambda: dynamodb, campaign_journey_table="campaigns-journeys", segment_table="segments"
    )


def test_campaign_items_use_the_original_field_names_with_real_booleans_and_nulls(
    dynamodb: Any, store: DynamoCatalogStore, mirror: S3CatalogMirror
) -> None:
    published: list[CatalogEntryChanged] = []
    apply_resolution(resolved(segment_id=None), store, published.extend, mirror=mirror)

    item = dynamodb.get_item(TableName="campaigns-journeys", Key={"id": {"S": CAMPAIGN}})["Item"]
    assert item["id"] == {"S": CAMPAIGN}
    assert item["type"] == {"S": "campaign"}
    assert item["deleted"] == {"BOOL": False}
    assert item["name"] == {"S": "Winback"}
    assert item["segment_id"] == {"NULL": True}
    assert item["event_name"] == {"NULL": True}
    assert item["application_id"] == {"S": APP}
    assert item["version"] == {"N": "1"}
    assert item["event_time"] == {"S": "2026-11-22T09:00:00Z"}
    assert "pending_event" not in item
    assert "segment_type" not in item
    assert len(published) == 1


def test_segment_items_live_in_the_segment_table(
    dynamodb: Any, store: DynamoCatalogStore, mirror: S3CatalogMirror
) -> None:
    event = resolved(
        resource_type=ResourceType.SEGMENT,
        resource_id=SEGMENT,
        name="Clicked",
        segment_id=None,
        state=None,
        segment_type=SegmentType.DIMENSIONAL,
    )
    apply_resolution(event, store, lambda events: None, mirror=mirror)

    item = dynamodb.get_item(TableName="segments", Key={"id": {"S": SEGMENT}})["Item"]
    assert {name: next(iter(v.values())) for name, v in item.items()} == {
        "id": SEGMENT,
        "platform": "pinpoint",
        "deleted": False,
        "name": "Clicked",
        "application_id": APP,
        "segment_type": "DIMENSIONAL",
        "version": "1",
        "creation_date": True,
        "last_modified_date": True,
        "event_time": "2026-11-22T09:00:00Z",
        "source_event_id": "ct-0000",
    }


def test_round_trip_ordering_and_pending_changes(
    store: DynamoCatalogStore, mirror: S3CatalogMirror
) -> None:
    def fail(events: object) -> None:
        raise RuntimeError("down")

    with pytest.raises(RuntimeError):
        apply_resolution(resolved(0), store, fail, mirror=mirror)
    stored = store.get(ResourceType.CAMPAIGN, CAMPAIGN)
    assert stored is not None
    assert stored.pending_event is not None
    assert stored.entry.version == 1

    published: list[CatalogEntryChanged] = []
    assert (
        apply_resolution(resolved(0), store, published.extend, mirror=mirror) is Outcome.REPUBLISHED
    )
    assert (
        apply_resolution(resolved(5, name="Newer"), store, published.extend, mirror=mirror)
        is Outcome.CHANGED
    )
    assert (
        apply_resolution(resolved(2, name="Older"), store, published.extend, mirror=mirror)
        is Outcome.STALE
    )
    latest = store.get(ResourceType.CAMPAIGN, CAMPAIGN)
    assert latest is not None
    assert latest.entry.name == "Newer"
    assert latest.pending_event is None
    assert [e.data.change.value for e in published] == ["created", "renamed"]


def test_a_conditional_write_against_a_moved_row_is_refused(
    store: DynamoCatalogStore, mirror: S3CatalogMirror
) -> None:
    apply_resolution(resolved(0), store, lambda events: None, mirror=mirror)
    stale_view = store.get(ResourceType.CAMPAIGN, CAMPAIGN)
    apply_resolution(resolved(1, name="Moved"), store, lambda events: None, mirror=mirror)
    assert stale_view is not None

    assert store.put(stale_view, expected=stale_view) is False
    assert store.put(stale_view, expected=None) is False
