"""Contract fuzzing: every handler, fed malformed and random events in the SQS message it
really receives (an EventBridge event as the body), with hypothesis.

Each service runs whole (its handler, logic and adapters) against a stand-in for AWS behind
every boto3 client: it records each call, answers PutEvents, and refuses everything else. The
properties, for one message per invocation:

- nothing escapes the handler but the batch loop's BatchProcessingError, raised when every
  record of a batch failed (SQS then redelivers them, and after maxReceiveCount dead-letters
  them): no crash that a poison message would repeat forever, no other exception;
- a message that breaks its contract fails with the contract error, and touches nothing:
  no DynamoDB, S3, Pinpoint, Athena or SNS call and no event, except where the contract says
  it is answered: the query-validator publishes exactly one SegmentQueryRejected for a broken
  request, and the log-ingester counts and acknowledges an API-call event whose CloudTrail
  record is bad;
- a message that fits its contract, however odd, fails only because AWS refused a call:
  never because the logic choked on it.

The custom resource (catalog-backfill) is fuzzed apart: whatever its properties, CloudFormation
always gets an answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ParamValidationError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from contracts import (
    MAX_ENTRY_BYTES,
    REGISTRY,
    AthenaQueryStateChange,
    CatalogBackfillRequested,
    CloudTrailApiCall,
    EndpointImportCompleted,
    EndpointImportFailed,
    EventBridgeEnvelope,
    EventContractError,
    ImportCheckDue,
    PinpointResourceChanged,
    PinpointResourceResolved,
    S3ObjectCreated,
    ScheduledEvent,
    SegmentQueryFailed,
    SegmentQueryRejected,
    SegmentQueryRequested,
    SegmentQuerySucceeded,
    SegmentQueryValidated,
    entry_size,
)
from contracts.examples import APP_ID, example_event
from services.catalog_backfill import handler as catalog_backfill
from services.catalog_writer import handler as catalog_writer
from services.common.batch import BatchProcessingError, parse_record
from services.common.clients import AwsClients
from services.importer import handler as importer
from services.log_ingester import handler as log_ingester
from services.name_resolver import handler as name_resolver
from services.notifier import handler as notifier
from services.query_runner import handler as query_runner
from services.query_validator import handler as query_validator
from tests.fixtures.functions import service_function
from tests.fixtures.lambda_events import FakeLambdaContext, sqs_batch

ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "fuzzed",
    "EVENT_BUS_NAME": "pinpoint-lake",
    "MONITORED_PROJECT_IDS": APP_ID,
    "CAMPAIGN_JOURNEY_TABLE_NAME": "campaigns-journeys",
    "SEGMENT_TABLE_NAME": "segments",
    "CATALOG_MIRROR_BUCKET_NAME": "catalog-mirror",
    "GLUE_CATALOG": "AwsDataCatalog",
    "GLUE_DATABASE": "due_eventdb",
    "RESULTS_BUCKET_NAME": "results-bucket",
    "ATHENA_WORKGROUP": "pinpoint-lake",
    "QUERY_RUNS_TABLE_NAME": "query-runs",
    "IMPORT_ROLE_ARN": "arn:aws:iam::123456789012:role/pinpoint-import",
    "IMPORT_RUNS_TABLE_NAME": "import-runs",
    "NOTIFICATION_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:runs",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
}
FUZZ = settings(
    max_examples=75,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# ---------------------------------------------------------------------- a stand-in for AWS


class AwsRefusedError(Exception):
    """The stand-in's answer to every call but PutEvents."""


class FakeAws:
    """Every boto3 client the services build talks to this: calls are recorded and answered
    at botocore's before-call event (as botocore's Stubber does), so nothing leaves the test."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.entries: list[dict[str, Any]] = []

    def clear(self) -> None:
        self.calls.clear()
        self.entries.clear()

    def function(self, handler: ModuleType, **ports: Any) -> Any:
        """The handler's function, its service built on a session that talks to this."""
        return service_function(handler, aws=AwsClients(self.session), **ports)

    def session(self) -> boto3.session.Session:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        session.events.register("before-call", self._answer)
        return session

    def _answer(self, model: Any, params: dict[str, Any], **_: Any) -> Any:
        service, operation = model.service_model.service_name, model.name
        self.calls.append((service, operation))
        if (service, operation) == ("events", "PutEvents"):
            entries = json.loads(params["body"])["Entries"]  # the request as serialized
            self.entries.extend(entries)
            answer = {
                "FailedEntryCount": 0,
                "Entries": [{"EventId": f"fake-{n}"} for n, _ in enumerate(entries)],
            }
            response = AWSResponse("https://events.amazonaws.com", 200, HTTPHeaders(), None)
            return response, answer
        raise AwsRefusedError(f"{service}:{operation} refused by the test")

    def writes(self) -> list[tuple[str, str]]:
        return [call for call in self.calls if call != ("events", "PutEvents")]


