"""Expand SAM (`AWS::Serverless::*`) into plain CloudFormation, offline.

The SAM translator needs no AWS call here, but it insists on `s3://` code locations; the
local runtime needs the opposite, each function's code directory on this machine. This
module stands between the two: it swaps local `CodeUri`s for a placeholder, translates,
and hands back the plain template with the directories kept aside.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from infra.local.template._base import JsonDict, TemplateError
from infra.local.template.loader import load_template

SERVERLESS_TRANSFORM = "AWS::Serverless-2016-10-31"
# SAM only accepts S3 code locations; local CodeUris are swapped for this placeholder.
LOCAL_CODE_BUCKET = "local-cloud-code"


@dataclass(frozen=True)
class TranslatedTemplate:
    """Plain CloudFormation, plus where each function's code lives on this machine."""

    resources_template: JsonDict
    code_paths: Mapping[str, Path]  # function logical id -> local CodeUri directory


def translate_sam(template: JsonDict, *, template_dir: Path, region: str) -> TranslatedTemplate:
    """Expand SAM resources into CloudFormation offline (no AWS call, no credentials).

    SAM insists on `s3://` code locations, so each local `CodeUri` is replaced by a
    placeholder before translating and kept aside for the local runtime.
    """
    if not _uses_sam(template):
        return TranslatedTemplate(copy.deepcopy(template), {})
    sam = copy.deepcopy(template)
    global_code = sam.get("Globals", {}).get("Function", {}).pop("CodeUri", None)
    code_paths: dict[str, Path] = {}
    for logical_id, resource in sam["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.setdefault("Properties", {})
        code_uri = properties.get("CodeUri", global_code)
        if properties.get("InlineCode") is not None:
            continue
        if not isinstance(code_uri, str):
            raise TemplateError(f"{logical_id}: CodeUri must be a local path or s3:// URI")
        if not code_uri.startswith("s3://"):
            code_paths[logical_id] = (template_dir / code_uri).resolve()
            code_uri = f"s3://{LOCAL_CODE_BUCKET}/{logical_id}.zip"
        properties["CodeUri"] = code_uri
    return TranslatedTemplate(_run_sam_translator(sam, region), code_paths)


def _uses_sam(template: JsonDict) -> bool:
    transform = template.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    return SERVERLESS_TRANSFORM in transforms


def _run_sam_translator(sam: JsonDict, region: str) -> JsonDict:
    # `samtranslator.translator.transform.transform` takes the region from the ambient boto3
    # session; the Translator it wraps accepts an explicit session, so no env is needed.
    import boto3  # noqa: PLC0415 - only needed when translating
    from samtranslator.model.exceptions import InvalidDocumentException  # noqa: PLC0415
    from samtranslator.parser.parser import Parser  # noqa: PLC0415
    from samtranslator.translator.translator import Translator  # noqa: PLC0415
    from samtranslator.utils.py27hash_fix import (  # noqa: PLC0415
        to_py27_compatible_template,
        undo_mark_unicode_str_in_template,
    )

    parameter_values: JsonDict = {}
    to_py27_compatible_template(sam, parameter_values)
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
    try:
        translated = translator.translate(
            sam,
            parameter_values=parameter_values,
            # SAM builds the ARNs of the managed policies it adds itself; none to look up.
            get_managed_policy_map=dict,
        )
    except InvalidDocumentException as error:
        reasons = "; ".join(str(cause) for cause in error.causes)
        raise TemplateError(f"SAM translation failed: {reasons}") from error
    finally:
        translator.metrics.publish()  # to its no-op publisher; else SAM warns at exit
    result: JsonDict = undo_mark_unicode_str_in_template(translated)
    return result


def load_stack_template(path: Path, *, region: str) -> TranslatedTemplate:
    return translate_sam(load_template(path), template_dir=path.parent, region=region)
