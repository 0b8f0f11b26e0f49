"""query-validator decisions: a segment query request in, Validated or Rejected out.

Pure: no AWS, no environment. `validate(query, policy)` is the SQL verdict the CLI shows
(`pinpoint-lake query check`); `answer` adds what only a request has (its run id, the target
application) and builds the event to publish; `answer_unreadable` turns a request that does
not fit its contract into a rejection instead of a message in the DLQ.

Redelivery publishes the same thing: the run id and the request's event id, when the user
gave none, are derived from the EventBridge envelope id, and the outcome's event id from the
request's event id and the run id.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import TypeAdapter, ValidationError

from contracts import (
    MAX_ENTRY_BYTES,
    ContractProblem,
    EngagementTarget,
    EventBridgeEnvelope,
    EventContractError,
    RejectedRun,
    Rejection,
    RunId,
    RunRequest,
    SegmentQueryRejected,
    SegmentQueryRequested,
    SegmentQueryValidated,
    UnknownEventError,
    UtcDatetime,
    ValidatedRun,
    derived_event_id,
)
from contracts.segmentation import ScheduleArn
from services.common.sql_rules import (
    ValidationPolicy,
    Verdict,
    rejection,
    validate,
)
from services.common.targets.connect.imports import CONNECT_IMPORTS, SEGMENT_DEFINITION_NAME
from services.common.targets.imports import ImportVocabulary
from services.common.targets.pinpoint.imports import MIRRORED_PINPOINT_SEGMENT

__all__ = [
    "Deployment",
    "Destination",
    "Outcome",
    "RequestCode",
    "Targets",
    "ValidationPolicy",
    "Verdict",
    "answer",
    "answer_unreadable",
    "complete_request",
    "derived_run_id",
    "validate",
]

Outcome = SegmentQueryValidated | SegmentQueryRejected

# Most reasons a rejection lists; past it (or past EventBridge's entry size) the rest are
# summed up in one last reason.
MAX_REASONS = 100
# The detail's share of an entry: source and detail-type take the rest.
_DETAIL_BUDGET = MAX_ENTRY_BYTES - 1024


class RequestCode:
    """Rejection codes about the request rather than its SQL (see sql_rules for those)."""

    APPLICATION_NOT_MONITORED = "APPLICATION_NOT_MONITORED"
    NO_APPLICATION = "NO_APPLICATION"
    TARGET_OFF = "TARGET_OFF"  # the named target is not configured in this deployment
    NOT_FOR_TARGET = "NOT_FOR_TARGET"  # a request field the target has no use for
    SEGMENT_NAME_INVALID = "SEGMENT_NAME_INVALID"  # a segment name the target cannot take
    INVALID_REQUEST = "INVALID_REQUEST"
    REQUEST_INVALID = "REQUEST_INVALID"  # what `_code_for` says of the request as a whole
    UNKNOWN_FIELD = "UNKNOWN_FIELD"
    MORE_REASONS = "MORE_REASONS"


@dataclass(frozen=True)
class Destination:
    """Where a validated run imports."""

    target: EngagementTarget
    application_id: str | None = None
    domain_name: str | None = None


@dataclass(frozen=True)
class Targets:
    """The import targets of the deployment: the Pinpoint projects a run may import into
    (and the one used when none is named), and the Customer Profiles domain of Connect
    (None: Connect is off). A request that names no target gets `default_target`."""

    monitored: tuple[str, ...]
    default: str | None = None
    connect_domain: str | None = None
    default_target: EngagementTarget = EngagementTarget.PINPOINT
    connect_vocabulary: ImportVocabulary = CONNECT_IMPORTS

    @property
    def default_application(self) -> str | None:
        return self.default or (self.monitored[0] if self.monitored else None)

    def resolve(self, requested: str | None) -> tuple[str | None, list[Rejection]]:
        application_id = requested or self.default_application
        if application_id is None:
            return None, [
                rejection(
                    RequestCode.NO_APPLICATION,
                    "the request names no application_id and the deployment has no default project",
                )
            ]
        if application_id not in self.monitored:
            return application_id, [
                rejection(
                    RequestCode.APPLICATION_NOT_MONITORED,
                    f"application {application_id} is not one of the deployment's monitored "
                    f"projects ({', '.join(self.monitored) or 'none'})",
                )
            ]
        return application_id, []

    def destination(self, request: RunRequest) -> tuple[Destination | None, list[Rejection]]:
        """The run's target (the request's or the default) and what stops the run there."""
        target = request.target or self.default_target
        if target is EngagementTarget.PINPOINT:
            application_id, reasons = self.resolve(request.application_id)
            if request.mirror and (request.segment_name or request.segment_id):
                reasons.append(rejection(RequestCode.NOT_FOR_TARGET, MIRRORED_PINPOINT_SEGMENT))
            return Destination(target, application_id=application_id), reasons
        return self._connect(request)

    def _connect(self, request: RunRequest) -> tuple[Destination | None, list[Rejection]]:
        reasons: list[Rejection] = []
        if self.connect_domain is None:
            reasons.append(
                rejection(
                    RequestCode.TARGET_OFF,
                    "target connect is off in this deployment (its CustomerProfilesDomainName "
                    "is empty); import into pinpoint or ask for the domain to be set",
                )
            )
        if request.application_id is not None:
            reasons.append(
                rejection(
                    RequestCode.NOT_FOR_TARGET,
                    "application_id names a Pinpoint project; a connect run imports into the "
                    "deployment's Customer Profiles domain: drop application_id",
                )
            )
        if request.segment_id is not None:
            reasons.append(
                rejection(
                    RequestCode.NOT_FOR_TARGET,
                    "segment_id refreshes a Pinpoint imported segment; Connect segment "
                    "definitions cannot be updated: give a new segment_name instead",
                )
            )
        name = request.segment_name
        if name is not None and SEGMENT_DEFINITION_NAME.fullmatch(name) is None:
            reasons.append(
                rejection(
                    RequestCode.SEGMENT_NAME_INVALID,
                    "a Connect segment definition name is 1-64 letters, digits, '_' or '-'",
                )
            )
        if self.connect_domain is None:
            return None, reasons
        return Destination(EngagementTarget.CONNECT, domain_name=self.connect_domain), reasons

    def vocabulary(self, target: EngagementTarget, policy: ValidationPolicy) -> ImportVocabulary:
        """The columns a run on `target` may have (Pinpoint's are the policy's own)."""
        vocabularies = {
            EngagementTarget.PINPOINT: policy.vocabulary,
            EngagementTarget.CONNECT: self.connect_vocabulary,
        }
        return vocabularies[target]


@dataclass(frozen=True)
class Deployment:
    policy: ValidationPolicy
    targets: Targets


# --- the request --------------------------------------------------------------------------


def derived_run_id(request_key: str) -> str:
    """The run id of a request that names none: the same for every delivery of the request."""
    return "run-" + derived_event_id(request_key, SegmentQueryRequested.DETAIL_TYPE, "run_id")


def request_key(request: RunRequest, envelope_id: str) -> str:
    """What tells one request apart from another.

    A schedule's fire is its schedule and scheduled time: Scheduler may deliver one fire
    more than once (a retry is a new event with a new id), and each delivery must be the same
    run, while the next fire is a new one. Any other request is its event.
    """
    if request.schedule_arn is not None and request.scheduled_time is not None:
        return _fire_key(request.schedule_arn, request.scheduled_time)
    return envelope_id


def _fire_key(schedule_arn: str, scheduled_time: datetime) -> str:
    return f"{schedule_arn}@{scheduled_time.isoformat()}"


@functools.cache
def _fire_fields() -> tuple[TypeAdapter[str], TypeAdapter[datetime]]:
    """Built on first use, like the contract models' validators (a cheap import)."""
    return TypeAdapter(ScheduleArn), TypeAdapter(UtcDatetime)


