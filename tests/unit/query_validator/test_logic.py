"""query-validator decisions: the outcome event for a request, and for a request that
does not fit its contract."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from contracts import (
    MAX_QUERY_LENGTH,
    REGISTRY,
    EventContractError,
    InvalidEventError,
    ParsedEvent,
    SegmentQueryRejected,
    SegmentQueryRequested,
    SegmentQueryValidated,
    put_events_entry,
)
from services.common.batch import parse_record
from services.query_validator import logic
from services.query_validator.logic import (
    MAX_REASONS,
    Deployment,
    Targets,
    ValidationPolicy,
    answer,
    answer_unreadable,
    complete_request,
    derived_run_id,
)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SENT = datetime(2026, 11, 22, 9, 59, 58, tzinfo=UTC)
PRIMARY = "8b2f6a1c9d3e4f5a6b7c8d9e0f1a2b3c"
SECOND = "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
ELSEWHERE = "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
ENVELOPE_ID = "6a7e8feb-b491-4cf7-a9f1-bf3703467718"
GOOD_QUERY = (
    "SELECT DISTINCT(endpoint_id) AS Id, 'Yes' AS \"User.UserAttributes.HasClicked\"\n"
    "FROM email_click"
)
DEPLOYMENT = Deployment(
    policy=ValidationPolicy(
        catalog="AwsDataCatalog",
        default_database="due_eventdb",
        allowed_databases=frozenset({"due_eventdb"}),
    ),
    targets=Targets(monitored=(PRIMARY, SECOND)),
)


def raw_request(
    data: dict[str, Any],
    *,
    envelope_id: str = ENVELOPE_ID,
    metadata: dict[str, Any] | None = None,
    source: str = "analytics.scheduler",
) -> dict[str, Any]:
    detail: dict[str, Any] = {"data": data}
    if metadata is not None:
        detail["metadata"] = metadata
    return {
        "version": "0",
        "id": envelope_id,
        "detail-type": "SegmentQueryRequested",
        "source": source,
        "time": SENT.isoformat(),
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def parsed(raw: dict[str, Any]) -> ParsedEvent[SegmentQueryRequested]:
    return REGISTRY.parse_as(raw, SegmentQueryRequested)


def answer_to(raw: dict[str, Any], deployment: Deployment = DEPLOYMENT) -> Any:
    request = parsed(raw)
    return answer(request.detail, request.envelope, deployment, NOW)


def contract_error(raw: dict[str, Any]) -> EventContractError:
    with pytest.raises(EventContractError) as caught:
        REGISTRY.parse(raw)
    return caught.value


def test_a_good_query_is_validated_for_the_default_project() -> None:
    validated = answer_to(raw_request({"Query": GOOD_QUERY, "run_id": "clicked-2026-11-22"}))

    assert isinstance(validated, SegmentQueryValidated)
    run = validated.data
    assert run.run_id == "clicked-2026-11-22"
    assert run.application_id == PRIMARY
    assert run.columns == ["Id", "User.UserAttributes.HasClicked"]
    assert run.tables == ["email_click"]
    assert run.request.query == GOOD_QUERY
    assert validated.metadata.correlation_id == "clicked-2026-11-22"
    assert validated.metadata.producer == "query-validator"
    assert validated.metadata.occurred_at == NOW


def test_the_request_may_name_another_monitored_project_but_no_other() -> None:
    second = answer_to(raw_request({"query": GOOD_QUERY, "application_id": SECOND}))
    elsewhere = answer_to(raw_request({"query": GOOD_QUERY, "application_id": ELSEWHERE}))

    assert isinstance(second, SegmentQueryValidated)
    assert second.data.application_id == SECOND
    assert isinstance(elsewhere, SegmentQueryRejected)
    assert [r.code for r in elsewhere.data.reasons] == ["APPLICATION_NOT_MONITORED"]
    assert ELSEWHERE in elsewhere.data.reasons[0].message


def test_the_default_project_can_be_set_apart_from_the_first_monitored() -> None:
    deployment = Deployment(DEPLOYMENT.policy, Targets(monitored=(PRIMARY, SECOND), default=SECOND))
    validated = answer_to(raw_request({"query": GOOD_QUERY}), deployment)

    assert isinstance(validated, SegmentQueryValidated)
    assert validated.data.application_id == SECOND


def test_without_any_project_the_request_is_rejected() -> None:
    deployment = Deployment(DEPLOYMENT.policy, Targets(monitored=()))
    rejected = answer_to(raw_request({"query": GOOD_QUERY}), deployment)

    assert isinstance(rejected, SegmentQueryRejected)
    assert [r.code for r in rejected.data.reasons] == ["NO_APPLICATION"]


def test_a_rejection_lists_every_reason_of_query_and_target() -> None:
    rejected = answer_to(
        raw_request(
            {"query": "SELECT *, count(*) FROM finance.salaries", "application_id": ELSEWHERE}
        )
    )

    assert isinstance(rejected, SegmentQueryRejected)
    assert [r.code for r in rejected.data.reasons] == [
        "SELECT_STAR",
        "UNNAMED_COLUMN",
        "MISSING_ID_COLUMN",
        "DATABASE_NOT_ALLOWED",
        "APPLICATION_NOT_MONITORED",
    ]
    assert rejected.data.request is not None
    assert rejected.data.request.application_id == ELSEWHERE


def test_a_request_without_metadata_gets_it_from_its_envelope() -> None:
    request = parsed(raw_request({"query": GOOD_QUERY, "requested_by": "growth-team"}))
    completed = complete_request(request.detail, request.envelope, NOW)

    assert request.detail.metadata is None
    assert completed.metadata is not None
    assert completed.metadata.occurred_at == SENT
    assert completed.metadata.producer == "pinpoint-lake.user/growth-team"
    assert completed.metadata.correlation_id == derived_run_id(ENVELOPE_ID)
    assert completed.data == request.detail.data
    again = complete_request(request.detail, request.envelope, NOW)
    assert again.metadata is not None
    assert again.metadata.event_id == completed.metadata.event_id


def test_the_producer_names_the_publishing_source_when_nobody_signed() -> None:
    scheduled = parsed(raw_request({"query": GOOD_QUERY}))
    own = parsed(raw_request({"query": GOOD_QUERY}, source="pinpoint-lake.user"))

    filled = complete_request(scheduled.detail, scheduled.envelope, NOW).metadata
    plain = complete_request(own.detail, own.envelope, NOW).metadata

    assert filled is not None
    assert filled.producer == "pinpoint-lake.user/analytics.scheduler"
    assert plain is not None
    assert plain.producer == "pinpoint-lake.user"


def test_redelivery_answers_with_the_same_run_and_event_ids() -> None:
    raw = raw_request({"query": GOOD_QUERY})

    first, again = answer_to(raw), answer_to(raw)
    next_firing = answer_to(raw_request({"query": GOOD_QUERY}, envelope_id="another-delivery"))

    assert first.data.run_id == again.data.run_id == derived_run_id(ENVELOPE_ID)
    assert first.event_id == again.event_id
    # A schedule that publishes the same detail again is a new run.
    assert next_firing.data.run_id != first.data.run_id
    assert next_firing.event_id != first.event_id


SCHEDULE_ARN = "arn:aws:scheduler:us-east-1:123456789012:schedule/lake-segments/clicked"


def fired(scheduled_time: str, *, envelope_id: str, **extra: Any) -> dict[str, Any]:
    """A schedule's fire as Scheduler delivers it: context attributes substituted."""
    data = {
        "query": GOOD_QUERY,
        "schedule_arn": SCHEDULE_ARN,
        "scheduled_time": scheduled_time,
        "sync_key": "clicked",
        **extra,
    }
    return raw_request(data, envelope_id=envelope_id, source="pinpoint-lake.user")


