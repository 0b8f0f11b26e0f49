"""Coalescing: the records of one resource in one file become one change.

The latest wins, whatever its action (a delete included), and ``records_coalesced`` says
how many records it stands for. Latest means by eventTime; CloudTrail keeps whole seconds
only, so writes in the same second are ordered by what must have come first (create, then
update, then delete), then by the version the response shows, and only then by eventID (a
random GUID: the order of two same-second updates without versions is unknowable). Its
attributes are the latest record's; only when that record shows nothing of the resource (a
delete whose responseElements were dropped) do they come from the newest older record that
showed some, so a deleted resource keeps what CloudTrail last showed of it. Attributes of
different records are never mixed. The scope is confirmed if any record of the resource
named it (a Connect campaign's create does; its later calls name only the id), and the type
is a confirmed record's: campaigns and journeys are coalesced together, as a Connect
campaign's update or delete cannot tell which it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from contracts import ChangeAction, KnownAttributes, Platform, ResourceChange, ResourceType

_NOTHING_KNOWN = KnownAttributes()


def coalesce(changes: Iterable[ResourceChange]) -> list[ResourceChange]:
    """One change per resource, the latest winning (module docstring); in time order."""
    coalescer = Coalescer()
    for change in changes:
        coalescer.append(change)
    return coalescer.merged()


@dataclass
class _Resource:
    latest: ResourceChange
    records: int = 1
    shown: ResourceChange | None = None  # the latest that shows something of the resource
    confirmed: bool = True  # some record named the resource's scope
    typed: ResourceType | None = None  # the type a record that named the scope gave


class Coalescer:
    """Coalesces as changes arrive, so memory holds one change per resource, not per record.

    Of changes equally recent, the one appended last wins, as a stable sort would have it.
    """

    def __init__(self) -> None:
        self._resources: dict[tuple[Platform, bool, str | None, str], _Resource] = {}
        self.appended = 0

    def append(self, change: ResourceChange) -> None:
        self.appended += 1
        segment = change.resource_type is ResourceType.SEGMENT
        key = (change.platform, segment, change.application_id, change.resource_id)
        typed = change.resource_type if change.scope_confirmed else None
        shows = change.known != _NOTHING_KNOWN
        resource = self._resources.get(key)
        if resource is None:
            self._resources[key] = _Resource(
                change,
                shown=change if shows else None,
                confirmed=change.scope_confirmed,
                typed=typed,
            )
            return
        resource.records += 1
        resource.confirmed = resource.confirmed or change.scope_confirmed
        resource.typed = typed or resource.typed
        if _recency(change) >= _recency(resource.latest):
            resource.latest = change
        if shows and (resource.shown is None or _recency(change) >= _recency(resource.shown)):
            resource.shown = change

    def merged(self) -> list[ResourceChange]:
        merged = []
        for resource in self._resources.values():
            latest, known = resource.latest, resource.latest.known
            if known == _NOTHING_KNOWN and resource.shown is not None:
                known = resource.shown.known  # e.g. a delete whose responseElements were dropped
            update: dict[str, object] = {"records_coalesced": resource.records, "known": known}
            if resource.confirmed != latest.scope_confirmed:
                update["scope_confirmed"] = resource.confirmed
            if resource.typed is not None and resource.typed is not latest.resource_type:
                update["resource_type"] = resource.typed
            merged.append(latest.model_copy(update=update))
        merged.sort(key=_recency)
        return merged


_ACTION_ORDER = {ChangeAction.CREATED: 0, ChangeAction.UPDATED: 1, ChangeAction.DELETED: 2}


def _recency(change: ResourceChange) -> tuple[datetime, int, int, str]:
    version = change.known.version or 0
    return (change.event_time, _ACTION_ORDER[change.action], version, change.source_event_id)
