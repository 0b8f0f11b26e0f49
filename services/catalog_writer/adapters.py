"""DynamoDB behind the CatalogStore port: one table for campaigns and journeys, one for segments.

Items keep the original solution's field names (`id`, `deleted`, `name`, `event_name`,
`segment_id`, `type`) as real booleans and NULLs, plus the fields this project adds.

**Keys across platforms.** Both platforms' entries live in the same two tables, keyed by
`id`. A Pinpoint row's key is its id, as it always was (32 hex characters). A Connect
row's key is ``connect:<id>`` and its bare id is in `resource_id`: Connect's ids cannot be
told from Pinpoint's by their form alone (a segment definition may be named with 32 hex
characters, as a migration that keeps its Pinpoint segment ids would), and no Pinpoint id
holds a ``:``, so the two key spaces never meet. Every row says its `platform`; a row
without one predates Connect and is Pinpoint's. Scope fields that do not apply to a
row's platform (`application_id` of a Connect row, `domain_name`/`connect_instance_id` of
a Pinpoint row) are left out rather than stored as NULL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from contracts import CatalogEntry, CatalogEntryChanged, Platform, ResourceType
from services.catalog_writer.logic import StoredEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_SEGMENT_ONLY = {"segment_type"}
_CAMPAIGN_JOURNEY_ONLY = {"type", "segment_id", "event_name", "state"}
_SCOPE_FIELDS = ("application_id", "domain_name", "connect_instance_id")
CONNECT_KEY_PREFIX = "connect:"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def catalog_key(platform: Platform, resource_id: str) -> str:
    """The table key of a resource (module docstring)."""
    return resource_id if platform is Platform.PINPOINT else f"{CONNECT_KEY_PREFIX}{resource_id}"


def to_item(stored: StoredEntry) -> dict[str, Any]:
    entry = stored.entry.model_dump(mode="json")
    skipped = _CAMPAIGN_JOURNEY_ONLY if stored.entry.type is ResourceType.SEGMENT else _SEGMENT_ONLY
    item = {
        name: value
        for name, value in entry.items()
        if name not in skipped and not (name in _SCOPE_FIELDS and value is None)
    }
    if stored.entry.platform is not Platform.PINPOINT:
        item["resource_id"] = stored.entry.id
        item["id"] = catalog_key(stored.entry.platform, stored.entry.id)
    item["source_event_id"] = stored.source_event_id
    if stored.pending_event is not None:
        item["pending_event"] = stored.pending_event.model_dump_json()
    return {name: _serializer.serialize(value) for name, value in item.items()}


def from_item(item: dict[str, Any]) -> StoredEntry:
    plain = {name: _deserializer.deserialize(value) for name, value in item.items()}
    source_event_id = str(plain.pop("source_event_id"))
    pending = plain.pop("pending_event", None)
    if plain.get("version") is not None:
        plain["version"] = int(plain["version"])  # DynamoDB numbers come back as Decimal
    plain.setdefault("type", ResourceType.SEGMENT.value)
    resource_id = plain.pop("resource_id", None)
    if plain.get("platform", Platform.PINPOINT.value) != Platform.PINPOINT.value:
        plain["id"] = resource_id  # the key is "connect:<id>"
    return StoredEntry(
        entry=CatalogEntry.model_validate(plain),
        source_event_id=source_event_id,
        pending_event=CatalogEntryChanged.model_validate_json(pending) if pending else None,
    )


class DynamoCatalogStore:
    def __init__(
        self,
        client: Callable[[], DynamoDBClient],
        *,
        campaign_journey_table: str,
        segment_table: str,
    ) -> None:
        self._client = client
        self._tables = {
            ResourceType.CAMPAIGN: campaign_journey_table,
            ResourceType.JOURNEY: campaign_journey_table,
            ResourceType.SEGMENT: segment_table,
        }

    def get(
        self, resource_type: ResourceType, resource_id: str, platform: Platform = Platform.PINPOINT
    ) -> StoredEntry | None:
        response = self._client().get_item(
            TableName=self._tables[resource_type],
            Key={"id": {"S": catalog_key(platform, resource_id)}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return from_item(dict(item)) if item else None

    def put(self, stored: StoredEntry, expected: StoredEntry | None) -> bool:
        if expected is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(id)"}
        else:
            condition = {
                "ConditionExpression": "event_time = :time AND source_event_id = :source",
                "ExpressionAttributeValues": {
                    ":time": {"S": expected.entry.model_dump(mode="json")["event_time"]},
                    ":source": {"S": expected.source_event_id},
                },
            }
        try:
            self._client().put_item(
                TableName=self._tables[stored.entry.type], Item=to_item(stored), **condition
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_published(self, stored: StoredEntry) -> None:
        try:
            self._client().update_item(
                TableName=self._tables[stored.entry.type],
                Key={"id": {"S": catalog_key(stored.entry.platform, stored.entry.id)}},
                UpdateExpression="REMOVE pending_event",
                ConditionExpression="source_event_id = :source",
                ExpressionAttributeValues={":source": {"S": stored.source_event_id}},
            )
        except ClientError as error:
            # A newer resolution replaced the row meanwhile; its own pending change stands.
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
