"""The envelope every pinpoint-lake event shares, and the field rules its payloads use.

The model modules of this package do without `from __future__ import annotations`: pydantic
would then evaluate every annotation from its text when a class is defined, the largest
part of building the models at import (each cold start pays it).
"""

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

PINPOINT_ID_PATTERN = r"^[0-9a-f]{32}$"
RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

# Pinpoint application, campaign, journey, segment and import-job ids: 32 lowercase hex digits.
PinpointId = Annotated[
    str,
    StringConstraints(pattern=PINPOINT_ID_PATTERN),
    Field(description="A Pinpoint id: 32 lowercase hexadecimal characters."),
]
RunId = Annotated[
    str,
    StringConstraints(pattern=RUN_ID_PATTERN),
    Field(description="A segmentation run id: letters, digits, '.', '_' or '-', at most 64."),
]
NonBlank = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
# A Customer Profiles domain (Amazon Connect): 1-64 letters, digits, '_' or '-'.
DomainName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-zA-Z0-9_-]{1,64}$"),
    Field(description="An Amazon Connect Customer Profiles domain name."),
]
# An Amazon Connect instance id (the botocore model's InstanceId).
ConnectInstanceId = Annotated[
    str,
    StringConstraints(pattern=r"^[-_.a-zA-Z0-9]{1,256}$"),
    Field(description="An Amazon Connect instance id."),
]
# The id of a catalog resource on either platform: a Pinpoint id (32 hex), an outbound
# campaign id (botocore: 1-256 of [-:/a-zA-Z0-9]) or a segment definition name
# (1-64 of [a-zA-Z0-9_-]). Which one a field holds is said by the model's `platform`.
CatalogId = Annotated[
    str,
    StringConstraints(pattern=r"^[-:/_a-zA-Z0-9]{1,256}$"),
    Field(description="A Pinpoint id; for Connect, a campaign id or a segment definition name."),
]


class Platform(StrEnum):
    """The engagement tool a catalog entry lives in."""

    PINPOINT = "pinpoint"  # scope: a project (application_id)
    CONNECT = "connect"  # scope: a Connect instance (campaigns) or a Customer Profiles domain


def _as_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# Timestamps must say which zone they are in; they are kept in UTC.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_as_utc)]


# The clock the services read. On Lambda it is the system clock; a host that runs the
# functions on a clock of its own (the local cloud's virtual clock) sets it around each
# invocation (`host_clock`), so what a function stamps (claims, deadlines, events) and what
# it compares them with later are on one clock.
_HOST_CLOCK: ContextVar[Callable[[], datetime] | None] = ContextVar("host_clock", default=None)


def utc_now() -> datetime:
    clock = _HOST_CLOCK.get()
    return datetime.now(UTC) if clock is None else clock().astimezone(UTC)


@contextmanager
def host_clock(clock: Callable[[], datetime]) -> Iterator[None]:
    """`utc_now()` reads `clock` inside this block (the local runtime's invocations)."""
    token = _HOST_CLOCK.set(clock)
    try:
        yield
    finally:
        _HOST_CLOCK.reset(token)


def new_event_id() -> str:
    return str(uuid.uuid4())


_EVENT_ID_NAMESPACE = uuid.UUID("6f1c2d3e-4b5a-5c6d-8e7f-9a0b1c2d3e4f")


def derived_event_id(*parts: str) -> str:
    """A stable event id derived from what caused the event.

    A handler that runs again for a redelivered message then publishes the same ids, and
    consumers drop the repeats. `parts` must tell apart every event one cause produces.
    """
    if not parts:
        raise ValueError("derived_event_id needs at least one part")
    return str(uuid.uuid5(_EVENT_ID_NAMESPACE, "\x1f".join(parts)))


class ResourceType(StrEnum):
    CAMPAIGN = "campaign"
    JOURNEY = "journey"
    SEGMENT = "segment"