def test_a_fire_delivered_twice_is_one_run_and_the_next_fire_another() -> None:
    # Each delivery is a new PutEvents, so a new envelope id; the fire is what counts.
    first = answer_to(fired("2026-11-22T10:00:00Z", envelope_id="delivery-1"))
    retried = answer_to(fired("2026-11-22T10:00:00Z", envelope_id="delivery-2"))
    next_fire = answer_to(fired("2026-11-22T11:00:00Z", envelope_id="delivery-3"))
    other_schedule = answer_to(
        fired(
            "2026-11-22T10:00:00Z",
            envelope_id="delivery-4",
            schedule_arn=SCHEDULE_ARN.replace("clicked", "opened"),
        )
    )

    assert isinstance(first, SegmentQueryValidated)
    assert first.data.run_id == retried.data.run_id
    assert first.event_id == retried.event_id  # consumers drop the repeat at once
    assert first.metadata.causation_id == retried.metadata.causation_id
    assert len({first.data.run_id, next_fire.data.run_id, other_schedule.data.run_id}) == 3
    assert first.data.run_id.startswith("run-")
    assert len(first.data.run_id) <= 64
    assert first.data.request.sync_key == "clicked"


def test_a_broken_fire_delivered_twice_is_one_rejected_run() -> None:
    bad = {"sync_key": "no/slashes"}
    first = answer_unreadable(
        contract_error(fired("2026-11-22T10:00:00Z", envelope_id="d-1", **bad)), NOW
    )
    again = answer_unreadable(
        contract_error(fired("2026-11-22T10:00:00Z", envelope_id="d-2", **bad)), NOW
    )
    later = answer_unreadable(
        contract_error(fired("2026-11-22T11:00:00Z", envelope_id="d-3", **bad)), NOW
    )

    assert first is not None
    assert again is not None
    assert later is not None
    assert first.data.run_id == again.data.run_id != later.data.run_id
    assert first.event_id == again.event_id
    # The same fire read well or not names the same run.
    good = answer_to(fired("2026-11-22T10:00:00Z", envelope_id="d-4"))
    assert good.data.run_id == first.data.run_id


