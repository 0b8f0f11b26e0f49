"""The stack model: a translated template bound to parameters and settings.

`StackModel` answers what CloudFormation would compute for one stack: parameter values
(checked against their declared constraints), conditions, the resources that exist, every
resource's physical id and attributes, resolved properties, outputs, and the order to
create resources in. Physical ids are computed (`naming`), not looked up, so the whole
stack can be resolved before anything exists; the intrinsic functions are in `intrinsics`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from infra.local.template._base import JsonDict, TemplateError
from infra.local.template.intrinsics import INTRINSICS, NO_VALUE, references
from infra.local.template.naming import (
    Identity,
    IdentityInputs,
    NamingRule,
    StackSettings,
    generated_name,
    naming_rule,
)


class StackModel:
    """A translated template bound to a stack: every value CloudFormation would compute.

    Physical ids are computed, not looked up, so the whole stack can be resolved before
    anything exists. Values only known after creation (a KMS key id, a custom resource's
    data) are recorded with `record_identity` as resources get created in `creation_order`.
    """

    def __init__(
        self,
        template: JsonDict,
        *,
        parameters: Mapping[str, Any] | None = None,
        settings: StackSettings | None = None,
    ) -> None:
        self.template = template
        self.settings = settings or StackSettings()
        self._declared_parameters: JsonDict = template.get("Parameters") or {}
        self._parameters = self._bind_parameters(dict(parameters or {}))
        self._condition_cache: dict[str, bool] = {}
        self._identity_cache: dict[str, Identity] = {}
        self._recorded: dict[str, Identity] = {}
        self._resolving: list[str] = []
        all_resources: JsonDict = template.get("Resources") or {}
        self.resources: dict[str, JsonDict] = {
            logical_id: resource
            for logical_id, resource in all_resources.items()
            if "Condition" not in resource or self.condition(resource["Condition"])
        }

    # -- parameters and conditions

    def _bind_parameters(self, supplied: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(supplied) - set(self._declared_parameters))
        if unknown:
            raise TemplateError(f"parameters not declared by the template: {', '.join(unknown)}")
        bound: dict[str, Any] = {}
        for name, declaration in self._declared_parameters.items():
            if name in supplied:
                bound[name] = _check_parameter(name, declaration, supplied[name])
            elif "Default" in declaration:
                bound[name] = _check_parameter(name, declaration, declaration["Default"])
        return bound

    def missing_parameters(self) -> list[str]:
        return [name for name in self._declared_parameters if name not in self._parameters]

    def require_all_parameters(self) -> None:
        missing = self.missing_parameters()
        if missing:
            raise TemplateError(f"parameters without a value or default: {', '.join(missing)}")

    def parameter(self, name: str) -> Any:
        if name not in self._parameters:
            if name in self._declared_parameters:
                raise TemplateError(f"parameter {name} has no value and no default")
            raise TemplateError(f"unknown parameter {name}")
        return self._parameters[name]

    def declares_parameter(self, name: str) -> bool:
        return name in self._declared_parameters

    def condition(self, name: str) -> bool:
        if name not in self._condition_cache:
            conditions: JsonDict = self.template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name}")
            if name in self._resolving:
                raise TemplateError(f"condition {name} refers to itself")
            self._resolving.append(name)
            try:
                value = self.resolve(conditions[name])
            finally:
                self._resolving.pop()
            if not isinstance(value, bool):
                raise TemplateError(f"condition {name} is not a boolean: {value!r}")
            self._condition_cache[name] = value
        return self._condition_cache[name]

    # -- identities

    def identity(self, logical_id: str) -> Identity:
        if logical_id in self._recorded:
            return self._recorded[logical_id]
        if logical_id not in self._identity_cache:
            self._identity_cache[logical_id] = self._compute_identity(logical_id)
        return self._identity_cache[logical_id]

    def record_identity(
        self,
        logical_id: str,
        *,
        ref: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        """Replace computed values with ones only known after creation."""
        current = self.identity(logical_id)
        self._recorded[logical_id] = Identity(
            ref if ref is not None else current.ref, {**current.attributes, **(attributes or {})}
        )

    def physical_id(self, logical_id: str) -> str:
        return self.identity(logical_id).ref

    def physical_name(self, logical_id: str) -> str:
        """The resource's name (for a queue: its name, not the URL its Ref returns)."""
        resource = self._resource(logical_id)
        rule = naming_rule(resource["Type"])
        chosen = self._chosen_name(logical_id, rule)
        if chosen is not None:
            return chosen
        inputs = self._identity_inputs(logical_id, name="")
        return generated_name(
            self.settings.stack_name,
            logical_id,
            max_length=rule.max_length,
            lowercase=rule.lowercase,
            suffix=rule.name_suffix(inputs),
        )

    def attribute(self, logical_id: str, attribute: str) -> Any:
        attributes = self.identity(logical_id).attributes
        if attribute not in attributes:
            resource_type = self._resource(logical_id)["Type"]
            known = ", ".join(sorted(attributes)) or "none"
            raise TemplateError(
                f"Fn::GetAtt {logical_id}.{attribute}: not an attribute the local cloud knows "
                f"for {resource_type} (known: {known})"
            )
        return attributes[attribute]

    def _resource(self, logical_id: str) -> JsonDict:
        if logical_id not in self.resources:
            all_resources = self.template.get("Resources") or {}
            why = "its Condition is false" if logical_id in all_resources else "no such resource"
            raise TemplateError(f"{logical_id} is referenced but {why}")
        return self.resources[logical_id]

    def _chosen_name(self, logical_id: str, rule: NamingRule) -> str | None:
        if rule.name_property is None:
            return None
        value: Any = self._resource(logical_id).get("Properties") or {}
        for key in rule.name_property:
            value = value.get(key) if isinstance(value, dict) else None
        resolved = self._resolve_guarded(logical_id, value)
        return None if resolved is None or resolved is NO_VALUE else str(resolved)

    def _identity_inputs(self, logical_id: str, name: str) -> IdentityInputs:
        properties = self._resource(logical_id).get("Properties") or {}

        def prop(key: str) -> Any:
            value = self._resolve_guarded(logical_id, properties.get(key))
            return None if value is NO_VALUE else value

        return IdentityInputs(
            logical_id=logical_id,
            name=name,
            region=self.settings.region,
            account_id=self.settings.account_id,
            partition=self.settings.partition,
            url_suffix=self.settings.url_suffix,
            prop=prop,
        )

    def _compute_identity(self, logical_id: str) -> Identity:
        rule = naming_rule(self._resource(logical_id)["Type"])
        name = self.physical_name(logical_id)
        return rule.identity(self._identity_inputs(logical_id, name))

    def _resolve_guarded(self, logical_id: str, value: Any) -> Any:
        if logical_id in self._resolving:
            chain = " -> ".join([*self._resolving, logical_id])
            raise TemplateError(f"circular reference while naming resources: {chain}")
        self._resolving.append(logical_id)
        try:
            return self.resolve(value)
        finally:
            self._resolving.pop()

    # -- whole-resource views

    def properties(self, logical_id: str) -> JsonDict:
        """The resource's properties with every intrinsic function resolved."""
        resolved = self.resolve(self._resource(logical_id).get("Properties") or {})
        return resolved if isinstance(resolved, dict) else {}

    def resource_type(self, logical_id: str) -> str:
        return str(self._resource(logical_id)["Type"])

    def outputs(self) -> dict[str, Any]:
        outputs: JsonDict = self.template.get("Outputs") or {}
        return {
            name: self.resolve(output["Value"])
            for name, output in outputs.items()
            if "Condition" not in output or self.condition(output["Condition"])
        }

    def output(self, name: str) -> Any | None:
        """One output, resolving only what it needs (None when the template has none)."""
        output = (self.template.get("Outputs") or {}).get(name)
        if output is None or ("Condition" in output and not self.condition(output["Condition"])):
            return None
        return self.resolve(output["Value"])

    def dependencies(self, logical_id: str) -> set[str]:
        resource = self._resource(logical_id)
        depends_on = resource.get("DependsOn") or []
        found = set([depends_on] if isinstance(depends_on, str) else depends_on)
        found |= set(references(self, resource.get("Properties") or {}))
        return found & set(self.resources)

    def creation_order(self) -> list[str]:
        """Logical ids, dependencies first; template order among independent resources."""
        order: list[str] = []
        state: dict[str, str] = {}

        def visit(logical_id: str, path: tuple[str, ...]) -> None:
            if state.get(logical_id) == "done":
                return
            if state.get(logical_id) == "visiting":
                raise TemplateError(f"circular dependency: {' -> '.join((*path, logical_id))}")
            state[logical_id] = "visiting"
            for dependency in sorted(self.dependencies(logical_id), key=self._template_index):
                visit(dependency, (*path, logical_id))
            state[logical_id] = "done"
            order.append(logical_id)

        for logical_id in self.resources:
            visit(logical_id, ())
        return order

    def _template_index(self, logical_id: str) -> int:
        return list(self.resources).index(logical_id)

    # -- resolution

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic function in `value`; `AWS::NoValue` items disappear."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            function = INTRINSICS.get(key)
            if function is not None:
                return function(self, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}


