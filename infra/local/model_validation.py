"""Request validation from the botocore model: what the service checks before it acts.

botocore's own client-side validation checks required members, types and minimums only;
AWS also refuses values over a maximum, outside an enum or not matching a pattern. This
checks all of them, member by member, and words each failure the way AWS services built
on Coral do ("Value 'x' at 'displayName' failed to satisfy constraint: Member must have
length less than or equal to 255"), so an emulator can answer with its validation error.

Patterns follow Smithy's ``pattern`` trait: not implicitly anchored (``re.search``).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from botocore.model import Shape


def validation_errors(shape: Shape, value: Any, path: str = "") -> list[str]:
    """Every constraint of ``shape`` that ``value`` (member names) breaks."""
    errors: list[str] = []
    _check(shape, value, path, errors)
    return errors


def validation_message(errors: list[str]) -> str:
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(errors)


def _check(shape: Shape, value: Any, path: str, errors: list[str]) -> None:  # noqa: PLR0912
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        for required in shape.required_members:
            if value.get(required) is None:
                errors.append(
                    f"Value null at '{_join(path, required)}' failed to satisfy constraint: "
                    "Member must not be null"
                )
        for name, item in value.items():
            if name in members and item is not None:
                _check(members[name], item, _join(path, name), errors)
    elif kind == "list" and isinstance(value, list):
        _check_size(shape, value, len(value), path, errors)
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}.{index + 1}", errors)  # type: ignore[attr-defined]
    elif kind == "map" and isinstance(value, dict):
        _check_size(shape, value, len(value), path, errors)
        for key, item in value.items():
            _check(shape.key, key, f"{path}.{key}", errors)  # type: ignore[attr-defined]
            _check(shape.value, item, f"{path}.{key}", errors)  # type: ignore[attr-defined]
    elif kind == "string" and isinstance(value, str):
        _check_size(shape, value, len(value), path, errors)
        enum = shape.enum  # type: ignore[attr-defined]
        if enum and value not in enum:
            errors.append(
                f"{_value(value, shape)} at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(enum)}]"
            )
        pattern = shape.metadata.get("pattern")
        compiled = _compiled(pattern) if pattern else None
        if compiled is not None and compiled.search(value) is None:
            errors.append(
                f"{_value(value, shape)} at '{path}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {pattern}"
            )
    elif kind in {"integer", "long", "double", "float"} and isinstance(value, int | float):
        minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
        if minimum is not None and value < minimum:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have value greater than or equal to {minimum}"
            )
        if maximum is not None and value > maximum:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must have value less than or equal to {maximum}"
            )


def _check_size(shape: Shape, value: Any, size: int, path: str, errors: list[str]) -> None:
    minimum, maximum = shape.metadata.get("min"), shape.metadata.get("max")
    if minimum is not None and size < minimum:
        errors.append(
            f"{_value(value, shape)} at '{path}' failed to satisfy constraint: "
            f"Member must have length greater than or equal to {minimum}"
        )
    if maximum is not None and size > maximum:
        errors.append(
            f"{_value(value, shape)} at '{path}' failed to satisfy constraint: "
            f"Member must have length less than or equal to {maximum}"
        )


def _value(value: Any, shape: Shape) -> str:
    """How the message shows a value: never a sensitive one, nor a long one in full."""
    if shape.metadata.get("sensitive") or not isinstance(value, str):
        return "Value"
    shown = value if len(value) <= 64 else value[:61] + "..."
    return f"Value '{shown}'"


def _join(path: str, name: str) -> str:
    member = name[:1].lower() + name[1:]
    return f"{path}.{member}" if path else member


@cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:  # a Java-only construct: the service's check cannot be reproduced
        return None
