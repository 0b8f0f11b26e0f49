"""Turns a raw EventBridge event into the right typed model, by detail-type and version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from contracts._base import Event
from contracts.aws import AwsEvent
from contracts.envelope import EventBridgeEnvelope

DetailT = TypeVar("DetailT", bound=BaseModel)
EventModel = type[Event] | type[AwsEvent]


class EventContractError(ValueError):
    """An event that does not fit any contract; the message says which field and why."""


class UnknownEventError(EventContractError):
    pass


class InvalidEventError(EventContractError):
    pass


def describe_validation_error(error: ValidationError, what: str) -> str:
    """One line a person can act on: `what` is invalid, then each field and its problem."""
    problems = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in item["loc"]) or "(event)"
        problems.append(f"{location}: {item['msg']}")
    return f"{what} is invalid: " + "; ".join(problems)


@dataclass(frozen=True)
class ParsedEvent(Generic[DetailT]):
    envelope: EventBridgeEnvelope
    detail: DetailT


class EventRegistry:
    def __init__(self, models: Iterable[EventModel]) -> None:
        self._ours: dict[tuple[str, str], type[Event]] = {}
        self._aws: dict[str, type[AwsEvent]] = {}
        for model in models:
            self.register(model)

    def register(self, model: EventModel) -> None:
        if issubclass(model, Event):
            key = (model.DETAIL_TYPE, model.VERSION)
            if key in self._ours:
                raise ValueError(f"{model.DETAIL_TYPE} v{model.VERSION} is registered twice")
            self._ours[key] = model
        else:
            if model.DETAIL_TYPE in self._aws:
                raise ValueError(f"{model.DETAIL_TYPE!r} is registered twice")
            self._aws[model.DETAIL_TYPE] = model

    @property
    def models(self) -> list[EventModel]:
        return [*self._ours.values(), *self._aws.values()]

    def model_for(self, detail_type: str, version: str | None = None) -> EventModel:
        if detail_type in self._aws:
            return self._aws[detail_type]
        versions = sorted(v for (name, v) in self._ours if name == detail_type)
        if not versions:
            known = ", ".join(sorted({name for name, _ in self._ours} | set(self._aws)))
            raise UnknownEventError(f"unknown detail-type {detail_type!r}; known: {known}")
        if version is None:
            if len(versions) > 1:
                raise UnknownEventError(
                    f"{detail_type} has versions {', '.join(versions)}: "
                    "detail.metadata.version must say which"
                )
            version = versions[0]
        if (detail_type, version) not in self._ours:
            raise UnknownEventError(
                f"{detail_type} has no version {version!r}; known: {', '.join(versions)}"
            )
        return self._ours[(detail_type, version)]

    def parse(self, raw: Mapping[str, Any]) -> ParsedEvent[BaseModel]:
        envelope = _parse_envelope(raw)
        model = self.model_for(envelope.detail_type, _declared_version(envelope.detail))
        return ParsedEvent(envelope, _parse_detail(model, envelope))

    def parse_as(self, raw: Mapping[str, Any], model: type[DetailT]) -> ParsedEvent[DetailT]:
        """Parse an event a consumer expects to be of one model (its rule guarantees it)."""
        envelope = _parse_envelope(raw)
        expected = getattr(model, "DETAIL_TYPE", None)
        if envelope.detail_type != expected:
            raise UnknownEventError(
                f"expected a {expected!r} event, got {envelope.detail_type!r} "
                f"from {envelope.source!r}"
            )
        return ParsedEvent(envelope, _parse_detail(model, envelope))


def _parse_envelope(raw: Mapping[str, Any]) -> EventBridgeEnvelope:
    if not isinstance(raw, Mapping):
        raise InvalidEventError(f"an EventBridge event is a JSON object, got {type(raw).__name__}")
    try:
        return EventBridgeEnvelope.model_validate(raw)
    except ValidationError as error:
        raise InvalidEventError(describe_validation_error(error, "EventBridge event")) from None


def _declared_version(detail: Mapping[str, Any]) -> str | None:
    metadata = detail.get("metadata")
    if isinstance(metadata, Mapping):
        version = metadata.get("version")
        return str(version) if version is not None else None
    return None


def _parse_detail(model: type[DetailT], envelope: EventBridgeEnvelope) -> DetailT:
    version = getattr(model, "VERSION", None)
    what = f"{envelope.detail_type} v{version}" if version else envelope.detail_type
    try:
        return model.model_validate(envelope.detail)
    except ValidationError as error:
        raise InvalidEventError(describe_validation_error(error, what)) from None
