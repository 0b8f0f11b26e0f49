"""catalog-writer logic: ordering, idempotency, change kinds, no lost announcements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts import (
    CatalogChange,
    CatalogEntryChanged,
    ChangeOrigin,
    PinpointResourceResolved,
    ResolvedResource,
    ResourceType,
    SegmentType,
)
from services.catalog_writer.logic import ConcurrentUpdateError, Outcome, apply_resolution
from tests.unit.catalog_writer.fakes import FakeCatalogMirror, FakeCatalogStore

APP = "a" * 32
CAMPAIGN = "c" * 32
SEGMENT = "5" * 32
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def resolved(
    minutes: int = 0, source: str | None = None, **fields: Any
) -> PinpointResourceResolved:
    data: dict[str, Any] = {
        "resource_type": ResourceType.CAMPAIGN,
        "application_id": APP,
        "resource_id": CAMPAIGN,
        "event_time": T0 + timedelta(minutes=minutes),
        "source_event_id": source or f"ct-{minutes:04d}",
        "origin": ChangeOrigin.CLOUDTRAIL_FILE,
        "deleted": False,
        "name": "Winback",
        "segment_id": SEGMENT,
        "state": "SCHEDULED",
        "version": 1,
    } | fields
    return PinpointResourceResolved.new(ResolvedResource(**data), correlation_id="change-1")


class Announcements:
    def __init__(self, failures: int = 0) -> None:
        self.events: list[CatalogEntryChanged] = []
        self.failures = failures

    def __call__(self, events: Sequence[CatalogEntryChanged]) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("EventBridge is down")
        self.events += events

    @property
    def kinds(self) -> list[CatalogChange]:
        return [event.data.change for event in self.events]


@pytest.fixture
def store() -> FakeCatalogStore:
    return FakeCatalogStore()


@pytest.fixture
def announce() -> Announcements:
    return Announcements()


def test_a_new_resource_is_created_and_announced(
    store: FakeCatalogStore, announce: Announcements
) -> None:
    event = resolved()

    assert apply_resolution(event, store, announce, mirror=store.mirror) is Outcome.CHANGED

    (change,) = announce.events
    assert change.data.change is CatalogChange.CREATED
    assert change.data.before is None
    assert change.data.after.name == "Winback"
    assert change.metadata.causation_id == event.metadata.event_id
    assert change.metadata.correlation_id == "change-1"
    assert store.row(ResourceType.CAMPAIGN, CAMPAIGN).pending_event is None


def test_changes_are_classified(store: FakeCatalogStore, announce: Announcements) -> None:
    apply_resolution(resolved(0), store, announce, mirror=store.mirror)
    apply_resolution(resolved(1, name="Winback - Nov"), store, announce, mirror=store.mirror)
    apply_resolution(
        resolved(2, name="Winback - Nov", state="PAUSED"), store, announce, mirror=store.mirror
    )
    apply_resolution(
        resolved(3, name="Winback - Nov", state="PAUSED"), store, announce, mirror=store.mirror
    )
    apply_resolution(
        resolved(4, deleted=True, name=None, state=None), store, announce, mirror=store.mirror
    )

    assert announce.kinds == [
        CatalogChange.CREATED,
        CatalogChange.RENAMED,
        CatalogChange.UPDATED,
        CatalogChange.DELETED,
    ]
    renamed = announce.events[1].data
    assert (renamed.before and renamed.before.name, renamed.after.name) == (
        "Winback",
        "Winback - Nov",
    )


def test_a_deletion_keeps_what_the_catalog_knew(
    store: FakeCatalogStore, announce: Announcements
) -> None:
    apply_resolution(resolved(0, event_name="_email.click"), store, announce, mirror=store.mirror)
    apply_resolution(
        resolved(5, deleted=True, name=None, segment_id=None), store, announce, mirror=store.mirror
    )

    row = store.row(ResourceType.CAMPAIGN, CAMPAIGN).entry
    assert row.deleted is True
    assert row.name == "Winback"
    assert row.segment_id == SEGMENT
    assert row.event_name == "_email.click"


def test_a_resource_deleted_before_it_was_cataloged_is_recorded_deleted(
    store: FakeCatalogStore, announce: Announcements
) -> None:
    apply_resolution(
        resolved(0, deleted=True, name=None, state=None), store, announce, mirror=store.mirror
    )

    (change,) = announce.events
    assert change.data.change is CatalogChange.DELETED
    assert change.data.before is None
    assert store.row(ResourceType.CAMPAIGN, CAMPAIGN).entry.deleted is True


def test_an_older_event_never_overwrites_newer_state(
    store: FakeCatalogStore, announce: Announcements
) -> None:
    apply_resolution(resolved(10, name="New name"), store, announce, mirror=store.mirror)

    assert (
        apply_resolution(resolved(5, name="Old name"), store, announce, mirror=store.mirror)
        is Outcome.STALE
    )
    assert store.row(ResourceType.CAMPAIGN, CAMPAIGN).entry.name == "New name"
    assert announce.kinds == [CatalogChange.CREATED]


def test_ties_in_event_time_are_ordered_by_event_id(
    store: FakeCatalogStore, announce: Announcements
) -> None:
    apply_resolution(resolved(1, source="ct-b", name="B"), store, announce, mirror=store.mirror)

    assert (
        apply_resolution(resolved(1, source="ct-a", name="A"), store, announce, mirror=store.mirror)
        is Outcome.STALE
    )
    assert (
        apply_resolution(resolved(1, source="ct-c", name="C"), store, announce, mirror=store.mirror)
        is Outcome.CHANGED
    )


def test_a_duplicate_changes_nothing_and_announces_nothing(
    store: FakeCatalogStore, announce: Announcements
) -> None:
    event = resolved()
    apply_resolution(event, store, announce, mirror=store.mirror)
    row = store.row(ResourceType.CAMPAIGN, CAMPAIGN)

    assert apply_resolution(event, store, announce, mirror=store.mirror) is Outcome.DUPLICATE
    assert store.row(ResourceType.CAMPAIGN, CAMPAIGN) == row
    assert len(announce.events) == 1


def test_a_newer_event_with_nothing_new_moves_the_clock_silently(
    store: FakeCatalogStore, announce: Announcements
) -> None:
    apply_resolution(resolved(0), store, announce, mirror=store.mirror)

    assert apply_resolution(resolved(3), store, announce, mirror=store.mirror) is Outcome.UNCHANGED
    assert store.row(ResourceType.CAMPAIGN, CAMPAIGN).entry.event_time == T0 + timedelta(minutes=3)
    assert len(announce.events) == 1


def test_an_announcement_lost_to_a_crash_goes_out_on_redelivery(
    store: FakeCatalogStore,
) -> None:
    event = resolved()
    failing = Announcements(failures=1)

    with pytest.raises(RuntimeError, match="EventBridge is down"):
        apply_resolution(event, store, failing, mirror=store.mirror)
    assert store.row(ResourceType.CAMPAIGN, CAMPAIGN).pending_event is not None

    assert apply_resolution(event, store, failing, mirror=store.mirror) is Outcome.REPUBLISHED
    (change,) = failing.events
    assert change.data.change is CatalogChange.CREATED
    assert store.row(ResourceType.CAMPAIGN, CAMPAIGN).pending_event is None
    assert apply_resolution(event, store, failing, mirror=store.mirror) is Outcome.DUPLICATE


def test_announcement_ids_are_stable_for_one_resolution(store: FakeCatalogStore) -> None:
    event = resolved()
    first, second = Announcements(), Announcements()
    apply_resolution(event, store, first, mirror=store.mirror)
    apply_resolution(event, FakeCatalogStore(), second, mirror=FakeCatalogMirror())

    assert first.events[0].event_id == second.events[0].event_id


def test_lost_races_are_retried_then_reported(
    store: FakeCatalogStore, announce: Announcements
) -> None:
    store.lost_races = 2
    assert apply_resolution(resolved(), store, announce, mirror=store.mirror) is Outcome.CHANGED

    store.lost_races = 3
    with pytest.raises(ConcurrentUpdateError, match="changed under 3 write attempts"):
        apply_resolution(resolved(9, name="Other"), store, announce, mirror=store.mirror)


def test_segments_are_cataloged_with_their_type(
    store: FakeCatalogStore, announce: Announcements
) -> None:
    event = resolved(
        resource_type=ResourceType.SEGMENT,
        resource_id=SEGMENT,
        name="Clicked",
        segment_id=None,
        state=None,
        segment_type=SegmentType.IMPORT,
    )
    apply_resolution(event, store, announce, mirror=store.mirror)

    assert store.row(ResourceType.SEGMENT, SEGMENT).entry.segment_type is SegmentType.IMPORT


def test_the_mirror_holds_a_change_before_it_is_announced(store: FakeCatalogStore) -> None:
    """A subscriber told of a change and querying Athena at once sees it."""
    seen_in_mirror: list[object] = []

    def announce(events: Sequence[CatalogEntryChanged]) -> None:
        seen_in_mirror.extend(held.name for held in store.mirror.entries().values())

    apply_resolution(resolved(0), store, announce, mirror=store.mirror)
    apply_resolution(resolved(1, name="Winback - Nov"), store, announce, mirror=store.mirror)

    assert seen_in_mirror == ["Winback", "Winback - Nov"]
    assert store.mirror.entries() == store.entries()


def test_a_mirror_write_that_fails_fails_the_message_and_the_redelivery_repairs_it(
    store: FakeCatalogStore, announce: Announcements
) -> None:
    store.mirror.failures = 1
    with pytest.raises(RuntimeError):
        apply_resolution(resolved(0), store, announce, mirror=store.mirror)
    assert announce.events == []  # not announced before the mirror holds it

    assert (
        apply_resolution(resolved(0), store, announce, mirror=store.mirror) is Outcome.REPUBLISHED
    )
    assert store.mirror.entries() == store.entries()
    assert announce.kinds == [CatalogChange.CREATED]
