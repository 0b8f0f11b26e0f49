"""Read template YAML with CloudFormation's short tags into the long (JSON) form.

`!Ref X` becomes `{"Ref": "X"}`, `!GetAtt Queue.Arn` becomes `{"Fn::GetAtt": ["Queue",
"Arn"]}` and so on, so everything after loading sees one form whatever the author wrote.
Loading resolves nothing: that is the stack model's job.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from infra.local.template._base import JsonDict, TemplateError


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that also understands CloudFormation's short-form tags."""


def _long_form(function: str) -> Callable[[yaml.SafeLoader, yaml.Node], JsonDict]:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> JsonDict:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if function == "Fn::GetAtt":  # `!GetAtt Queue.Arn` is `["Queue", "Arn"]`
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {function: value}

    return construct


_SHORT_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in [
            "And",
            "Base64",
            "Cidr",
            "Equals",
            "FindInMap",
            "GetAZs",
            "GetAtt",
            "If",
            "ImportValue",
            "Join",
            "Length",
            "Not",
            "Or",
            "Select",
            "Split",
            "Sub",
            "ToJsonString",
            "Transform",
        ]
    },
}
for _tag, _function in _SHORT_TAGS.items():
    _CloudFormationLoader.add_constructor(f"!{_tag}", _long_form(_function))


def parse_template(text: str) -> JsonDict:
    """Parse template YAML (or JSON) text into its long (JSON) form."""
    document = yaml.load(text, Loader=_CloudFormationLoader)  # noqa: S506 - SafeLoader subclass
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError("a template is a mapping with a Resources section")
    return document


def load_template(path: Path) -> JsonDict:
    return parse_template(path.read_text(encoding="utf-8"))
