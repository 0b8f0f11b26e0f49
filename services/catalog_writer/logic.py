"""catalog-writer decisions: which resolution wins, and what changed.

Writes are ordered by CloudTrail event time (ties broken by the CloudTrail event id), so a
late, older event never overwrites newer state and a duplicate changes nothing. The change
event is stored with the entry until it is published, so a crash between the write and the
publish is repaired by the redelivered message instead of losing the announcement.

**The mirror.** The catalog is also kept as objects in S3 under Glue tables (the
`CatalogMirror` port), so Athena reads names without a connector. The mirror is written
from the row the table holds, after the conditional write and before the announcement, and
every message that finds its resolution already applied (a duplicate, a stale event, a
redelivery after a crash) writes it again from the stored row. The mirror refuses a row
older than the one it holds, so it ends equal to the table whatever the delivery order.

Entries of both platforms share the two tables; the store keeps their keys apart (see
`services.catalog_writer.adapters`). A resolution whose scope no record confirmed (a
Connect campaign's delete, or a campaign DescribeCampaign does not know: a v1 campaign's
calls look the same) is applied only to an entry the catalog holds, so another instance's
or a v1 campaign never enters the catalog. A resource's type never changes, so a deletion
keeps the type the catalog knew (a Connect delete record cannot tell a journey).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from contracts import (
    CatalogChange,
    CatalogEntry,
    CatalogEntryChange,
    CatalogEntryChanged,
    PinpointResourceResolved,
    Platform,
    ResolvedResource,
    ResourceType,
    derived_event_id,
)

# Fields that, when they differ, make a change worth announcing (event_time only orders).
_COMPARED_FIELDS = tuple(name for name in CatalogEntry.model_fields if name != "event_time")
# Fields a deletion keeps from the stored entry when the resolver no longer knew them.
_KEPT_ON_DELETE = (
    "name",
    "domain_name",
    "segment_id",
    "event_name",
    "state",
    "segment_type",
    "version",
    "creation_date",
    "last_modified_date",
)
MAX_WRITE_ATTEMPTS = 3


@dataclass(frozen=True)
class StoredEntry:
    """A catalog row: the entry, what ordered it, and its change not yet announced."""

    entry: CatalogEntry
    source_event_id: str
    pending_event: CatalogEntryChanged | None = None

    @property
    def order_key(self) -> tuple[datetime, str]:
        return (self.entry.event_time, self.source_event_id)


class Outcome(StrEnum):
    CHANGED = "changed"  # written and announced
    UNCHANGED = "unchanged"  # newer, but nothing a subscriber cares about differs
    STALE = "stale"  # older than what the catalog holds
    DUPLICATE = "duplicate"  # this very resolution was applied before
    REPUBLISHED = "republished"  # a duplicate whose announcement had not gone out yet
    UNCONFIRMED = "unconfirmed"  # not known to be ours, and not in the catalog: ignored


class CatalogStore(Protocol):
    def get(
        self, resource_type: ResourceType, resource_id: str, platform: Platform = Platform.PINPOINT
    ) -> StoredEntry | None: ...

    def put(self, stored: StoredEntry, expected: StoredEntry | None) -> bool:
        """Write `stored` if the row is still `expected` (absent when None); False if not."""
        ...

    def mark_published(self, stored: StoredEntry) -> None:
        """Forget the pending change of `stored`, if the row still holds that resolution."""
        ...


class CatalogMirror(Protocol):
    def write(self, stored: StoredEntry) -> None:
        """Make the mirror hold `stored`'s entry, unless it holds a newer resolution."""
        ...


Publish = Callable[[Sequence[CatalogEntryChanged]], object]


class ConcurrentUpdateError(RuntimeError):
    """The row kept changing under us; the message is retried later."""


