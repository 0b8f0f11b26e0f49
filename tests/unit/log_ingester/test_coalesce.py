"""Coalescing as changes arrive gives what sorting each resource's changes gives."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from contracts import ChangeAction, ChangeOrigin, KnownAttributes, ResourceChange, ResourceType
from services.log_ingester.coalescing import _NOTHING_KNOWN, _recency, coalesce
from tests.fixtures.cloudtrail import APP_ID, START, pinpoint_id


def sorted_coalesce(changes: list[ResourceChange]) -> list[ResourceChange]:
    """The definition: group, sort each group stably, the last wins (module docstring)."""
    groups: dict[tuple[ResourceType, str | None, str], list[ResourceChange]] = {}
    for change in changes:
        key = (change.resource_type, change.application_id, change.resource_id)
        groups.setdefault(key, []).append(change)
    merged = []
    for group in groups.values():
        ordered = sorted(group, key=_recency)
        latest = ordered[-1]
        known = latest.known
        if known == _NOTHING_KNOWN:
            shown = (c.known for c in reversed(ordered) if c.known != _NOTHING_KNOWN)
            known = next(shown, known)
        merged.append(latest.model_copy(update={"records_coalesced": len(ordered), "known": known}))
    merged.sort(key=_recency)
    return merged


RESOURCES = [pinpoint_id(f"coalesce-{n}") for n in range(2)]

changes = st.builds(
    lambda resource, second, action, version, state, event: ResourceChange(
        resource_type=ResourceType.CAMPAIGN,
        application_id=APP_ID,
        resource_id=resource,
        action=action,
        event_time=START + timedelta(seconds=second),
        source_event_id=f"event-{event}",
        operation="UpdateCampaign",
        origin=ChangeOrigin.CLOUDTRAIL_FILE,
        known=KnownAttributes(version=version, state=state),
    ),
    st.sampled_from(RESOURCES),
    st.integers(0, 1),
    st.sampled_from([ChangeAction.UPDATED, ChangeAction.DELETED]),
    st.none() | st.just(2),
    st.none() | st.sampled_from(["DRAFT", "ACTIVE"]),  # not part of recency: shows the winner
    st.integers(0, 1),  # few values all round, so equally recent changes are common
)


@given(st.lists(changes, max_size=25))
def test_coalescing_as_changes_arrive_equals_sorting_them(items: list[ResourceChange]) -> None:
    assert coalesce(items) == sorted_coalesce(items)


def test_of_equally_recent_changes_the_last_appended_wins() -> None:
    first, second = (
        ResourceChange(
            resource_type=ResourceType.SEGMENT,
            application_id=APP_ID,
            resource_id=RESOURCES[0],
            action=ChangeAction.UPDATED,
            event_time=START,
            source_event_id="same",
            operation=operation,
            origin=ChangeOrigin.CLOUDTRAIL_FILE,
        )
        for operation in ("UpdateSegment", "CreateImportJob")
    )

    [merged] = coalesce([first, second])

    assert (merged.operation, merged.records_coalesced) == ("CreateImportJob", 2)