def test_a_fire_names_the_same_moment_however_its_time_is_written() -> None:
    utc = answer_to(fired("2026-11-22T10:00:00Z", envelope_id="a"))
    offset = answer_to(fired("2026-11-22T11:00:00+01:00", envelope_id="b"))

    assert utc.data.run_id == offset.data.run_id


def test_a_run_id_the_schedule_gives_wins_over_the_derived_one() -> None:
    named = answer_to(fired("2026-11-22T10:00:00Z", envelope_id="a", run_id="nightly-1"))

    assert named.data.run_id == "nightly-1"


@pytest.mark.parametrize(
    ("data", "codes"),
    [
        ({"schedule_arn": SCHEDULE_ARN}, ["REQUEST_INVALID"]),
        ({"scheduled_time": "2026-11-22T10:00:00Z"}, ["REQUEST_INVALID"]),
        (
            {"schedule_arn": SCHEDULE_ARN, "scheduled_time": "<aws.scheduler.scheduled-time>"},
            ["SCHEDULED_TIME_INVALID"],
        ),
        (
            {"schedule_arn": "<aws.scheduler.schedule-arn>", "scheduled_time": "2026-11-22T10:00Z"},
            ["SCHEDULE_ARN_INVALID"],
        ),
        ({"sync_key": "a/b"}, ["SYNC_KEY_INVALID"]),
    ],
)
def test_a_fire_whose_context_was_not_filled_in_is_rejected(
    data: dict[str, Any], codes: list[str]
) -> None:
    rejected = answer_unreadable(contract_error(raw_request({"query": GOOD_QUERY, **data})), NOW)

    assert rejected is not None
    assert [reason.code for reason in rejected.data.reasons] == codes


