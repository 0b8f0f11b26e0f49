"""An in-memory CatalogStore with the same conditional semantics as the DynamoDB adapter."""

from __future__ import annotations

from dataclasses import replace

from contracts import CatalogEntry, Platform, ResourceType
from services.catalog_writer.adapters import catalog_key
from services.catalog_writer.logic import StoredEntry

_TABLES = {
    ResourceType.CAMPAIGN: "campaigns-journeys",
    ResourceType.JOURNEY: "campaigns-journeys",
    ResourceType.SEGMENT: "segments",
}


class FakeCatalogStore:
    """Rows by (table, key): campaigns and journeys share a table, as in DynamoDB, and a
    Connect entry's key is its platform's (the adapter's `catalog_key`)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], StoredEntry] = {}
        self.mirror = FakeCatalogMirror()  # the mirror beside these rows, to compare them
        self.lost_races = 0  # writes to refuse as if another writer had won

    def get(
        self, resource_type: ResourceType, resource_id: str, platform: Platform = Platform.PINPOINT
    ) -> StoredEntry | None:
        return self.rows.get((_TABLES[resource_type], catalog_key(platform, resource_id)))

    def row(
        self, resource_type: ResourceType, resource_id: str, platform: Platform = Platform.PINPOINT
    ) -> StoredEntry:
        stored = self.get(resource_type, resource_id, platform)
        assert stored is not None
        return stored

    def put(self, stored: StoredEntry, expected: StoredEntry | None) -> bool:
        if self.lost_races:
            self.lost_races -= 1
            return False
        key = (_TABLES[stored.entry.type], catalog_key(stored.entry.platform, stored.entry.id))
        current = self.rows.get(key)
        if (current is None) != (expected is None):
            return False
        if current is not None and expected is not None and current.order_key != expected.order_key:
            return False
        self.rows[key] = stored
        return True

    def entries(self) -> dict[tuple[str, str], CatalogEntry]:
        return {key: held.entry for key, held in self.rows.items()}

    def mark_published(self, stored: StoredEntry) -> None:
        key = (_TABLES[stored.entry.type], catalog_key(stored.entry.platform, stored.entry.id))
        current = self.rows.get(key)
        if current is not None and current.source_event_id == stored.source_event_id:
            self.rows[key] = replace(current, pending_event=None)


class FakeCatalogMirror:
    """The mirror's objects by (table, key), keeping the newer row like the S3 adapter's
    conditional writes; `failures` makes the next writes raise (a crash between writes)."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], StoredEntry] = {}
        self.writes = 0
        self.failures = 0

    def write(self, stored: StoredEntry) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("S3 is down")
        self.writes += 1
        key = (_TABLES[stored.entry.type], catalog_key(stored.entry.platform, stored.entry.id))
        held = self.objects.get(key)
        if held is None or held.order_key < stored.order_key:
            self.objects[key] = replace(stored, pending_event=None)

    def entries(self) -> dict[tuple[str, str], CatalogEntry]:
        return {key: held.entry for key, held in self.objects.items()}
