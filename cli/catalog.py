"""Reading the two catalog tables."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from cli.stack import StackOutputs

CATALOG_COLUMNS = (
    "type",
    "id",
    "name",
    "deleted",
    "state",
    "segment_id",
    "event_name",
    "event_time",
)
_deserializer = TypeDeserializer()


def _rows(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    rows = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page.get("Items", []):
            rows.append({key: _deserializer.deserialize(value) for key, value in item.items()})
    return rows


def catalog_entries(
    dynamodb: Any,
    outputs: StackOutputs,
    *,
    resource_type: str | None = None,
    include_deleted: bool = False,
) -> list[dict[str, Any]]:
    """Both tables' entries, sorted by type and name; deleted ones only when asked."""
    entries = _rows(dynamodb, outputs["CampaignJourneyTableName"])
    for segment in _rows(dynamodb, outputs["SegmentTableName"]):
        entries.append({"type": "segment", **segment})
    selected = [
        entry
        for entry in entries
        if (resource_type is None or entry.get("type") == resource_type)
        and (include_deleted or not entry.get("deleted"))
    ]
    return sorted(selected, key=lambda entry: (str(entry.get("type")), str(entry.get("name"))))
