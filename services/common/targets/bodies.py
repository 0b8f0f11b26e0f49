"""Helpers every target's body reader shares: digging into JSON, times in UTC, and reading
attributes without losing a resource to one unreadable value."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from contracts import KnownAttributes


def known_attributes(fields: Mapping[str, Any]) -> KnownAttributes:
    """The attributes present in `fields`, validated in one pass; one by one only when that
    fails, so an unreadable value is dropped instead of losing the resource."""
    present = {name: value for name, value in fields.items() if value is not None}
    try:
        return KnownAttributes.model_validate(present)
    except ValidationError:
        pass
    kept: dict[str, Any] = {}
    for name, value in present.items():
        try:
            KnownAttributes.model_validate({name: value})
        except ValidationError:
            continue  # an unreadable attribute is not worth losing the change for
        kept[name] = value
    return KnownAttributes.model_validate(kept)


def timestamp(value: Any) -> datetime | None:
    """A time in UTC: a datetime (boto3's answers), ISO 8601 text (a naive time is UTC, an
    aware one converted) or epoch seconds (rest-json's default on the wire); else None."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None  # an unreadable date is not worth losing the resource for
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    else:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def dig(value: Any, *path: str) -> Any:
    """`value[path[0]][path[1]]...`, or None where a step is not a mapping or key is absent."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
