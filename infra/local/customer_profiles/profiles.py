"""Pure rules of profiles: the writable fields, updates, search keys and field paths.

A profile is kept in the botocore ``Profile`` member form (``FirstName``, ``Address``:
``{"City": ...}``, ``Attributes``: ``{name: value}``). CreateProfile sets what it is given;
UpdateProfile keeps an omitted field and removes a field sent as an empty string (also
inside an address and for one attribute).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ADDRESS_FIELDS = ("Address", "ShippingAddress", "MailingAddress", "BillingAddress")
EMAIL_FIELDS = ("EmailAddress", "PersonalEmailAddress", "BusinessEmailAddress")
PHONE_FIELDS = ("PhoneNumber", "MobilePhoneNumber", "HomePhoneNumber", "BusinessPhoneNumber")
NAME_FIELDS = ("FirstName", "MiddleName", "LastName")
STRING_FIELDS = (
    "AccountNumber",
    "AdditionalInformation",
    "PartyType",
    "BusinessName",
    *NAME_FIELDS,
    "BirthDate",
    "Gender",
    *PHONE_FIELDS,
    *EMAIL_FIELDS,
    "PartyTypeString",
    "GenderString",
    "ProfileType",
)
NESTED_FIELDS = (*ADDRESS_FIELDS, "Attributes", "EngagementPreferences")
WRITABLE_FIELDS = frozenset((*STRING_FIELDS, *NESTED_FIELDS))

# SearchProfiles' predefined keys and the profile fields each one looks at.
PREDEFINED_KEYS: dict[str, tuple[str, ...]] = {
    "_account": ("AccountNumber",),
    "_profileId": ("ProfileId",),
    "_email": EMAIL_FIELDS,
    "_phone": PHONE_FIELDS,
    "_fullName": ("_fullName",),
}


def new_profile(profile_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
    profile: dict[str, Any] = {"ProfileId": profile_id}
    for name in WRITABLE_FIELDS:
        value = request.get(name)
        if value not in (None, "", {}):
            profile[name] = _copy(value)
    return profile


def updated_profile(profile: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    """``profile`` after an UpdateProfile: omitted kept, ``""`` removed, maps merged by key."""
    result = {name: _copy(value) for name, value in profile.items()}
    for name in WRITABLE_FIELDS:
        if name not in request or request[name] is None:
            continue
        value = request[name]
        if name in (*ADDRESS_FIELDS, "Attributes"):
            merged = {**result.get(name, {}), **value}
            merged = {key: item for key, item in merged.items() if item != ""}
            if merged:
                result[name] = merged
            else:
                result.pop(name, None)
        elif value == "":
            result.pop(name, None)
        else:
            result[name] = _copy(value)
    return result


def full_name(profile: Mapping[str, Any]) -> str | None:
    parts = [str(profile[name]) for name in NAME_FIELDS if profile.get(name)]
    return " ".join(parts) or None


def field_value(profile: Mapping[str, Any], path: str) -> str | None:
    """The value at ``FirstName``, ``Address.City`` or ``Attributes.<name>``, if any."""
    if path == "_fullName":
        return full_name(profile)
    head, _, rest = path.partition(".")
    value = profile.get(head)
    if rest:
        value = value.get(rest) if isinstance(value, dict) else None
    return None if value is None else str(value)


def key_values(profile: Mapping[str, Any], fields: Iterable[str]) -> set[str]:
    return {value for path in fields if (value := field_value(profile, path)) is not None}


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