def _unreadable_request_key(data: object, envelope_id: str) -> str:
    """`request_key` of a request that broke its contract: a fire's schedule and time when
    those two are readable, so a bad saved segment is rejected once per fire too."""
    if isinstance(data, Mapping):
        schedule_arn, scheduled_time = _fire_fields()
        try:
            arn = schedule_arn.validate_python(data.get("schedule_arn"))
            moment = scheduled_time.validate_python(data.get("scheduled_time"))
        except ValidationError:
            return envelope_id
        return _fire_key(arn, moment)
    return envelope_id


def complete_request(
    request: SegmentQueryRequested, envelope: EventBridgeEnvelope, now: datetime
) -> SegmentQueryRequested:
    """The request with metadata: the user's own, or filled from the envelope."""
    key = request_key(request.data, envelope.id)
    return request.completed(
        envelope_id=key,
        occurred_at=envelope.time or now,
        producer=request.requester(envelope.source, request.data.requested_by),
        correlation_id=request.data.run_id or derived_run_id(key),
    )


def answer(
    request: SegmentQueryRequested,
    envelope: EventBridgeEnvelope,
    deployment: Deployment,
    now: datetime,
) -> Outcome:
    """Validate the request's query and target; the event that answers it."""
    completed = complete_request(request, envelope, now)
    assert completed.metadata is not None  # noqa: S101 - complete_request fills it
    request_event_id = completed.metadata.event_id
    run = completed.data
    run_id = run.run_id or derived_run_id(request_key(run, envelope.id))

    targets = deployment.targets
    destination, target_reasons = targets.destination(run)
    target = destination.target if destination else (run.target or targets.default_target)
    policy = deployment.policy.for_vocabulary(targets.vocabulary(target, deployment.policy))
    verdict = validate(run.query, policy)
    reasons = [*verdict.reasons, *target_reasons]
    if reasons or destination is None:
        return _rejected(run_id, run, reasons, request_event_id, now)
    return SegmentQueryValidated.new(
        ValidatedRun(
            run_id=run_id,
            request=run,
            application_id=destination.application_id,
            columns=verdict.columns,
            tables=verdict.tables,
            target=destination.target,
            domain_name=destination.domain_name,
        ),
        correlation_id=run_id,
        causation_id=request_event_id,
        event_id=_outcome_event_id(request_event_id, run_id),
        occurred_at=now,
    )


