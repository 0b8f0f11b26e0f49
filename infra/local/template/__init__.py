"""Read a SAM template the way CloudFormation would, without an AWS account.

Three pure steps, each usable on its own, each in its own module:

* `loader`: `load_template` parses YAML with CloudFormation's short tags (`!Ref`,
  `!GetAtt`, `!Sub`...) into the long JSON form (`{"Ref": ...}`, `{"Fn::GetAtt": [...]}`).
* `translation`: `translate_sam` expands `AWS::Serverless::*` into plain CloudFormation with
  the SAM translator, offline, remembering each function's local `CodeUri`.
* `stack`: `StackModel` resolves parameters, conditions and outputs, with the intrinsic
  functions and pseudo parameters of `intrinsics` and the physical names, ARNs and
  Ref/GetAtt values of `naming` (`<stack>-<LogicalId>-<SUFFIX>` names, queue URLs for a
  queue's `Ref`...). The suffix is a stable hash, so reruns produce the same names.

This package re-exports the names callers use, so `from infra.local.template import X`
keeps working.
"""

from infra.local.template._base import JsonDict, TemplateError
from infra.local.template.intrinsics import NO_VALUE
from infra.local.template.loader import load_template, parse_template
from infra.local.template.naming import (
    NAMING_RULES,
    Identity,
    NamingRule,
    StackSettings,
    event_bus_name_of,
    generated_name,
    naming_rule,
    stable_suffix,
    stable_uuid,
)
from infra.local.template.stack import StackModel
from infra.local.template.translation import (
    LOCAL_CODE_BUCKET,
    SERVERLESS_TRANSFORM,
    TranslatedTemplate,
    load_stack_template,
    translate_sam,
)

__all__ = [
    "LOCAL_CODE_BUCKET",
    "NAMING_RULES",
    "NO_VALUE",
    "SERVERLESS_TRANSFORM",
    "Identity",
    "JsonDict",
    "NamingRule",
    "StackModel",
    "StackSettings",
    "TemplateError",
    "TranslatedTemplate",
    "event_bus_name_of",
    "generated_name",
    "load_stack_template",
    "load_template",
    "naming_rule",
    "parse_template",
    "stable_suffix",
    "stable_uuid",
    "translate_sam",
]
