"""query-validator on two targets: a request names pinpoint or connect (or gets the
deployment's default); the same query is checked against the target's column mapping, and
what the target cannot take is refused with a reason that names it."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import EngagementTarget, SegmentQueryRejected, SegmentQueryValidated
from services.common.settings import SettingsError
from services.common.targets.connect.imports import CONNECT_IMPORTS
from services.query_validator.logic import Deployment, Targets, ValidationPolicy, validate
from services.query_validator.settings import Settings
from tests.unit.query_validator.test_logic import (
    DEPLOYMENT,
    GOOD_QUERY,
    PRIMARY,
    SECOND,
    answer_to,
    raw_request,
)

DOMAIN = "pinpoint-lake-profiles"
BOTH = Deployment(DEPLOYMENT.policy, Targets(monitored=(PRIMARY, SECOND), connect_domain=DOMAIN))
CONNECT_DEFAULT = Deployment(
    DEPLOYMENT.policy,
    Targets(monitored=(PRIMARY,), connect_domain=DOMAIN, default_target=EngagementTarget.CONNECT),
)
CONNECT = ValidationPolicy(vocabulary=CONNECT_IMPORTS).for_vocabulary(CONNECT_IMPORTS)


def codes(outcome: Any) -> list[str]:
    assert isinstance(outcome, SegmentQueryRejected)
    return [reason.code for reason in outcome.data.reasons]


def test_a_connect_request_is_validated_for_the_domain_without_a_project() -> None:
    validated = answer_to(raw_request({"query": GOOD_QUERY, "target": "connect"}), BOTH)

    assert isinstance(validated, SegmentQueryValidated)
    assert validated.data.target is EngagementTarget.CONNECT
    assert validated.data.domain_name == DOMAIN
    assert validated.data.application_id is None
    assert validated.data.request.target is EngagementTarget.CONNECT


def test_without_a_target_the_deployment_default_is_used() -> None:
    pinpoint = answer_to(raw_request({"query": GOOD_QUERY}), BOTH)
    connect = answer_to(raw_request({"query": GOOD_QUERY}), CONNECT_DEFAULT)
    named = answer_to(raw_request({"query": GOOD_QUERY, "target": "pinpoint"}), CONNECT_DEFAULT)

    assert isinstance(pinpoint, SegmentQueryValidated)
    assert (pinpoint.data.target, pinpoint.data.application_id) == ("pinpoint", PRIMARY)
    assert isinstance(connect, SegmentQueryValidated)
    assert (connect.data.target, connect.data.domain_name) == ("connect", DOMAIN)
    assert isinstance(named, SegmentQueryValidated)
    assert named.data.application_id == PRIMARY


def test_a_target_that_is_off_is_refused_with_a_reason() -> None:
    rejected = answer_to(raw_request({"query": GOOD_QUERY, "target": "connect"}))

    assert codes(rejected) == ["TARGET_OFF"]
    assert isinstance(rejected, SegmentQueryRejected)
    assert "CustomerProfilesDomainName" in rejected.data.reasons[0].message


def test_pinpoint_only_request_fields_are_refused_on_connect() -> None:
    rejected = answer_to(
        raw_request(
            {
                "query": GOOD_QUERY,
                "target": "connect",
                "application_id": PRIMARY,
                "segment_id": SECOND,
            }
        ),
        BOTH,
    )
    bad_name = answer_to(
        raw_request({"query": GOOD_QUERY, "target": "connect", "segment_name": "Clicked users"}),
        BOTH,
    )

    assert codes(rejected) == ["NOT_FOR_TARGET", "NOT_FOR_TARGET"]
    assert codes(bad_name) == ["SEGMENT_NAME_INVALID"]


@pytest.mark.parametrize(
    "column",
    ["ChannelType", "OptOut", "User.UserId", "Location.Latitude", "Demographic.Platform"],
)
def test_a_column_connect_cannot_take_is_refused_naming_connect(column: str) -> None:
    sql = f'SELECT endpoint_id AS "Id", \'x\' AS "{column}" FROM email_open'  # noqa: S608

    pinpoint = validate(sql, ValidationPolicy())
    connect = validate(sql, CONNECT)

    assert pinpoint.accepted
    assert connect.codes == ["UNKNOWN_COLUMN"]
    assert "cannot be imported into Connect" in connect.reasons[0].message


def test_the_same_query_runs_on_both_targets_through_the_mapping() -> None:
    sql = (
        'SELECT endpoint_id AS "Id", email AS "Address", plan AS "Attributes.Plan", '
        'clicked AS "User.UserAttributes.HasClicked", score AS "Metrics.Score", '
        'city AS "Location.City", region AS "Location.Region" FROM crm_contacts'
    )

    assert validate(sql, ValidationPolicy()).accepted
    assert validate(sql, CONNECT).accepted


def test_connect_attribute_names_fit_upload_field_names_and_hold_one_value() -> None:
    spaced = validate('SELECT id AS "Id", 1 AS "Attributes.Plan Tier" FROM t', CONNECT)
    name = "n" * 54
    long = validate(f'SELECT id AS "Id", 1 AS "Attributes.{name}" FROM t', CONNECT)  # noqa: S608
    twice = validate(
        'SELECT id AS "Id", 1 AS "Attributes.Plan", 2 AS "User.UserAttributes.Plan" FROM t',
        CONNECT,
    )

    assert spaced.codes == ["ATTRIBUTE_NAME_INVALID"]
    assert "Connect" in spaced.reasons[0].message
    assert long.codes == ["ATTRIBUTE_NAME_TOO_LONG"]
    assert twice.codes == ["DUPLICATE_COLUMN"]
    assert "both write Attributes.Plan on Connect" in twice.reasons[0].message
    # Pinpoint takes all three
    assert validate('SELECT id AS "Id", 1 AS "Attributes.Plan Tier" FROM t').accepted


def test_settings_read_the_default_target_and_the_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENT_BUS_NAME", "bus")
    monkeypatch.setenv("MONITORED_PROJECT_IDS", PRIMARY)
    monkeypatch.setenv("CUSTOMER_PROFILES_DOMAIN_NAME", "")
    off = Settings.from_environment().deployment().targets
    monkeypatch.setenv("CUSTOMER_PROFILES_DOMAIN_NAME", DOMAIN)
    monkeypatch.setenv("DEFAULT_TARGET", "connect")
    on = Settings.from_environment().deployment().targets

    assert (off.connect_domain, off.default_target) == (None, EngagementTarget.PINPOINT)
    assert (on.connect_domain, on.default_target) == (DOMAIN, EngagementTarget.CONNECT)
    monkeypatch.setenv("CUSTOMER_PROFILES_DOMAIN_NAME", "")
    with pytest.raises(SettingsError, match="DEFAULT_TARGET connect needs"):
        Settings.from_environment()