HANDLERS = (
    log_ingester,
    name_resolver,
    catalog_writer,
    query_validator,
    query_runner,
    importer,
    notifier,
    catalog_backfill,
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> FakeAws:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    return FakeAws()


@dataclass(frozen=True)
class Outcome:
    acknowledged: bool
    error: BaseException | None = None


def deliver(aws: FakeAws, module: ModuleType, body: str) -> Outcome:
    """One message, one invocation: acknowledged, or failed with the record's exception."""
    try:
        answer = aws.function(module)(sqs_batch(body), FakeLambdaContext())
    except BatchProcessingError as error:  # every record failed: SQS redelivers them all
        [failure] = error.failures
        return Outcome(acknowledged=False, error=failure.error)
    assert answer["batchItemFailures"] in ([], [{"itemIdentifier": "m0"}])
    return Outcome(acknowledged=not answer["batchItemFailures"])


def caused_by_refusal(error: BaseException | None) -> bool:
    """Whether AWS refused a call somewhere in the exception's chain: the stand-in, or the
    SDK's own check of AWS's limits (a bucket name S3 could never have sent, say)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, AwsRefusedError | ParamValidationError):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


# ---------------------------------------------------------------------- what to send


@dataclass(frozen=True)
class Service:
    name: str
    handler: ModuleType
    accepts: tuple[type[BaseModel], ...]


SERVICES = (
    Service(
        "log-ingester",
        log_ingester,
        (S3ObjectCreated, CloudTrailApiCall, CatalogBackfillRequested),
    ),
    Service("name-resolver", name_resolver, (PinpointResourceChanged,)),
    Service("catalog-writer", catalog_writer, (PinpointResourceResolved,)),
    Service("query-validator", query_validator, (SegmentQueryRequested,)),
    Service(
        "query-runner",
        query_runner,
        (SegmentQueryValidated, AthenaQueryStateChange, ScheduledEvent),
    ),
    Service("importer", importer, (SegmentQuerySucceeded, ScheduledEvent, ImportCheckDue)),
    Service(
        "notifier",
        notifier,
        (SegmentQueryRejected, SegmentQueryFailed, EndpointImportCompleted, EndpointImportFailed),
    ),
)

_SURROGATES = st.sampled_from(["\ud800", "a\udfffb", "\udbff"])  # lone: UTF-8 cannot encode
_TEXT = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF), max_size=4),
    _SURROGATES,
)
_HUGE = st.sampled_from([5_000, 70_000, 200_000]).map(lambda size: "Ω" * size)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63, max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    _TEXT,
)
JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=10,
)
_DETAIL_TYPES = sorted(
    {getattr(model, "DETAIL_TYPE", "") for model in REGISTRY.models}
    | {"Object Deleted", "", "segmentqueryrequested", "SegmentQueryRequested\u200b"}
)


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, (*path, index))


def _parent(root: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        root = root[step]
    return root


@st.composite
def damaged_detail(draw: st.DrawFn, detail: dict[str, Any]) -> Any:
    """The detail with one to three of: a field removed, a value of the wrong type, an unknown
    field, a huge string; or random JSON in its place."""
    if draw(st.integers(0, 9)) == 0:
        return draw(JSON)
    detail = json.loads(json.dumps(detail))
    for _ in range(draw(st.integers(1, 3))):
        nodes = list(_nodes(detail))
        kind = draw(st.sampled_from(["drop", "retype", "extra", "huge"]))
        if kind == "drop":
            keyed = [path for path, _ in nodes if path and isinstance(path[-1], str)]
            if keyed:
                path = draw(st.sampled_from(keyed))
                del _parent(detail, path)[path[-1]]
        elif kind == "retype":
            inner = [path for path, _ in nodes if path]
            if inner:
                path = draw(st.sampled_from(inner))
                _parent(detail, path)[path[-1]] = draw(JSON)
        elif kind == "extra":
            objects = [value for _, value in nodes if isinstance(value, dict)]
            if objects:
                draw(st.sampled_from(objects))[draw(_TEXT)] = draw(JSON)
        else:
            strings = [path for path, value in nodes if path and isinstance(value, str)]
            if strings:
                path = draw(st.sampled_from(strings))
                _parent(detail, path)[path[-1]] = draw(_HUGE)
    return detail


@st.composite
def damaged_messages(draw: st.DrawFn, service: Service) -> str:
    """An SQS body: one of the service's events, damaged in its detail, its envelope, or both;
    now and then not an event at all."""
    roll = draw(st.integers(0, 19))
    if roll == 0:
        return draw(st.sampled_from(["", "not json", "[1, 2]", "null", '{"detail": {}}']))
    event = example_event(draw(st.sampled_from(service.accepts)))
    if roll < 15:
        event["detail"] = draw(damaged_detail(event["detail"]))
    if roll >= 12:  # the envelope: a wrong detail-type or source, a field missing or mistyped
        field = draw(st.sampled_from(["detail-type", "source", "id", "time", "detail", "account"]))
        if field == "detail-type" and draw(st.booleans()):
            event[field] = draw(st.sampled_from(_DETAIL_TYPES))
        elif draw(st.booleans()):
            event.pop(field, None)
        else:
            event[field] = draw(JSON)
    return json.dumps(event)


def fits_contract(body: str, service: Service) -> EventContractError | None:
    """The contract's verdict, by the parser every handler shares."""
    try:
        parse_record(body, service.accepts)
    except EventContractError as error:
        return error
    return None


def raw_event(body: str) -> dict[str, Any] | None:
    try:
        raw = json.loads(body)
    except ValueError:
        return None
    return raw if isinstance(raw, dict) else None


def answers_broken_request(service: Service, raw: dict[str, Any] | None) -> bool:
    """The validator answers a broken request it can name (docs/ARCHITECTURE.md)."""
    if service.handler is not query_validator or raw is None:
        return False
    envelope_id = raw.get("id")
    return (
        raw.get("detail-type") == SegmentQueryRequested.DETAIL_TYPE
        and isinstance(envelope_id, str)
        and bool(envelope_id)
    )


def counts_bad_api_call(service: Service, raw: dict[str, Any] | None) -> bool:
    """The log-ingester counts an API-call event whose record is bad, if its envelope reads."""
    if service.handler is not log_ingester or raw is None:
        return False
    if raw.get("detail-type") != CloudTrailApiCall.DETAIL_TYPE:
        return False
    try:
        EventBridgeEnvelope.model_validate(raw)
    except ValueError:
        return False
    return True


def check_rejection(fake: FakeAws, raw: dict[str, Any]) -> None:
    """Exactly one SegmentQueryRejected went out, within EventBridge's limit, naming the run."""
    assert fake.writes() == []
    [entry] = fake.entries
    assert (entry["Source"], entry["DetailType"]) == (
        SegmentQueryRejected.SOURCE,
        SegmentQueryRejected.DETAIL_TYPE,
    )
    assert entry_size(entry) <= MAX_ENTRY_BYTES  # type: ignore[arg-type]
    published = {
        "id": "published",
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "detail": json.loads(entry["Detail"]),
    }
    rejected = REGISTRY.parse_as(published, SegmentQueryRejected).detail
    assert rejected.data.request is None
    assert rejected.data.reasons
    detail = raw.get("detail")
    data = detail.get("data") if isinstance(detail, dict) else None
    asked = data.get("run_id") if isinstance(data, dict) else None
    if rejected.data.run_id != asked:
        assert rejected.data.run_id.startswith("run-")  # derived: the asked one was unusable


@pytest.mark.parametrize("service", SERVICES, ids=[service.name for service in SERVICES])
@FUZZ
@given(data=st.data())
def test_a_damaged_message_is_refused_or_answered_and_writes_nothing(
    aws: FakeAws, service: Service, data: st.DataObject
) -> None:
    body = data.draw(damaged_messages(service), label="body")
    aws.clear()

    outcome = deliver(aws, service.handler, body)

    contract_error = fits_contract(body, service)
    raw = raw_event(body)
    event(f"contract error: {type(contract_error).__name__}; acknowledged: {outcome.acknowledged}")
    if contract_error is None:
        # Odd but within the contract: the service may do its work, and fail only where AWS
        # (here, the stand-in) refused it.
        assert outcome.acknowledged or caused_by_refusal(outcome.error), repr(outcome.error)
    elif answers_broken_request(service, raw):
        assert outcome.acknowledged, repr(outcome.error)
        assert raw is not None
        check_rejection(aws, raw)
    elif counts_bad_api_call(service, raw):
        assert outcome.acknowledged, repr(outcome.error)
        assert aws.calls == []
    else:
        assert not outcome.acknowledged  # redelivered, then dead-lettered
        assert isinstance(outcome.error, EventContractError), repr(outcome.error)
        assert aws.calls == []  # no partial write: not even a read


# ---------------------------------------------------------------------- bad beside good


def _good(service: Service) -> dict[str, Any]:
    """An event each service handles by publishing alone (no other AWS call)."""
    if service.handler is name_resolver:
        event = example_event(PinpointResourceChanged)
        event["detail"]["data"]["action"] = "deleted"  # nothing to read from Pinpoint
        return event
    if service.handler is log_ingester:
        return example_event(CloudTrailApiCall)
    return example_event(SegmentQueryRequested)


@pytest.mark.parametrize(
    "service",
    [
        service
        for service in SERVICES
        if service.name in {"log-ingester", "name-resolver", "query-validator"}
    ],
    ids=lambda service: service.name,
)
def test_a_poison_message_fails_alone_and_the_good_one_beside_it_is_handled(
    aws: FakeAws, service: Service
) -> None:
    poison = [
        "not json",
        json.dumps({"detail-type": "Unknown", "source": "x", "id": "1", "detail": {}}),
        json.dumps(_good(service) | {"detail": ["not", "an", "object"]}),
    ]
    answer = aws.function(service.handler)(
        sqs_batch(*poison, json.dumps(_good(service))), FakeLambdaContext()
    )
    failed = [item["itemIdentifier"] for item in answer["batchItemFailures"]]
    if service.handler is query_validator:
        assert failed == ["m0", "m1"]  # the third names a request: it is answered
        assert [entry["DetailType"] for entry in aws.entries] == [
            "SegmentQueryRejected",
            "SegmentQueryValidated",
        ]
    else:
        assert failed == ["m0", "m1", "m2"]
        assert len(aws.entries) == 1  # the good one's event
    assert aws.writes() == []


# ---------------------------------------------------------------------- the custom resource


class Answers:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, url: str, body: dict[str, Any]) -> None:
        self.sent.append((url, body))


