"""An in-memory CatalogStore with the same conditional semantics as the DynamoDB adapter."""

from __future__ import annotations

from dataclasses import replace

from contracts import ResourceType
from services.catalog_writer.logic import StoredEntry


class FakeCatalogStore:
    def __init__(self) -> None:
        self.rows: dict[tuple[ResourceType, str], StoredEntry] = {}
        self.lost_races = 0  # writes to refuse as if another writer had won

    def get(self, resource_type: ResourceType, resource_id: str) -> StoredEntry | None:
        return self.rows.get((resource_type, resource_id))

    def put(self, stored: StoredEntry, expected: StoredEntry | None) -> bool:
        if self.lost_races:
            self.lost_races -= 1
            return False
        key = (stored.entry.type, stored.entry.id)
        current = self.rows.get(key)
        if (current is None) != (expected is None):
            return False
        if current is not None and expected is not None and current.order_key != expected.order_key:
            return False
        self.rows[key] = stored
        return True

    def mark_published(self, stored: StoredEntry) -> None:
        key = (stored.entry.type, stored.entry.id)
        current = self.rows.get(key)
        if current is not None and current.source_event_id == stored.source_event_id:
            self.rows[key] = replace(current, pending_event=None)
