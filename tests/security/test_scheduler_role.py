"""The role the stack's schedules fire with: EventBridge Scheduler of this account, for this
stack's schedule group, may put events on this stack's bus and do nothing else.

The bus policy keeps its guarantee with the role in play: no internal source or detail-type
exempts it, so a schedule can ask for a run (a request) but never state a fact of a run.
"""

from __future__ import annotations

import pytest

from contracts import SegmentQueryRequested
from tests.security.test_template_security import (
    SCENARIOS,
    SCHEDULER_ROLE,
    arn,
    function_roles,
    grants,
    of_type,
    role_statements,
    service_trust_problems,
    stack,
)

SCHEDULER = "scheduler.amazonaws.com"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_scheduler_role_trusts_only_scheduler_for_the_stacks_group(scenario: str) -> None:
    model = stack(scenario)
    group = arn(model, "scheduler", f"schedule-group/{model.physical_id('ScheduleGroup')}")
    problems = service_trust_problems(
        model, SCHEDULER_ROLE, SCHEDULER, {group}, "the stack's schedule group"
    )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_scheduler_role_may_only_put_events_on_the_stacks_bus(scenario: str) -> None:
    model = stack(scenario)
    statements = role_statements(model, SCHEDULER_ROLE)
    bus = model.attribute("EventBus", "Arn")
    assert statements, f"{SCHEDULER_ROLE} may do nothing"
    problems = [
        f"{located.where}: {located.effect} {located.actions} on {located.resources}"
        for located in statements
        if located.effect != "Allow"
        or located.actions != ["events:PutEvents"]
        or located.resources != [bus]
        or located.statement.get("Condition")
    ]
    assert not problems, "\n".join(problems)
    # No wildcard sneaks another action in.
    for located in statements:
        for action in ("events:PutRule", "events:PutTargets", "sqs:SendMessage", "iam:PassRole"):
            assert not any(grants(pattern, action) for pattern in located.actions)
    assert not model.properties(SCHEDULER_ROLE).get("ManagedPolicyArns")


def test_no_function_runs_with_the_scheduler_role() -> None:
    model = stack("defaults")
    assert SCHEDULER_ROLE not in function_roles(model).values()


def test_the_bus_policy_exempts_the_scheduler_role_from_no_internal_denial() -> None:
    model = stack("defaults")
    role = model.attribute(SCHEDULER_ROLE, "Arn")
    exempted = {
        model.properties(policy)["Statement"]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
        for policy in of_type(model, "AWS::Events::EventBusPolicy")
    }
    assert role not in exempted
    # The request a schedule publishes is one the bus lets requesters put.
    denied_sources = {
        source
        for policy in of_type(model, "AWS::Events::EventBusPolicy")
        for source in model.properties(policy)["Statement"]["Condition"]["StringEquals"].get(
            "events:source", []
        )
    }
    assert SegmentQueryRequested.SOURCE not in denied_sources


def test_the_stack_outputs_its_schedule_group_and_role() -> None:
    model = stack("defaults")
    assert model.output("ScheduleGroupName") == model.physical_id("ScheduleGroup")
    assert model.output("SchedulerRoleArn") == model.attribute(SCHEDULER_ROLE, "Arn")