def entry_from(resolved: ResolvedResource, before: CatalogEntry | None) -> CatalogEntry:
    resource_type = resolved.resource_type
    if resolved.deleted and before is not None:
        resource_type = before.type
    entry = CatalogEntry(
        id=resolved.resource_id,
        type=resource_type,
        platform=resolved.platform,
        application_id=resolved.application_id,
        domain_name=resolved.domain_name,
        connect_instance_id=resolved.connect_instance_id,
        name=resolved.name,
        deleted=resolved.deleted,
        segment_id=resolved.segment_id,
        event_name=resolved.event_name,
        state=resolved.state,
        segment_type=resolved.segment_type,
        version=resolved.version,
        creation_date=resolved.creation_date,
        last_modified_date=resolved.last_modified_date,
        event_time=resolved.event_time,
    )
    if resolved.deleted and before is not None:
        # A deleted resource can no longer be read: keep what the catalog already knew.
        kept = {
            name: getattr(before, name)
            for name in _KEPT_ON_DELETE
            if getattr(entry, name) is None and getattr(before, name) is not None
        }
        entry = entry.model_copy(update=kept)
    return entry


def classify(before: CatalogEntry | None, after: CatalogEntry) -> CatalogChange | None:
    """The kind of change from `before` to `after`, or None when nothing compared differs."""
    if before is None:
        return CatalogChange.DELETED if after.deleted else CatalogChange.CREATED
    if after.deleted and not before.deleted:
        return CatalogChange.DELETED
    if all(getattr(before, f) == getattr(after, f) for f in _COMPARED_FIELDS):
        return None
    if before.name != after.name and not after.deleted:
        return CatalogChange.RENAMED
    return CatalogChange.UPDATED


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    write: StoredEntry | None = None


def decide(stored: StoredEntry | None, event: PinpointResourceResolved) -> Decision:
    resolved = event.data
    incoming_key = (resolved.event_time, resolved.source_event_id)
    if stored is not None:
        if incoming_key == stored.order_key:
            if stored.pending_event is not None:
                return Decision(Outcome.REPUBLISHED)
            return Decision(Outcome.DUPLICATE)
        if incoming_key < stored.order_key:
            return Decision(Outcome.STALE)
    elif not resolved.scope_confirmed:
        return Decision(Outcome.UNCONFIRMED)
    before = stored.entry if stored is not None else None
    after = entry_from(resolved, before)
    change = classify(before, after)
    pending = None
    if change is not None:
        pending = CatalogEntryChanged.new(
            CatalogEntryChange(change=change, before=before, after=after),
            correlation_id=event.metadata.correlation_id,
            causation_id=event.metadata.event_id,
            # The same resolution always announces under the same id: subscribers dedupe.
            event_id=derived_event_id(event.metadata.event_id, CatalogEntryChanged.DETAIL_TYPE),
            occurred_at=resolved.event_time,
        )
    write = StoredEntry(after, resolved.source_event_id, pending)
    return Decision(Outcome.CHANGED if pending else Outcome.UNCHANGED, write)


def apply_resolution(
    event: PinpointResourceResolved,
    store: CatalogStore,
    publish: Publish,
    *,
    mirror: CatalogMirror,
) -> Outcome:
    """Write the resolution if it is the newest, mirror the row, then announce the change."""
    resolved = event.data
    for _ in range(MAX_WRITE_ATTEMPTS):
        stored = store.get(resolved.resource_type, resolved.resource_id, resolved.platform)
        decision = decide(stored, event)
        if decision.write is None:
            if stored is not None:
                # Applied before (or older than the row): the mirror may have missed the
                # row if the function died between the two writes; writing it again is safe.
                mirror.write(stored)
            if decision.outcome is Outcome.REPUBLISHED and stored is not None:
                _announce(stored, store, publish)
            return decision.outcome
        if not store.put(decision.write, expected=stored):
            continue  # another writer got there first: look again
        mirror.write(decision.write)
        if decision.write.pending_event is not None:
            _announce(decision.write, store, publish)
        return decision.outcome
    raise ConcurrentUpdateError(
        f"{resolved.resource_type.value} {resolved.resource_id} changed under "
        f"{MAX_WRITE_ATTEMPTS} write attempts"
    )


def _announce(stored: StoredEntry, store: CatalogStore, publish: Publish) -> None:
    assert stored.pending_event is not None  # noqa: S101 - callers check; keeps mypy precise
    publish([stored.pending_event])
    store.mark_published(replace(stored, pending_event=None))
