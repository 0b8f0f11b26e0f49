"""CloudFormation's intrinsic functions and pseudo parameters, over a stack that answers them.

Each function (`Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::If`...) takes its
argument in the long JSON form and the stack it is evaluated in, seen through the small
`Stack` protocol: how to resolve a nested value, a parameter, a condition or a resource's
identity is the stack model's business, what each function does with them is this
module's. `references` reads the same syntax the other way round: which resources a value
depends on, so the stack can be created in order.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from infra.local.template._base import JsonDict, TemplateError
from infra.local.template.naming import Identity, StackSettings, stable_uuid


class _NoValue:
    """`AWS::NoValue`: the property or list item disappears."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

PSEUDO_PARAMETERS = [
    "AWS::AccountId",
    "AWS::Region",
    "AWS::Partition",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::URLSuffix",
    "AWS::NotificationARNs",
    "AWS::NoValue",
]
_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


class Stack(Protocol):
    """What the intrinsic functions ask of the stack they are evaluated in.

    `identity` and `attribute` raise a `TemplateError` naming a logical id that is unknown
    or whose Condition is false.
    """

    @property
    def settings(self) -> StackSettings: ...

    @property
    def template(self) -> JsonDict: ...

    def resolve(self, value: Any) -> Any: ...

    def condition(self, name: str) -> bool: ...

    def declares_parameter(self, name: str) -> bool: ...

    def parameter(self, name: str) -> Any: ...

    def identity(self, logical_id: str) -> Identity: ...

    def attribute(self, logical_id: str, attribute: str) -> Any: ...


def pseudo_parameter(settings: StackSettings, name: str) -> Any:
    """The value of `AWS::Region`, `AWS::StackId`... in a stack with these settings."""
    s = settings
    values: dict[str, Any] = {
        "AWS::AccountId": s.account_id,
        "AWS::Region": s.region,
        "AWS::Partition": s.partition,
        "AWS::StackName": s.stack_name,
        "AWS::StackId": (
            f"arn:{s.partition}:cloudformation:{s.region}:{s.account_id}:stack/"
            f"{s.stack_name}/{stable_uuid(s.stack_name)}"
        ),
        "AWS::URLSuffix": s.url_suffix,
        "AWS::NotificationARNs": [],
        "AWS::NoValue": NO_VALUE,
    }
    return values[name]


# --------------------------------------------------------------------------- functions


def _ref(stack: Stack, name: Any) -> Any:
    if not isinstance(name, str):
        raise TemplateError(f"Ref takes a name, got {name!r}")
    if name in PSEUDO_PARAMETERS:
        return pseudo_parameter(stack.settings, name)
    if stack.declares_parameter(name):
        return stack.parameter(name)
    return stack.identity(name).ref


def _get_att(stack: Stack, argument: Any) -> Any:
    if isinstance(argument, str):
        argument = argument.split(".", 1)
    logical_id, attribute = (stack.resolve(part) for part in argument)
    return stack.attribute(logical_id, attribute)


def _sub(stack: Stack, argument: Any) -> str:
    text, variables = (argument, {}) if isinstance(argument, str) else argument
    values = {name: stack.resolve(value) for name, value in variables.items()}

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):  # `${!Literal}` is written out as `${Literal}`
            return "${" + name[1:] + "}"
        if name in values:
            return str(values[name])
        if "." in name and name.split(".", 1)[0] not in PSEUDO_PARAMETERS:
            logical_id, attribute = name.split(".", 1)
            return str(stack.attribute(logical_id, attribute))
        return str(_ref(stack, name))

    return _SUB_VARIABLE.sub(substitute, str(text))


def _join(stack: Stack, argument: Any) -> str:
    delimiter, items = argument
    return str(delimiter).join(str(item) for item in _as_list(stack, items, "Fn::Join"))


def _select(stack: Stack, argument: Any) -> Any:
    index, items = argument
    values = _as_list(stack, items, "Fn::Select")
    position = int(stack.resolve(index))
    if not 0 <= position < len(values):
        raise TemplateError(f"Fn::Select index {position} outside a list of {len(values)}")
    return values[position]


