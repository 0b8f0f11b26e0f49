"""Each function's routes against the rules of the template that feed it.

A function's routes say which contract models it handles; the template's rules say which
events reach its queue. The two must agree: a rule delivering a detail-type no route takes
dead-letters every such event, and a route no rule feeds is code that never runs. The one
other way onto a queue is a function's own note to itself (the importer's delayed
ImportCheckDue): a fact of its own service, sent only because its role may SendMessage to
its own queue and to no other.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel

from contracts import ScheduledEvent
from infra.local.template import StackModel
from services.common.function import LambdaFunction
from tests.security.test_template_security import of_type, stack


@dataclass(frozen=True)
class Delivery:
    """What one rule delivers: detail-types, and the sources it allows (None: any)."""

    rule: str
    detail_types: frozenset[str]
    sources: tuple[Any, ...] | None


def _function_of(handler: str) -> LambdaFunction[Any, Any]:
    module_name, _, attribute = handler.rpartition(".")
    function = getattr(importlib.import_module(module_name), attribute)
    assert isinstance(function, LambdaFunction), f"{handler} is not built from a composition root"
    return function


def _queues_of(model: StackModel, function_id: str) -> set[str]:
    function_arn = model.attribute(function_id, "Arn")
    function_name = model.physical_id(function_id)
    queues = set()
    for mapping in of_type(model, "AWS::Lambda::EventSourceMapping"):
        properties = model.properties(mapping)
        if properties.get("FunctionName") in {function_arn, function_name}:
            queues.add(properties["EventSourceArn"])
    return queues


def _deliveries(model: StackModel, queue_arns: set[str]) -> Iterator[Delivery]:
    for rule in of_type(model, "AWS::Events::Rule"):
        properties = model.properties(rule)
        if not {target["Arn"] for target in properties.get("Targets", [])} & queue_arns:
            continue
        if "ScheduleExpression" in properties:
            yield Delivery(rule, frozenset({ScheduledEvent.DETAIL_TYPE}), (ScheduledEvent.SOURCE,))
            continue
        pattern = properties["EventPattern"]
        sources = pattern.get("source")
        yield Delivery(
            rule, frozenset(pattern["detail-type"]), None if sources is None else tuple(sources)
        )


def _sends_only_to(model: StackModel, function_id: str, queue_arns: set[str]) -> bool:
    """Whether the function's role may SendMessage to its own queues, and only to them."""
    role_arn = model.properties(function_id)["Role"]
    granted: list[Any] = []
    for role in of_type(model, "AWS::IAM::Role"):
        if model.attribute(role, "Arn") != role_arn:
            continue
        for policy in model.properties(role).get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = statement.get("Action", [])
                if "sqs:SendMessage" in ([actions] if isinstance(actions, str) else actions):
                    resources = statement.get("Resource", [])
                    granted += [resources] if isinstance(resources, str) else resources
    return bool(granted) and set(granted) <= queue_arns


def _matches(source: str, allowed: Any) -> bool:
    if isinstance(allowed, dict):
        return "prefix" in allowed and source.startswith(str(allowed["prefix"]))
    return bool(source == allowed)


@functools.cache
def _functions() -> list[tuple[str, str]]:
    model = stack("defaults")
    return [
        (logical_id, model.properties(logical_id)["Handler"])
        for logical_id in of_type(model, "AWS::Lambda::Function")
    ]


def _queue_fed() -> list[Any]:
    model = stack("connect")
    return [
        pytest.param(logical_id, handler, id=logical_id)
        for logical_id, handler in _functions()
        if _queues_of(model, logical_id)
    ]


def test_every_function_is_built_from_a_composition_root() -> None:
    assert _functions()
    for _, handler in _functions():
        _function_of(handler)


@pytest.mark.parametrize(("function_id", "handler"), _queue_fed())
def test_the_rules_of_a_function_deliver_exactly_what_its_routes_take(
    function_id: str, handler: str
) -> None:
    model = stack("connect")  # every rule exists: the Connect rules are conditional
    routes = _function_of(handler).routes
    assert routes is not None, f"{function_id} is fed by a queue but has no routes"
    routed: dict[str, type[BaseModel]] = {
        getattr(route_model, "DETAIL_TYPE"): route_model  # noqa: B009 - every contract has one
        for route_model in routes.accepts
    }
    queues = _queues_of(model, function_id)
    deliveries = list(_deliveries(model, queues))

    delivered = set().union(*(delivery.detail_types for delivery in deliveries))
    service = handler.split(".")[1].replace("_", "-")
    self_sent = {
        detail_type
        for detail_type, contract in routed.items()
        if detail_type not in delivered
        and getattr(contract, "SOURCE", None) == f"pinpoint-lake.{service}"
    }
    if self_sent:
        assert _sends_only_to(model, function_id, queues), (
            f"{function_id} routes {self_sent}, which no rule delivers and it cannot send itself"
        )
    routed_ = set(routed)
    assert delivered | self_sent == routed_, (
        f"{function_id}: rules deliver {delivered}, routes {routed}"
    )
    for delivery in deliveries:
        for detail_type in delivery.detail_types:
            contract = routed[detail_type]
            source = getattr(contract, "SOURCE", None)
            sources: tuple[str, ...] = getattr(contract, "SOURCES", (str(source),))
            if delivery.sources is not None:
                assert source is not None
                # Every source the rule lets through is one the model comes from.
                for allowed in delivery.sources:
                    assert any(_matches(each, allowed) for each in sources), (
                        f"{delivery.rule} lets {allowed} through, "
                        f"{detail_type} comes from {sources}"
                    )


def test_a_function_called_another_way_has_no_routes() -> None:
    model = stack("defaults")
    others = [
        handler for function_id, handler in _functions() if not _queues_of(model, function_id)
    ]
    assert others, "the custom resource's function is not fed by a queue"
    assert all(_function_of(handler).routes is None for handler in others)
