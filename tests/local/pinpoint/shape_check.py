"""Check a parsed botocore response against the operation's output shape, member by member."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from botocore.model import OperationModel, Shape

# Pinpoint returns its dates as ISO-8601 strings, e.g. 2026-11-02T10:00:00.000Z
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
DATE_MEMBERS = {"CreationDate", "LastModifiedDate", "CompletionDate", "EffectiveDate"}


def shape_errors(operation: OperationModel, parsed: dict[str, Any]) -> list[str]:
    """Every way ``parsed`` (a client's return value) departs from the output shape."""
    body = {key: value for key, value in parsed.items() if key != "ResponseMetadata"}
    shape = operation.output_shape
    if shape is None:
        return [] if not body else [f"{operation.name} has no output but returned {body}"]
    errors: list[str] = []
    _check(shape, body, operation.name, errors, member_name="")
    return errors


def _check(shape: Shape, value: Any, path: str, errors: list[str], member_name: str) -> None:
    checkers = {"structure": _check_structure, "list": _check_list, "map": _check_map}
    checker = checkers.get(shape.type_name, _check_scalar)
    checker(shape, value, path, errors, member_name)


def _check_structure(
    shape: Shape, value: Any, path: str, errors: list[str], member_name: str
) -> None:
    if not isinstance(value, dict):
        errors.append(f"{path}: expected object, got {type(value).__name__}")
        return
    members = shape.members  # type: ignore[attr-defined]
    errors.extend(f"{path}: unexpected member {key!r}" for key in value if key not in members)
    errors.extend(
        f"{path}: missing required member {required!r}"
        for required in shape.required_members
        if required not in value
    )
    for key, item in value.items():
        if key in members:
            _check(members[key], item, f"{path}.{key}", errors, key)


def _check_list(shape: Shape, value: Any, path: str, errors: list[str], member_name: str) -> None:
    if not isinstance(value, list):
        errors.append(f"{path}: expected list, got {type(value).__name__}")
        return
    for index, item in enumerate(value):
        _check(shape.member, item, f"{path}[{index}]", errors, member_name)  # type: ignore[attr-defined]


def _check_map(shape: Shape, value: Any, path: str, errors: list[str], member_name: str) -> None:
    if not isinstance(value, dict):
        errors.append(f"{path}: expected map, got {type(value).__name__}")
        return
    for key, item in value.items():
        if not isinstance(key, str):
            errors.append(f"{path}: map key {key!r} is not a string")
        _check(shape.value, item, f"{path}.{key}", errors, member_name)  # type: ignore[attr-defined]


def _check_scalar(shape: Shape, value: Any, path: str, errors: list[str], member_name: str) -> None:
    kind = shape.type_name
    expected: dict[str, tuple[type, ...]] = {
        "string": (str,),
        "boolean": (bool,),
        "integer": (int,),
        "long": (int,),
        "double": (int, float),
        "float": (int, float),
        "timestamp": (datetime,),
        "blob": (bytes,),
    }
    types = expected.get(kind)
    if types is None:
        errors.append(f"{path}: unknown shape type {kind}")
        return
    if not isinstance(value, types) or (kind != "boolean" and isinstance(value, bool)):
        errors.append(f"{path}: expected {kind}, got {value!r}")
        return
    if kind == "string":
        if shape.enum and value not in shape.enum:  # type: ignore[attr-defined]
            errors.append(f"{path}: {value!r} is not one of {shape.enum}")  # type: ignore[attr-defined]
        if member_name in DATE_MEMBERS and not ISO_DATE.match(str(value)):
            errors.append(f"{path}: {value!r} is not an ISO-8601 date")
