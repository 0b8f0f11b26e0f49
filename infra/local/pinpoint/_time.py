"""Pinpoint's date strings: ISO-8601 UTC with milliseconds, e.g. 2026-11-02T10:00:00.000Z."""

from __future__ import annotations

from datetime import UTC, datetime


def pinpoint_date(moment: datetime) -> str:
    """How Pinpoint resources show CreationDate / LastModifiedDate (strings, not timestamps)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
