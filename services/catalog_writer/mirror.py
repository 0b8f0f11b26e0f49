"""The catalog mirror in S3: one JSON line per entry, under the Glue tables Athena reads.

**Layout.** ``<prefix><table>/<platform>-<id>.json`` holds one line: the entry's fields
(`MIRROR_COLUMNS`, the columns of the template's Glue tables) as the catalog table holds
them, plus `source_event_id`. An object per entry makes every write independent of the
others: it is idempotent, needs no read-modify-write of a shared file, and a deleted
entry is the same object with `deleted = true`. Athena reads the objects with the Hive
JSON SerDe; thousands of entries are thousands of small objects (a few hundred KB): one
LIST and one GET per object per query, well inside Athena's 10 MB minimum per query.

**Order.** The object's user metadata carries the row's order (event time and source
event id, as the catalog-writer orders rows). A write first reads that metadata (HEAD),
keeps a newer or equal object, and otherwise replaces it conditionally (`If-Match` its
ETag, `If-None-Match: *` when absent), so a slow writer holding an older row can never
overwrite a newer one: a lost race is read again and decided again.

Timestamps are written as Hive reads them (``yyyy-MM-dd HH:mm:ss.SSS``, UTC).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts import CatalogEntry, ResourceType
from services.catalog_writer.logic import StoredEntry

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Column name -> Hive type, in the order of the Glue tables (held equal by a template test).
_COMMON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "string"),
    ("type", "string"),
    ("platform", "string"),
    ("application_id", "string"),
    ("domain_name", "string"),
    ("connect_instance_id", "string"),
    ("name", "string"),
    ("deleted", "boolean"),
)
_TIMES: tuple[tuple[str, str], ...] = (
    ("version", "int"),
    ("creation_date", "timestamp"),
    ("last_modified_date", "timestamp"),
    ("event_time", "timestamp"),
    ("source_event_id", "string"),
)
MIRROR_TABLES = {
    ResourceType.CAMPAIGN: "campaigns_journeys",
    ResourceType.JOURNEY: "campaigns_journeys",
    ResourceType.SEGMENT: "segments",
}
MIRROR_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "campaigns_journeys": (
        *_COMMON_COLUMNS,
        ("segment_id", "string"),
        ("event_name", "string"),
        ("state", "string"),
        *_TIMES,
    ),
    "segments": (*_COMMON_COLUMNS, ("segment_type", "string"), *_TIMES),
}
# Bumped when the line's fields change, so an object of the old shape is rewritten.
MIRROR_FORMAT = "1"
MAX_WRITE_ATTEMPTS = 5
_ORDER_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width: compares as text the way times compare


class MirrorConflictError(RuntimeError):
    """The object kept changing under us; the message is retried later."""


def hive_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"


def mirror_key(prefix: str, entry: CatalogEntry) -> str:
    return f"{prefix}{MIRROR_TABLES[entry.type]}/{entry.platform.value}-{entry.id}.json"


def mirror_line(stored: StoredEntry) -> str:
    """The entry as one JSON line with its table's columns (absent fields are null)."""
    entry = stored.entry
    values: dict[str, Any] = entry.model_dump(mode="json")
    values["source_event_id"] = stored.source_event_id
    for name in ("creation_date", "last_modified_date", "event_time"):
        moment = getattr(entry, name)
        values[name] = hive_timestamp(moment) if moment is not None else None
    columns = MIRROR_COLUMNS[MIRROR_TABLES[entry.type]]
    return json.dumps({name: values.get(name) for name, _ in columns}, ensure_ascii=False) + "\n"


def _order_metadata(stored: StoredEntry) -> dict[str, str]:
    return {
        "event-time": stored.entry.event_time.astimezone(UTC).strftime(_ORDER_TIME),
        "source-event-id": stored.source_event_id,
        "mirror-format": MIRROR_FORMAT,
    }


class S3CatalogMirror:
    def __init__(self, client: Callable[[], S3Client], *, bucket: str, prefix: str) -> None:
        self._client = client
        self._bucket = bucket
        self._prefix = prefix

    def write(self, stored: StoredEntry) -> None:
        key = mirror_key(self._prefix, stored.entry)
        metadata = _order_metadata(stored)
        ours = (metadata["event-time"], metadata["source-event-id"])
        body = mirror_line(stored).encode("utf-8")
        for _ in range(MAX_WRITE_ATTEMPTS):
            held = self._held(key)
            if held is not None:
                held_metadata, etag = held
                theirs = (
                    held_metadata.get("event-time", ""),
                    held_metadata.get("source-event-id", ""),
                )
                same_format = held_metadata.get("mirror-format") == MIRROR_FORMAT
                if theirs > ours or (theirs == ours and same_format):
                    return  # the mirror already holds this row, or a newer one
                condition: dict[str, str] = {"IfMatch": etag}
            else:
                condition = {"IfNoneMatch": "*"}
            try:
                self._client().put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=body,
                    ContentType="application/x-ndjson",
                    Metadata=metadata,
                    **condition,  # type: ignore[arg-type]
                )
            except ClientError as error:
                if error.response["Error"]["Code"] in _LOST_RACE:
                    continue  # another writer changed the object: read it again
                raise
            return
        raise MirrorConflictError(f"mirror object {key} changed under {MAX_WRITE_ATTEMPTS} writes")

    def _held(self, key: str) -> tuple[dict[str, str], str] | None:
        try:
            head = self._client().head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return dict(head.get("Metadata", {})), head["ETag"]


# S3's answers to a conditional write that lost: the ETag moved (412), the key appeared
# (412), or a concurrent conditional write to the same key was in flight (409).
_LOST_RACE = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