@st.composite
def custom_resource_requests(draw: st.DrawFn) -> dict[str, Any]:
    """What CloudFormation sends (its own fields intact), with the properties we control fuzzed."""
    projects = st.one_of(
        JSON,
        st.lists(st.sampled_from([APP_ID, "f" * 32, "not-a-project", " ", "🎉"])).map(", ".join),
    )
    properties = draw(
        st.one_of(
            JSON,
            st.fixed_dictionaries(
                {"ServiceToken": st.just("arn:aws:lambda:us-east-1:123456789012:function:f")},
                optional={"MonitoredProjectIds": projects, "Extra": JSON},
            ),
        )
    )
    request = {
        "RequestType": draw(st.sampled_from(["Create", "Update", "Delete"]) | _TEXT),
        "ResponseURL": "https://cloudformation-custom-resource-response.example/answer",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/lake/1",
        "RequestId": draw(st.uuids()).hex,
        "ResourceType": "Custom::CatalogBackfill",
        "LogicalResourceId": "CatalogBackfill",
        "ResourceProperties": properties,
    }
    if draw(st.booleans()):
        request["OldResourceProperties"] = draw(JSON)
    if draw(st.booleans()):
        request["PhysicalResourceId"] = draw(_TEXT)
    return request


@FUZZ
@given(request=custom_resource_requests())
def test_the_custom_resource_always_answers_cloudformation(
    aws: FakeAws, request: dict[str, Any]
) -> None:
    aws.clear()
    answers = Answers()
    body = aws.function(catalog_backfill, respond=answers)(request, FakeLambdaContext())

    [(url, sent)] = answers.sent  # a stack never waits an hour for an answer that never comes
    assert url == request["ResponseURL"]
    assert sent == body
    assert sent["Status"] in {"SUCCESS", "FAILED"}
    assert (sent["RequestId"], sent["LogicalResourceId"]) == (
        request["RequestId"],
        "CatalogBackfill",
    )
    assert aws.writes() == []
    if sent["Status"] == "FAILED":
        assert aws.entries == []
    else:
        assert [entry["DetailType"] for entry in aws.entries] in (
            [],
            [CatalogBackfillRequested.DETAIL_TYPE],
        )


def test_every_handler_is_fuzzed() -> None:
    fuzzed = {service.handler for service in SERVICES} | {catalog_backfill}
    assert fuzzed == set(HANDLERS)


def _accepted(services: Sequence[Service]) -> set[str]:
    return {getattr(model, "DETAIL_TYPE", "") for service in services for model in service.accepts}


def test_every_event_a_service_consumes_is_fuzzed() -> None:
    names = {service.name for service in SERVICES}
    consumed = {
        getattr(model, "DETAIL_TYPE", "")
        for model in REGISTRY.models
        if names & set(getattr(model, "CONSUMERS", ()))
    }
    assert consumed
    assert consumed <= _accepted(SERVICES)