class FrozenModel(BaseModel):
    """Immutable and strict: an unknown field is an error, never a silent drop.

    Validators are built on a model's first use, not at import: a service uses a few of the
    models, and building all of them would lengthen every cold start.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)


class EventMetadata(FrozenModel):
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        description="Assigned by the producer; the idempotency key of every consumer."
    )
    version: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*$")] = Field(
        description="The contract version of this detail-type."
    )
    occurred_at: UtcDatetime = Field(description="When the fact happened (UTC).")
    producer: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        description="The service (or user tool) that published the event."
    )
    correlation_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] = Field(
        description="Ties a chain of events together: the run id, or the catalog change id."
    )
    causation_id: Annotated[str, StringConstraints(min_length=1, max_length=128)] | None = Field(
        default=None, description="The event_id of the event this one answers."
    )


class Event(FrozenModel):
    """Base of every pinpoint-lake event: the EventBridge `detail` = metadata + data.

    Subclasses declare SOURCE, DETAIL_TYPE and VERSION explicitly (never derived from the class
    name, so renaming a class cannot change the wire format) and a `data` field.
    """

    SOURCE: ClassVar[str]
    DETAIL_TYPE: ClassVar[str]
    VERSION: ClassVar[str] = "1"
    DESCRIPTION: ClassVar[str] = ""
    CONSUMERS: ClassVar[tuple[str, ...]] = ()
    # A request (SegmentQueryRequested, CatalogBackfillRequested) is published by requesters
    # under any source; every other event is a fact only its producer (SOURCE) may state.
    REQUEST: ClassVar[bool] = False

    metadata: EventMetadata
    data: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if len(getattr(cls, "DETAIL_TYPE", "")) > 128:
            raise TypeError(f"{cls.__name__}: EventBridge detail-types are at most 128 chars")

    @model_validator(mode="after")
    def _version_matches_the_model(self) -> Self:
        if self.metadata.version != self.VERSION:
            raise ValueError(
                f"{self.DETAIL_TYPE} is version {self.VERSION}; "
                f"metadata.version says {self.metadata.version}"
            )
        return self

    @classmethod
    def producer_name(cls) -> str:
        return cls.SOURCE.removeprefix("pinpoint-lake.")

    @classmethod
    def new(
        cls,
        data: Any,
        *,
        correlation_id: str,
        causation_id: str | None = None,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
        producer: str | None = None,
    ) -> Self:
        """Build an event with fresh metadata: the usual way a service creates one."""
        metadata = EventMetadata(
            event_id=event_id or new_event_id(),
            version=cls.VERSION,
            occurred_at=occurred_at or utc_now(),
            producer=producer or cls.producer_name(),
            correlation_id=correlation_id,
            causation_id=causation_id,
        )
        return cls(metadata=metadata, data=data)

    @property
    def event_id(self) -> str | None:
        """The idempotency key; None only for a user request not yet given metadata."""
        return self.metadata.event_id

    def detail_json(self) -> str:
        """The EventBridge `detail` as JSON text."""
        return self.model_dump_json(by_alias=True)


class Request(Event):
    """A request users publish (`REQUEST`): `metadata` may be left out, and the consumer
    fills it from the EventBridge envelope (`completed`), the same way on every delivery."""

    REQUEST: ClassVar[bool] = True

    metadata: EventMetadata | None = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _version_matches_the_model(self) -> Self:
        if self.metadata is not None and self.metadata.version != self.VERSION:
            raise ValueError(
                f"{self.DETAIL_TYPE} is version {self.VERSION}; "
                f"metadata.version says {self.metadata.version}"
            )
        return self

    @property
    def event_id(self) -> str | None:
        return None if self.metadata is None else self.metadata.event_id

    @property
    def known_metadata(self) -> EventMetadata:
        """The metadata of a completed request; a consumer completes a request first."""
        if self.metadata is None:
            raise ValueError(f"{self.DETAIL_TYPE} has no metadata: complete it first")
        return self.metadata

    def detail_json(self) -> str:
        exclude = {"metadata"} if self.metadata is None else None
        return self.model_dump_json(by_alias=True, exclude=exclude)

    @classmethod
    def requester(cls, envelope_source: str | None, requested_by: str | None) -> str:
        """Who published a request that carried no metadata: `<SOURCE>/<who>`."""
        who = requested_by or envelope_source
        if not who or who == cls.SOURCE:
            return cls.SOURCE
        return f"{cls.SOURCE}/{who}"[:128]

    @classmethod
    def event_id_from(cls, envelope_id: str) -> str:
        """The event id of a request that carried no metadata, from its envelope's id."""
        return derived_event_id(envelope_id, cls.DETAIL_TYPE, "event_id")

    def completed(
        self,
        *,
        envelope_id: str,
        occurred_at: datetime,
        producer: str,
        correlation_id: str | None = None,
    ) -> Self:
        """The request with metadata: its own, or derived from the envelope, so every
        delivery of one event gets the same event id."""
        if self.metadata is not None:
            return self
        event_id = self.event_id_from(envelope_id)
        metadata = EventMetadata(
            event_id=event_id,
            version=self.VERSION,
            occurred_at=occurred_at,
            producer=producer,
            correlation_id=correlation_id or event_id,
        )
        return self.model_copy(update={"metadata": metadata})
