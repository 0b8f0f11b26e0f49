"""Pure evaluation of CLASSIC segment definitions (``SegmentGroups``) over profiles.

A group is the profiles of its ``SourceSegments`` (combined by ``SourceType``; every
profile of the domain when it names none) that match its ``Dimensions`` (combined by
``Type``); the groups are combined by ``Include``: ALL = in every group, ANY = in one,
NONE = in none. Comparisons are exact (case-sensitive); a profile lacking a field matches
only EXCLUSIVE and NOT_BETWEEN. Calculated attributes are not emulated (a 400 at create).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from .errors import BadRequestError
from .profiles import ADDRESS_FIELDS, field_value

Profile = Mapping[str, Any]
Resolve = Callable[[str], Mapping[str, Any]]
"""Looks up another segment definition of the domain by name (for SourceSegments)."""

MAX_SOURCE_DEPTH = 10


def check_groups(groups: Mapping[str, Any]) -> None:
    """Refuse what the emulator cannot evaluate, before the definition is stored."""
    for group in groups.get("Groups") or []:
        for dimension in group.get("Dimensions") or []:
            if dimension.get("CalculatedAttributes"):
                raise BadRequestError("CalculatedAttributes dimensions are not supported here")
            if not dimension.get("ProfileAttributes"):
                raise BadRequestError("A dimension needs ProfileAttributes")


def members(
    groups: Mapping[str, Any], profiles: Iterable[Profile], resolve: Resolve, depth: int = 0
) -> set[str]:
    """The ProfileIds of ``profiles`` in the segment ``groups`` describes."""
    if depth > MAX_SOURCE_DEPTH:
        raise BadRequestError("SourceSegments nest too deeply")
    everyone = {str(p["ProfileId"]): p for p in profiles}
    group_sets = [
        _group_members(group, everyone, resolve, depth) for group in groups.get("Groups") or []
    ]
    return _combine(groups.get("Include") or "ALL", group_sets, set(everyone))


def _group_members(
    group: Mapping[str, Any], everyone: Mapping[str, Profile], resolve: Resolve, depth: int
) -> set[str]:
    sources = group.get("SourceSegments") or []
    universe = set(everyone)
    if sources:
        source_sets = []
        for source in sources:
            definition = resolve(str(source.get("SegmentDefinitionName")))
            source_groups = definition.get("SegmentGroups")
            if source_groups is None:
                raise BadRequestError("A source segment must be a CLASSIC segment")
            source_sets.append(members(source_groups, everyone.values(), resolve, depth + 1))
        universe = _combine(group.get("SourceType") or "ANY", source_sets, universe)
    dimensions = group.get("Dimensions") or []
    if not dimensions:
        return universe
    kind = group.get("Type") or "ALL"
    return {
        profile_id
        for profile_id in universe
        if _matches_all_kind(kind, [_dimension(d, everyone[profile_id]) for d in dimensions])
    }


def _combine(include: str, sets: list[set[str]], everyone: set[str]) -> set[str]:
    if not sets:
        return set() if include == "NONE" else set(everyone)
    if include == "ALL":
        return set.intersection(*sets)
    union = set.union(*sets)
    return union if include == "ANY" else everyone - union


def _matches_all_kind(kind: str, results: list[bool]) -> bool:
    if kind == "ALL":
        return all(results)
    if kind == "ANY":
        return any(results)
    return not any(results)


def _dimension(dimension: Mapping[str, Any], profile: Profile) -> bool:
    """A dimension's ProfileAttributes: every attribute it names must match."""
    attributes = dimension.get("ProfileAttributes") or {}
    checks: list[bool] = []
    for name, condition in attributes.items():
        if name == "Attributes":
            checks.extend(
                _condition(condition_of, field_value(profile, f"Attributes.{key}"))
                for key, condition_of in condition.items()
            )
        elif name in ADDRESS_FIELDS:
            checks.extend(
                _condition(part, field_value(profile, f"{name}.{field}"))
                for field, part in condition.items()
            )
        else:
            checks.append(_condition(condition, field_value(profile, name)))
    return all(checks)


def _condition(condition: Mapping[str, Any], value: str | None) -> bool:  # noqa: PLR0911
    kind = str(condition["DimensionType"])
    wanted = [str(v) for v in condition.get("Values") or []]
    if value is None:
        return kind in {"EXCLUSIVE", "NOT_BETWEEN"}
    if kind == "INCLUSIVE":
        return value in wanted
    if kind == "EXCLUSIVE":
        return value not in wanted
    if kind == "CONTAINS":
        return any(v in value for v in wanted)
    if kind == "BEGINS_WITH":
        return any(value.startswith(v) for v in wanted)
    if kind == "ENDS_WITH":
        return any(value.endswith(v) for v in wanted)
    if kind in {"BEFORE", "AFTER", "ON", "BETWEEN", "NOT_BETWEEN"}:
        return _compare(kind, _as_date(value), [_as_date(v) for v in wanted])
    return _compare(kind, _as_number(value), [_as_number(v) for v in wanted])


def _compare(kind: str, value: Any, wanted: list[Any]) -> bool:
    if value is None or not wanted or any(w is None for w in wanted):
        return False
    first = wanted[0]
    if kind in {"BETWEEN", "NOT_BETWEEN"}:
        if len(wanted) != 2:
            raise BadRequestError(f"{kind} needs two values")
        inside = bool(wanted[0] <= value <= wanted[1])
        return inside if kind == "BETWEEN" else not inside
    outcomes = {
        "BEFORE": value < first,
        "LESS_THAN": value < first,
        "AFTER": value > first,
        "GREATER_THAN": value > first,
        "ON": value == first,
        "EQUAL": value == first,
        "GREATER_THAN_OR_EQUAL": value >= first,
        "LESS_THAN_OR_EQUAL": value <= first,
    }
    if kind not in outcomes:
        raise BadRequestError(f"DimensionType {kind} is not supported here")
    return bool(outcomes[kind])


def _as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _as_date(text: str) -> date | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None
