"""One CloudTrail record (from a log file or an API-call event) -> one change, skip or rejection.

**Which records count** is the target's to say (`services.common.targets.catalog`): its
eventSource, its handled operations, its scopes and ids. What is decided here holds for
every target: a record of another source is skipped (decided before validation: other
services' shapes vary), a failed call (``errorCode``) and an unhandled operation are
skipped, and a record that breaks the CloudTrail contract is rejected.

**Bad records** (missing or mistyped fields, a create without responseElements, ids that are
not the target's, text that is not JSON, a record too large to be CloudTrail's) are
*rejected* one by one and counted by reason (``Reject``); the rest of the file goes through.
A ``Rejection`` holds only the reason, the record's position, eventName, eventID and field
names: safe to log, never customer data.

**Ids.** A change's event id is ``derived_event_id("cloudtrail", <eventID>)`` of the record
it reports; for a coalesced change, of its *latest* record. The same write arriving as an
API-call event and in a log file therefore gets the same event id, and consumers drop the
repeat; so does a redelivered message.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from contracts import (
    ChangeOrigin,
    CloudTrailRecord,
    PinpointResourceChanged,
    ResourceChange,
    derived_event_id,
)
from services.common.targets.catalog import CloudTrailCatalog, Reject, Rejection, Skip


def cloudtrail_event_id(cloudtrail_id: str) -> str:
    """The event id of the change a CloudTrail record reports, on either path."""
    return derived_event_id("cloudtrail", cloudtrail_id)


def change_from_raw(
    raw: Mapping[str, Any],
    monitored: Collection[str],
    origin: ChangeOrigin,
    index: int | None = None,
    *,
    catalog: CloudTrailCatalog,
) -> ResourceChange | Skip | Rejection:
    """The change one decoded record reports, why it is skipped, or why it is bad."""
    source = raw.get("eventSource")
    if isinstance(source, str) and source not in catalog.event_sources:
        return Skip.OTHER_SERVICE  # decided before validation: other services' shapes vary
    name = safe_text(raw.get("eventName"))
    event_id = safe_text(raw.get("eventID"))
    if raw.get("errorCode") is not None:
        return Skip.FAILED_CALL
    if name is not None and name not in catalog.handled_operations:
        return Skip.UNHANDLED_OPERATION
    try:
        record = CloudTrailRecord.model_validate(raw)
    except ValidationError as error:
        problems = error.errors(include_url=False)
        missing = any(problem["type"] == "missing" for problem in problems)
        return Rejection(
            Reject.MISSING_FIELD if missing else Reject.WRONG_TYPE,
            index,
            name,
            event_id,
            tuple(sorted({str(problem["loc"][0]) for problem in problems if problem["loc"]})),
        )
    return change_from_record(record, monitored, origin, index, catalog=catalog)


def change_from_record(  # noqa: PLR0911 - a decision table reads best as early returns
    record: CloudTrailRecord,
    monitored: Collection[str],
    origin: ChangeOrigin,
    index: int | None = None,
    *,
    catalog: CloudTrailCatalog,
) -> ResourceChange | Skip | Rejection:
    """The change a validated record reports, why it is skipped, or why it is bad."""
    if record.event_source not in catalog.event_sources:
        return Skip.OTHER_SERVICE
    if record.error_code is not None:
        return Skip.FAILED_CALL
    if record.event_name not in catalog.handled_operations:
        return Skip.UNHANDLED_OPERATION
    subject = catalog.read_record(record, monitored)
    if isinstance(subject, Skip):
        return subject
    if isinstance(subject, Rejection):
        # Validated strings may still hold lone surrogates (pydantic's plain str keeps them).
        return replace(
            subject,
            index=index,
            event_name=safe_text(record.event_name),
            event_id=safe_text(record.event_id),
        )
    try:
        return ResourceChange(
            resource_type=subject.resource_type,
            **subject.scope._asdict(),
            resource_id=subject.resource_id,
            action=subject.action,
            event_time=record.event_time,
            source_event_id=record.event_id,
            operation=record.event_name,
            origin=origin,
            known=subject.known,
            scope_confirmed=subject.scope_confirmed,
        )
    except ValidationError as error:  # e.g. an eventID longer than a label may be
        fields = sorted({str(problem["loc"][0]) for problem in error.errors() if problem["loc"]})
        return Rejection(
            Reject.WRONG_TYPE,
            index,
            safe_text(record.event_name),
            safe_text(record.event_id),
            tuple(fields),
        )


def change_event(change: ResourceChange, causation_id: str | None) -> PinpointResourceChanged:
    """The event for a CloudTrail change; its id is derived from the record's eventID."""
    event_id = cloudtrail_event_id(change.source_event_id)
    return PinpointResourceChanged.new(
        change,
        correlation_id=event_id,
        causation_id=causation_id,
        event_id=event_id,
        occurred_at=change.event_time,
    )


def safe_text(value: Any) -> str | None:
    """A string of a raw record, safe to log: a lone surrogate (a JSON escape such as \\ud800,
    which UTF-8 cannot encode) becomes its escape text instead of breaking the log line."""
    if not isinstance(value, str):
        return None
    return value.encode("utf-8", "backslashreplace").decode("utf-8")
