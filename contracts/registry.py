"""Turns a raw EventBridge event into the right typed model, by detail-type and version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError

from contracts._base import Event
from contracts.envelope import EventBridgeEnvelope

if TYPE_CHECKING:  # the AWS event models load only where a service takes one
    from contracts.aws import AwsEvent

DetailT = TypeVar("DetailT", bound=BaseModel)
EventModel: TypeAlias = "type[Event] | type[AwsEvent]"


@dataclass(frozen=True)
class ContractProblem:
    """One field that breaks a contract: where (`location` inside `part`), what kind of
    problem (pydantic's error type, e.g. "missing", "string_too_long"), and a message. Never
    the value itself, so a problem is safe to log."""

    part: Literal["envelope", "detail"]
    location: tuple[str | int, ...]
    kind: str
    message: str

    @property
    def path(self) -> str:
        return ".".join(str(step) for step in self.location) or "(event)"


class EventContractError(ValueError):
    """An event that does not fit any contract; the message says which field and why.

    It keeps its structure, so a consumer that answers a bad event (a rejection, a count)
    needs no second parse: `raw` is the event as received (None when the body was not a JSON
    object), `problems` the fields that broke the contract."""

    def __init__(
        self,
        message: str,
        *,
        raw: Mapping[str, Any] | None = None,
        problems: Sequence[ContractProblem] = (),
    ) -> None:
        super().__init__(message)
        self.raw = raw
        self.problems = tuple(problems)

    @property
    def detail_type(self) -> str | None:
        value = None if self.raw is None else self.raw.get("detail-type")
        return value if isinstance(value, str) else None

    @property
    def detail(self) -> Mapping[str, Any] | None:
        value = None if self.raw is None else self.raw.get("detail")
        return value if isinstance(value, Mapping) else None

    def in_detail(self) -> tuple[ContractProblem, ...]:
        """The problems of the detail (empty when the envelope around it was the problem)."""
        return tuple(problem for problem in self.problems if problem.part == "detail")


class UnknownEventError(EventContractError):
    pass


class InvalidEventError(EventContractError):
    pass


def contract_problems(
    error: ValidationError, part: Literal["envelope", "detail"]
) -> tuple[ContractProblem, ...]:
    return tuple(
        ContractProblem(part, tuple(item["loc"]), item["type"], item["msg"])
        for item in error.errors(include_url=False)
    )


def describe_problems(problems: Iterable[ContractProblem], what: str) -> str:
    """One line a person can act on: `what` is invalid, then each field and its problem."""
    return f"{what} is invalid: " + "; ".join(f"{p.path}: {p.message}" for p in problems)


def describe_validation_error(error: ValidationError, what: str) -> str:
    return describe_problems(contract_problems(error, "detail"), what)


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

    def knows(self, detail_type: str) -> bool:
        """Whether some version of `detail_type` is registered."""
        return detail_type in self._aws or any(name == detail_type for name, _ in self._ours)

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
        try:
            model = self.model_for(envelope.detail_type, _declared_version(envelope.detail))
        except UnknownEventError as error:
            raise UnknownEventError(str(error), raw=raw) from None
        return ParsedEvent(envelope, _parse_detail(model, envelope, raw))

    def parse_as(self, raw: Mapping[str, Any], model: type[DetailT]) -> ParsedEvent[DetailT]:
        """Parse an event a consumer expects to be of one model (its rule guarantees it)."""
        envelope = _parse_envelope(raw)
        expected = getattr(model, "DETAIL_TYPE", None)
        if envelope.detail_type != expected:
            raise UnknownEventError(
                f"expected a {expected!r} event, got {envelope.detail_type!r} "
                f"from {envelope.source!r}",
                raw=raw,
            )
        return ParsedEvent(envelope, _parse_detail(model, envelope, raw))


def _parse_envelope(raw: Mapping[str, Any]) -> EventBridgeEnvelope:
    if not isinstance(raw, Mapping):
        raise InvalidEventError(f"an EventBridge event is a JSON object, got {type(raw).__name__}")
    try:
        return EventBridgeEnvelope.model_validate(raw)
    except ValidationError as error:
        problems = contract_problems(error, "envelope")
        raise InvalidEventError(
            describe_problems(problems, "EventBridge event"), raw=raw, problems=problems
        ) from None


def _declared_version(detail: Mapping[str, Any]) -> str | None:
    metadata = detail.get("metadata")
    if isinstance(metadata, Mapping):
        version = metadata.get("version")
        return str(version) if version is not None else None
    return None


def _parse_detail(
    model: type[DetailT], envelope: EventBridgeEnvelope, raw: Mapping[str, Any]
) -> DetailT:
    version = getattr(model, "VERSION", None)
    what = f"{envelope.detail_type} v{version}" if version else envelope.detail_type
    try:
        return model.model_validate(envelope.detail)
    except ValidationError as error:
        problems = contract_problems(error, "detail")
        raise InvalidEventError(
            describe_problems(problems, what), raw=raw, problems=problems
        ) from None