def _split(stack: Stack, argument: Any) -> list[str]:
    delimiter, text = argument
    return str(stack.resolve(text)).split(str(delimiter))


def _if(stack: Stack, argument: Any) -> Any:
    condition, when_true, when_false = argument
    return stack.resolve(when_true if stack.condition(condition) else when_false)


def _equals(stack: Stack, argument: Any) -> bool:
    left, right = (stack.resolve(item) for item in argument)
    return str(left) == str(right)


def _not(stack: Stack, argument: Any) -> bool:
    (value,) = argument
    return not _truth(stack, value)


def _and(stack: Stack, argument: Any) -> bool:
    return all(_truth(stack, item) for item in argument)


def _or(stack: Stack, argument: Any) -> bool:
    return any(_truth(stack, item) for item in argument)


def _truth(stack: Stack, value: Any) -> bool:
    resolved = stack.resolve(value)
    if not isinstance(resolved, bool):
        raise TemplateError(f"a condition function needs a boolean, got {resolved!r}")
    return resolved


def _condition_ref(stack: Stack, name: Any) -> bool:
    return stack.condition(str(name))


def _find_in_map(stack: Stack, argument: Any) -> Any:
    map_name, top_key, second_key = (stack.resolve(item) for item in argument[:3])
    mappings: JsonDict = stack.template.get("Mappings") or {}
    try:
        return mappings[map_name][top_key][second_key]
    except KeyError as error:
        raise TemplateError(
            f"Fn::FindInMap {map_name}/{top_key}/{second_key}: no such entry"
        ) from error


def _import_value(stack: Stack, argument: Any) -> Any:
    raise TemplateError(
        f"Fn::ImportValue {stack.resolve(argument)!r}: the local cloud runs one stack, "
        "so nothing is exported to import; pass the value as a parameter instead"
    )


def _as_list(stack: Stack, value: Any, function: str) -> list[Any]:
    resolved = stack.resolve(value)
    if not isinstance(resolved, list):
        raise TemplateError(f"{function} needs a list, got {resolved!r}")
    return resolved


def _unsupported(function: str) -> Callable[[Stack, Any], Any]:
    def fail(_stack: Stack, _argument: Any) -> Any:
        raise TemplateError(f"{function} is not supported by the local cloud")

    return fail


INTRINSICS: Mapping[str, Callable[[Stack, Any], Any]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::Not": _not,
    "Fn::And": _and,
    "Fn::Or": _or,
    "Condition": _condition_ref,
    "Fn::FindInMap": _find_in_map,
    "Fn::ImportValue": _import_value,
    "Fn::GetAZs": lambda stack, _: [f"{stack.settings.region}{zone}" for zone in "abc"],
    "Fn::Base64": lambda stack, value: base64.b64encode(
        str(stack.resolve(value)).encode()
    ).decode(),
    "Fn::ToJsonString": lambda stack, value: json.dumps(
        stack.resolve(value), separators=(",", ":")
    ),
    "Fn::Length": lambda stack, value: len(_as_list(stack, value, "Fn::Length")),
    "Fn::Cidr": _unsupported("Fn::Cidr"),
    "Fn::Transform": _unsupported("Fn::Transform"),
}


# --------------------------------------------------------------------------- references


def references(stack: Stack, value: Any) -> Iterator[str]:
    """Logical ids a value refers to, following only the taken branch of Fn::If."""
    if isinstance(value, list):
        for item in value:
            yield from references(stack, item)
        return
    if not isinstance(value, dict):
        return
    if len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref" and isinstance(argument, str):
            yield argument
            return
        if function == "Fn::GetAtt":
            parts = argument.split(".", 1) if isinstance(argument, str) else argument
            yield str(parts[0])
            return
        if function == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            for name in _SUB_VARIABLE.findall(text):
                if not name.startswith("!") and name not in variables:
                    yield name.split(".", 1)[0]
            yield from references(stack, variables)
            return
        if function == "Fn::If":
            condition, when_true, when_false = argument
            yield from references(stack, when_true if stack.condition(condition) else when_false)
            return
    for item in value.values():
        yield from references(stack, item)
