"""Pinpoint's CloudTrail masking of free text.

Pinpoint writes free-text fields as "***" in both requestParameters and responseElements,
so names never reach the trail (which is why the catalog resolves them through GET calls).
Masked members, wherever they appear in a structure: Name, Description,
MessageConfiguration (documented), plus the other free text a person types: TreatmentName,
TreatmentDescription (campaign A/B treatments) and SegmentName (CreateImportJob).
Masking follows the botocore shape, so a *map key* that happens to be "Name" (a custom
attribute called Name in segment dimensions) is left alone.
"""

from __future__ import annotations

from typing import Any

from botocore.model import Shape

MASK = "***"
MASKED_MEMBERS = frozenset(
    {
        "Name",
        "Description",
        "MessageConfiguration",
        "TreatmentName",
        "TreatmentDescription",
        "SegmentName",
    }
)


def mask_free_text(shape: Shape, value: Any) -> Any:
    """A copy of ``value`` (wire JSON of ``shape``) with free-text members replaced."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        wire_to_member = {m.serialization.get("name", n): (n, m) for n, m in members.items()}
        masked: dict[str, Any] = {}
        for key, item in value.items():
            name, member = wire_to_member.get(key, (key, None))
            if name in MASKED_MEMBERS:
                masked[key] = MASK
            elif member is not None:
                masked[key] = mask_free_text(member, item)
            else:
                masked[key] = item
        return masked
    if kind == "list" and isinstance(value, list):
        return [mask_free_text(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if kind == "map" and isinstance(value, dict):
        return {key: mask_free_text(shape.value, item) for key, item in value.items()}  # type: ignore[attr-defined]
    return value