def _check_parameter(name: str, declaration: JsonDict, value: Any) -> Any:
    """Apply the declared constraints, as CloudFormation does before creating anything."""
    parameter_type = str(declaration.get("Type", "String"))
    if parameter_type.startswith("AWS::SSM::Parameter::Value"):
        raise TemplateError(f"parameter {name}: SSM parameter types need AWS; pass a value")
    if parameter_type == "CommaDelimitedList" or parameter_type.startswith("List<"):
        items = value if isinstance(value, list) else str(value).split(",")
        return [str(item).strip() for item in items]
    text = str(value).lower() if isinstance(value, bool) else str(value)
    description = declaration.get("ConstraintDescription")

    def fail(reason: str) -> TemplateError:
        return TemplateError(f"parameter {name}={text!r}: {description or reason}")

    allowed = declaration.get("AllowedValues")
    if allowed is not None and text not in [str(option) for option in allowed]:
        raise fail(f"must be one of {allowed}")
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, text):
        raise fail(f"must match {pattern}")
    if "MinLength" in declaration and len(text) < int(declaration["MinLength"]):
        raise fail(f"shorter than {declaration['MinLength']}")
    if "MaxLength" in declaration and len(text) > int(declaration["MaxLength"]):
        raise fail(f"longer than {declaration['MaxLength']}")
    if parameter_type == "Number":
        try:
            number = float(text)
        except ValueError:
            raise fail("must be a number") from None
        if "MinValue" in declaration and number < float(declaration["MinValue"]):
            raise fail(f"below {declaration['MinValue']}")
        if "MaxValue" in declaration and number > float(declaration["MaxValue"]):
            raise fail(f"above {declaration['MaxValue']}")
    return text