def test_the_outcome_answers_the_request_event() -> None:
    user_metadata = {
        "event_id": "user-event-1",
        "version": "1",
        "occurred_at": SENT.isoformat(),
        "producer": "analyst-notebook",
        "correlation_id": "anything",
    }
    validated = answer_to(raw_request({"query": GOOD_QUERY}, metadata=user_metadata))
    plain = answer_to(raw_request({"query": GOOD_QUERY}))

    assert validated.metadata.causation_id == "user-event-1"
    assert validated.metadata.correlation_id == validated.data.run_id
    filled = parsed(raw_request({"query": GOOD_QUERY}))
    completed = complete_request(filled.detail, filled.envelope, NOW).metadata
    assert completed is not None
    assert plain.metadata.causation_id == completed.event_id


def test_run_ids_derived_from_envelopes_fit_the_contract() -> None:
    run_id = derived_run_id("any envelope id, whatever its shape")

    assert run_id == derived_run_id("any envelope id, whatever its shape")
    assert run_id.startswith("run-")
    assert len(run_id) <= 64


@pytest.mark.parametrize(
    ("data", "codes"),
    [
        ({"segment_name": "Clicked"}, ["QUERY_MISSING"]),
        ({"query": "x" * (MAX_QUERY_LENGTH + 1)}, ["QUERY_TOO_LONG"]),
        ({"query": "   "}, ["QUERY_INVALID"]),
        ({"query": GOOD_QUERY, "run_id": "bad run id!"}, ["RUN_ID_INVALID"]),
        ({"query": GOOD_QUERY, "application_id": "PROJECT"}, ["APPLICATION_ID_INVALID"]),
        ({"query": GOOD_QUERY, "segment_name": "a", "segment_id": SECOND}, ["REQUEST_INVALID"]),
        ({"query": GOOD_QUERY, "limit": 10}, ["UNKNOWN_FIELD"]),
        ({"query": GOOD_QUERY, "mirror": True}, ["REQUEST_INVALID"]),
        ({"query": GOOD_QUERY, "sync_key": "a saved segment"}, ["SYNC_KEY_INVALID"]),
        ({"query": 42, "dry_run": "maybe"}, ["QUERY_INVALID", "DRY_RUN_INVALID"]),
    ],
)
def test_a_request_that_breaks_its_contract_is_rejected_with_coded_reasons(
    data: dict[str, Any], codes: list[str]
) -> None:
    raw = raw_request(data)

    rejected = answer_unreadable(contract_error(raw), NOW)

    assert isinstance(rejected, SegmentQueryRejected)
    assert rejected.data.request is None
    assert [r.code for r in rejected.data.reasons] == codes
    assert all(r.message.startswith("data") for r in rejected.data.reasons) or codes == [
        "REQUEST_INVALID"
    ]
    assert rejected.data.run_id == derived_run_id(ENVELOPE_ID)
    assert rejected.metadata.correlation_id == rejected.data.run_id
    assert rejected == answer_unreadable(contract_error(raw), NOW)  # redelivery


def test_an_unreadable_request_keeps_a_valid_run_id_and_event_id_of_its_own() -> None:
    raw = raw_request(
        {"run_id": "my-run-7"},
        metadata={"event_id": "user-event-9", "version": "1", "producer": "notebook"},
    )

    rejected = answer_unreadable(contract_error(raw), NOW)

    assert rejected is not None
    assert rejected.data.run_id == "my-run-7"  # the requester can follow the run it named
    assert rejected.metadata.causation_id == "user-event-9"
    codes = {r.code for r in rejected.data.reasons}
    assert {"QUERY_MISSING", "METADATA_OCCURRED_AT_MISSING"} <= codes