# --- requests that do not fit the contract ------------------------------------------------


def answer_unreadable(error: EventContractError, now: datetime) -> SegmentQueryRejected | None:
    """A rejection for a SegmentQueryRequested that does not fit its contract.

    None when the message is not such a request at all (not JSON, no envelope id, another
    detail-type): nobody could follow a rejection of it, so it belongs in the DLQ. The error
    carries the event as received and its problems, so nothing is parsed a second time.
    """
    raw = error.raw
    if raw is None or error.detail_type != SegmentQueryRequested.DETAIL_TYPE:
        return None
    envelope_id = raw.get("id")
    if not isinstance(envelope_id, str) or not envelope_id:
        return None
    detail = error.detail
    data = detail.get("data") if detail is not None else None
    metadata = detail.get("metadata") if detail is not None else None

    user_run_id = data.get("run_id") if isinstance(data, Mapping) else None
    run_id = user_run_id if _is_run_id(user_run_id) else None
    key = _unreadable_request_key(data, envelope_id)
    user_event_id = metadata.get("event_id") if isinstance(metadata, Mapping) else None
    request_event_id = (
        user_event_id
        if isinstance(user_event_id, str) and 0 < len(user_event_id) <= 128
        else SegmentQueryRequested.event_id_from(key)
    )
    return _rejected(
        run_id or derived_run_id(key),
        None,
        _contract_reasons(error),
        request_event_id,
        now,
    )


def _contract_reasons(error: EventContractError) -> list[Rejection]:
    reasons = [
        rejection(_code_for(problem), f"{_location(problem.location)}: {problem.message}")
        for problem in error.in_detail()
    ]
    if reasons:
        return reasons
    if isinstance(error, UnknownEventError):
        # A request of a version this validator has no model of: the request as a whole.
        return [rejection(RequestCode.REQUEST_INVALID, str(error))]
    # No problem in the detail: the envelope around it is what the contract refused.
    return [rejection(RequestCode.INVALID_REQUEST, str(error))]


_KIND_BY_ERROR_TYPE = {
    "missing": "MISSING",
    "string_too_long": "TOO_LONG",
    "too_long": "TOO_LONG",
    "string_too_short": "TOO_SHORT",
    "too_short": "TOO_SHORT",
    "string_pattern_mismatch": "INVALID",
}
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")


def _code_for(problem: ContractProblem) -> str:
    """A stable code for one contract error: the field and what is wrong with it.

    `data.query` missing is QUERY_MISSING, too long QUERY_TOO_LONG; `data.run_id` with a bad
    character RUN_ID_INVALID; `data` itself missing REQUEST_MISSING, fields that do not go
    together (or another version) REQUEST_INVALID; an unknown field UNKNOWN_FIELD (its name
    is the user's, so it stays out of the code).
    """
    if problem.kind == "extra_forbidden":
        return RequestCode.UNKNOWN_FIELD
    parts = [str(part) for part in problem.location if not isinstance(part, int)]
    if parts and parts[0] == "data":
        parts = parts[1:]
    field_name = re.sub(r"[^A-Z0-9]+", "_", "_".join(parts).upper()).strip("_") or "REQUEST"
    code = f"{field_name}_{_KIND_BY_ERROR_TYPE.get(problem.kind, 'INVALID')}"
    return code if _CODE.match(code) else RequestCode.INVALID_REQUEST


def _location(loc: Sequence[object]) -> str:
    return ".".join(str(part) for part in loc) or "(request)"


@functools.cache
def _run_id_field() -> TypeAdapter[str]:
    """Built on first use: only a request that broke its contract needs it."""
    return TypeAdapter(RunId)


def _is_run_id(value: object) -> bool:
    try:
        _run_id_field().validate_python(value)
    except ValidationError:
        return False
    return True


# --- the outcome --------------------------------------------------------------------------


def _outcome_event_id(request_event_id: str, run_id: str) -> str:
    # One id whichever way the request is answered: it is answered once.
    return derived_event_id(request_event_id, run_id, "query-validator outcome")


def _rejected(
    run_id: str,
    request: RunRequest | None,
    reasons: list[Rejection],
    request_event_id: str,
    now: datetime,
) -> SegmentQueryRejected:
    def build(listed: list[Rejection]) -> SegmentQueryRejected:
        return SegmentQueryRejected.new(
            RejectedRun(run_id=run_id, request=request, reasons=listed),
            correlation_id=run_id,
            causation_id=request_event_id,
            event_id=_outcome_event_id(request_event_id, run_id),
            occurred_at=now,
        )

    keep = min(len(reasons), MAX_REASONS)
    while True:
        listed = reasons[:keep]
        if keep < len(reasons):
            listed.append(_more_reasons(len(reasons) - keep))
        event = build(listed)
        if keep <= 1 or len(event.detail_json().encode("utf-8")) <= _DETAIL_BUDGET:
            return event
        keep //= 2


def _more_reasons(count: int) -> Rejection:
    return rejection(
        RequestCode.MORE_REASONS,
        f"{count} more reason(s) not listed; fix the ones above and check the query again",
    )
