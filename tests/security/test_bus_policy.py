"""The bus policy: a fact of the system may be put on the bus only by its producer's role.

Held against the contracts: for every internal (non-request) event, the bus denies
PutEvents of its source and of its detail-type to every principal but the role of the
function that produces it; the requests users publish are not denied.
"""

from __future__ import annotations

from typing import Any

import pytest

from contracts import PROJECT_EVENTS, Event
from tests.security.test_template_security import of_type, stack

FACTS = [model for model in PROJECT_EVENTS if not model.REQUEST]
REQUESTS = [model for model in PROJECT_EVENTS if model.REQUEST]


def _producer_role(model: type[Event]) -> str:
    words = model.producer_name().split("-")
    return "".join(word.title() for word in words) + "FunctionRole"


def _denials() -> list[dict[str, Any]]:
    model = stack("defaults")
    bus = model.attribute("EventBus", "Arn")
    statements = []
    for policy in of_type(model, "AWS::Events::EventBusPolicy"):
        properties = model.properties(policy)
        statement = properties["Statement"]
        assert properties["EventBusName"] == model.physical_id("EventBus")
        assert statement["Effect"] == "Deny"
        assert statement["Principal"] == "*"
        assert statement["Action"] == "events:PutEvents"
        assert statement["Resource"] == bus
        statements.append(statement)
    return statements


def _denied_to_all_but(key: str, value: str) -> set[str]:
    """The principals allowed to put `value` of condition `key` (all others are denied)."""
    allowed: set[str] = set()
    for statement in _denials():
        condition = statement["Condition"]
        if value in condition["StringEquals"].get(key, []):
            allowed.add(condition["ArnNotEquals"]["aws:PrincipalArn"])
    return allowed


@pytest.mark.parametrize("event", FACTS, ids=[model.DETAIL_TYPE for model in FACTS])
def test_only_the_producers_role_may_put_a_fact(event: type[Event]) -> None:
    role = stack("defaults").attribute(_producer_role(event), "Arn")
    assert _denied_to_all_but("events:detail-type", event.DETAIL_TYPE) == {role}
    assert _denied_to_all_but("events:source", event.SOURCE) == {role}


@pytest.mark.parametrize("event", REQUESTS, ids=[model.DETAIL_TYPE for model in REQUESTS])
def test_requests_are_not_denied(event: type[Event]) -> None:
    assert _denied_to_all_but("events:detail-type", event.DETAIL_TYPE) == set()
    assert _denied_to_all_but("events:source", event.SOURCE) == set()
