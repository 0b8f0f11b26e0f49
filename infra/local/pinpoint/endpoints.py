"""Endpoint rules: how an update merges into an endpoint, and Pinpoint's endpoint limits.

Pure functions over dicts in the botocore member form (``EndpointRequest`` in,
``EndpointResponse`` out), shared by UpdateEndpoint(sBatch) and import jobs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import BadRequestError

CHANNEL_TYPES = frozenset(
    {
        "PUSH",
        "GCM",
        "APNS",
        "APNS_SANDBOX",
        "APNS_VOIP",
        "APNS_VOIP_SANDBOX",
        "ADM",
        "SMS",
        "VOICE",
        "EMAIL",
        "BAIDU",
        "CUSTOM",
        "IN_APP",
    }
)
OPT_OUT_VALUES = frozenset({"ALL", "NONE"})

# Fields an update replaces outright; the structured ones below merge field by field.
_SCALAR_FIELDS = (
    "Address",
    "ChannelType",
    "EffectiveDate",
    "EndpointStatus",
    "OptOut",
    "RequestId",
)
_MERGED_STRUCTURES = ("Demographic", "Location")


@dataclass(frozen=True)
class EndpointLimits:
    """Pinpoint's documented endpoint quotas (the defaults); tests may shrink them."""

    max_custom_attributes: int = 250  # per project, Attributes + Metrics + UserAttributes
    max_attribute_name_length: int = 50
    max_attribute_value_length: int = 100
    max_values_per_attribute: int = 50
    max_endpoint_bytes: int = 15 * 1024
    max_batch_items: int = 100


AttributeName = tuple[str, str]
"""(kind, name): kind is Attributes, Metrics or UserAttributes."""


def merge_endpoint(
    existing: Mapping[str, Any] | None,
    update: Mapping[str, Any],
    *,
    endpoint_id: str,
    application_id: str,
    now: str,
    cohort_id: str,
) -> dict[str, Any]:
    """The endpoint after ``update``: given fields replace, attribute maps merge by key.

    Why merge by key: Pinpoint keeps attributes an update does not mention; an attribute
    sent with an empty list is removed (the documented way to clear one).
    """
    endpoint: dict[str, Any] = (
        json.loads(json.dumps(existing))
        if existing is not None
        else {
            "Id": endpoint_id,
            "ApplicationId": application_id,
            "CreationDate": now,
            "CohortId": cohort_id,
            "EndpointStatus": "ACTIVE",
            "OptOut": "NONE",
        }
    )
    for name in _SCALAR_FIELDS:
        if update.get(name) is not None:
            endpoint[name] = update[name]
    for name in _MERGED_STRUCTURES:
        if update.get(name) is not None:
            endpoint[name] = {**endpoint.get(name, {}), **update[name]}
    for name in ("Attributes", "Metrics"):
        if update.get(name) is not None:
            merged = _merge_map(endpoint.get(name), update[name])
            _set_or_drop(endpoint, name, merged)
    user_update = update.get("User")
    if user_update is not None:
        user = dict(endpoint.get("User", {}))
        if user_update.get("UserId") is not None:
            user["UserId"] = user_update["UserId"]
        if user_update.get("UserAttributes") is not None:
            merged = _merge_map(user.get("UserAttributes"), user_update["UserAttributes"])
            _set_or_drop(user, "UserAttributes", merged)
        _set_or_drop(endpoint, "User", user)
    if update.get("EffectiveDate") is None:
        endpoint["EffectiveDate"] = now
    return endpoint


def _merge_map(current: Mapping[str, Any] | None, update: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current or {})
    for key, value in update.items():
        if isinstance(value, list) and not value:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _set_or_drop(target: dict[str, Any], key: str, value: Mapping[str, Any]) -> None:
    if value:
        target[key] = dict(value)
    else:
        target.pop(key, None)


def attribute_names(endpoint: Mapping[str, Any]) -> set[AttributeName]:
    names: set[AttributeName] = set()
    names.update(("Attributes", name) for name in endpoint.get("Attributes", {}))
    names.update(("Metrics", name) for name in endpoint.get("Metrics", {}))
    user_attributes = endpoint.get("User", {}).get("UserAttributes", {})
    names.update(("UserAttributes", name) for name in user_attributes)
    return names


def validate_endpoint(
    endpoint: Mapping[str, Any],
    project_attribute_names: set[AttributeName],
    limits: EndpointLimits,
) -> set[AttributeName]:
    """Check the endpoint against Pinpoint's limits; returns the attribute names it adds.

    Raises ``BadRequestError`` with a message close to the service's when a limit is hit.
    """
    channel = endpoint.get("ChannelType")
    if channel is not None and channel not in CHANNEL_TYPES:
        raise BadRequestError(f"Invalid ChannelType: {channel}")
    opt_out = endpoint.get("OptOut")
    if opt_out is not None and opt_out not in OPT_OUT_VALUES:
        raise BadRequestError(f"Invalid OptOut value: {opt_out}. Valid values: ALL, NONE")
    _check_string_lists("Attributes", endpoint.get("Attributes", {}), limits)
    _check_string_lists(
        "User.UserAttributes", endpoint.get("User", {}).get("UserAttributes", {}), limits
    )
    _check_metrics(endpoint.get("Metrics", {}), limits)
    size = len(json.dumps(endpoint, separators=(",", ":")).encode("utf-8"))
    if size > limits.max_endpoint_bytes:
        raise BadRequestError(
            f"Endpoint {endpoint.get('Id')} is {size} bytes; the maximum size is "
            f"{limits.max_endpoint_bytes} bytes"
        )
    new_names = attribute_names(endpoint) - project_attribute_names
    total = len(project_attribute_names) + len(new_names)
    if total > limits.max_custom_attributes:
        raise BadRequestError(
            f"Exceeded the maximum number of custom attributes ({limits.max_custom_attributes})"
            f" for this project: {total} attributes would be defined"
        )
    return new_names


def _check_name(kind: str, name: str, limits: EndpointLimits) -> None:
    if not name:
        raise BadRequestError(f"{kind} attribute names cannot be empty")
    if len(name) > limits.max_attribute_name_length:
        raise BadRequestError(
            f"{kind} attribute name '{name}' is longer than "
            f"{limits.max_attribute_name_length} characters"
        )


def _check_string_lists(kind: str, attributes: Mapping[str, Any], limits: EndpointLimits) -> None:
    for name, values in attributes.items():
        _check_name(kind, name, limits)
        if len(values) > limits.max_values_per_attribute:
            raise BadRequestError(
                f"{kind} attribute '{name}' has {len(values)} values; the maximum is "
                f"{limits.max_values_per_attribute}"
            )
        for value in values:
            if len(value) > limits.max_attribute_value_length:
                raise BadRequestError(
                    f"A value of {kind} attribute '{name}' is longer than "
                    f"{limits.max_attribute_value_length} characters"
                )


def _check_metrics(metrics: Mapping[str, Any], limits: EndpointLimits) -> None:
    for name, value in metrics.items():
        _check_name("Metrics", name, limits)
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise BadRequestError(f"Metric '{name}' must be a finite number")


def channel_counts(endpoints: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for endpoint in endpoints:
        channel = endpoint.get("ChannelType")
        if channel:
            counts[channel] = counts.get(channel, 0) + 1
    return counts
