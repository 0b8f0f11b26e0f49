"""The EventBridge event around a `detail`, as targets receive it."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contracts._base import UtcDatetime


class EventBridgeEnvelope(BaseModel):
    """The outer event. `account` is optional because moto's deliveries omit it."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    version: str | None = None
    # EventBridge's ids are UUIDs; an empty or giant one is no event EventBridge delivered,
    # and would not fit the causation id of what it causes.
    id: str = Field(min_length=1, max_length=128)
    detail_type: str = Field(alias="detail-type")
    source: str
    account: str | None = None
    time: UtcDatetime | None = None
    region: str | None = None
    resources: list[str] = Field(default_factory=list)
    detail: dict[str, Any]
    replay_name: str | None = Field(default=None, alias="replay-name")
