"""PutEvents entries from event models, for the services' publisher and for users' own code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from contracts._base import Event

# EventBridge's entry size limit. Some regions announced 1 MB in 2026; 256 KB holds everywhere.
MAX_ENTRY_BYTES = 256 * 1024
_TIME_FIELD_BYTES = 14  # how EventBridge counts a Time field in the entry size


class PutEventsEntry(TypedDict, total=False):
    """The keys of a PutEvents request entry (boto3's PutEventsRequestEntryTypeDef)."""

    Time: datetime | str
    Source: str
    Resources: Sequence[str]
    DetailType: str
    Detail: str
    EventBusName: str
    TraceHeader: str


class EventTooLargeError(ValueError):
    def __init__(self, detail_type: str, size: int) -> None:
        super().__init__(
            f"{detail_type} entry is {size} bytes; EventBridge accepts at most {MAX_ENTRY_BYTES}. "
            "Shorten the payload (e.g. the query text) or store it in S3 and send its location."
        )
        self.detail_type = detail_type
        self.size = size


def put_events_entry(
    event: Event,
    *,
    event_bus_name: str,
    source: str | None = None,
    trace_header: str | None = None,
    resources: Sequence[str] = (),
) -> PutEventsEntry:
    """The PutEvents entry for `event`, checked against EventBridge's size limit.

    `source` defaults to the model's own; users publishing a request may give theirs.
    """
    entry: PutEventsEntry = {
        "Source": source or event.SOURCE,
        "DetailType": event.DETAIL_TYPE,
        "Detail": event.detail_json(),
        "EventBusName": event_bus_name,
    }
    if resources:
        entry["Resources"] = list(resources)
    if trace_header:
        entry["TraceHeader"] = trace_header
    size = entry_size(entry)
    if size > MAX_ENTRY_BYTES:
        raise EventTooLargeError(event.DETAIL_TYPE, size)
    return entry


def entry_size(entry: PutEventsEntry) -> int:
    """The size EventBridge charges an entry against its limit (AWS's documented formula)."""
    size = _TIME_FIELD_BYTES if "Time" in entry else 0
    for key in ("Source", "DetailType", "Detail"):
        value = entry.get(key)
        if isinstance(value, str):
            size += len(value.encode("utf-8"))
    size += sum(len(resource.encode("utf-8")) for resource in entry.get("Resources", ()))
    return size