def test_a_request_of_another_version_is_rejected_too() -> None:
    raw = raw_request(
        {"query": GOOD_QUERY},
        metadata={
            "event_id": "e-2",
            "version": "2",
            "occurred_at": SENT.isoformat(),
            "producer": "p",
            "correlation_id": "c",
        },
    )

    rejected = answer_unreadable(contract_error(raw), NOW)

    assert rejected is not None
    assert [r.code for r in rejected.data.reasons] == ["REQUEST_INVALID"]
    assert "version" in rejected.data.reasons[0].message


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {"id": "e-1", "detail-type": "SegmentQueryValidated", "detail": {}},
        {"detail-type": "SegmentQueryRequested", "detail": {"data": {}}},
        {"id": "", "detail-type": "SegmentQueryRequested", "detail": {"data": {}}},
    ],
)
def test_what_is_not_a_request_is_left_to_the_dlq(raw: dict[str, Any] | None) -> None:
    assert answer_unreadable(InvalidEventError("broken", raw=raw), NOW) is None


def test_an_envelope_problem_is_reported_as_such() -> None:
    raw = raw_request({"query": GOOD_QUERY})
    raw["detail"] = "not an object"
    error = contract_error(raw)

    rejected = answer_unreadable(error, NOW)

    assert rejected is not None
    assert rejected.data.reasons[0].code in {"REQUEST_INVALID", "INVALID_REQUEST"}


def test_the_body_of_a_broken_message_is_parsed_like_the_handler_does() -> None:
    body = '{"id": "e-1", "detail-type": "SegmentQueryRequested", "source": "s", "detail": {}}'

    with pytest.raises(EventContractError) as caught:
        parse_record(body, [SegmentQueryRequested])

    rejected = answer_unreadable(caught.value, NOW)
    assert rejected is not None
    assert [r.code for r in rejected.data.reasons] == ["REQUEST_MISSING"]


def test_a_rejection_with_countless_reasons_still_fits_one_event() -> None:
    # Hundreds of bad columns, and a comment of control characters that JSON escapes to six
    # bytes each: the query alone takes most of an entry.
    columns = ", ".join(f'{i} AS "Nope.{"x" * 100}{i}"' for i in range(200))
    query = f"SELECT {columns} FROM email_open -- "  # noqa: S608 - test data
    query += "\x01" * (MAX_QUERY_LENGTH - len(query))

    rejected = answer_to(raw_request({"query": query}))

    assert isinstance(rejected, SegmentQueryRejected)
    reasons = rejected.data.reasons
    assert len(reasons) <= MAX_REASONS + 1
    assert "UNKNOWN_COLUMN" in {reason.code for reason in reasons}
    assert reasons[-1].code == "MORE_REASONS"
    assert put_events_entry(rejected, event_bus_name="bus")  # raises when too large


def test_reasons_are_cut_to_what_fits_the_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logic, "_DETAIL_BUDGET", 12_000)
    columns = ", ".join(f'{i} AS "Nope{i}"' for i in range(60))
    query = f"SELECT {columns} FROM email_open"  # noqa: S608 - test data

    rejected = answer_to(raw_request({"query": query}))

    assert isinstance(rejected, SegmentQueryRejected)
    assert len(rejected.detail_json().encode()) <= 12_000
    listed, summary = rejected.data.reasons[:-1], rejected.data.reasons[-1]
    assert 1 <= len(listed) < 61
    assert summary.code == "MORE_REASONS"
    assert summary.message.startswith(f"{61 - len(listed)} more reason(s)")


def test_a_mirrored_pinpoint_segment_is_refused_as_its_leavers_would_join_it() -> None:
    request = {"query": GOOD_QUERY, "sync_key": "vip", "mirror": True, "segment_name": "VIP"}
    rejected = answer_to(raw_request(request))
    assert isinstance(rejected, SegmentQueryRejected)
    (reason,) = rejected.data.reasons
    assert reason.code == "NOT_FOR_TARGET"
    assert "leavers a mirror clears would join it" in reason.message

    kept = {"query": GOOD_QUERY, "sync_key": "vip", "mirror": True}
    validated = answer_to(raw_request(kept))
    assert isinstance(validated, SegmentQueryValidated)
    assert (validated.data.request.sync_key, validated.data.request.mirror) == ("vip", True)
