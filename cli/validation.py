"""The deployed query-validator's verdict, computed in the CLI with the validator's own code.

`query check` and `query submit` build the request a user would publish, parse it with the
contracts' registry and answer it with `services.query_validator.logic` under the
validator's settings, read the way its function reads them: from the environment the
template gives it, here filled from the stack's parameters (or, without a stack, from the
template's defaults, which the CLI says it assumed). So the size limit, the run id's
pattern, the allowed databases and the target's columns are the deployed ones, not copies.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cli.errors import AwsError
from cli.stack import StackOutputs
from contracts import (
    REGISTRY,
    EventContractError,
    SegmentQueryRejected,
    SegmentQueryRequested,
    SegmentQueryValidated,
)
from services.common.settings import SettingsError, load_settings
from services.query_validator.logic import Deployment, answer, answer_unreadable
from services.query_validator.settings import Settings

# A Pinpoint project id for a check without a stack: the verdict on the SQL needs a
# deployment, and no request names this project.
_ASSUMED_PROJECT = "0" * 32


@dataclass(frozen=True)
class Validator:
    deployment: Deployment
    assumed: str  # one line: where the settings came from

    def judge(
        self, data: Mapping[str, Any], now: datetime
    ) -> tuple[SegmentQueryRequested | None, SegmentQueryValidated | SegmentQueryRejected]:
        """The request a user publishing `data` sends (None if it breaks its contract),
        and the validator's answer to it."""
        raw = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": SegmentQueryRequested.DETAIL_TYPE,
            "source": SegmentQueryRequested.SOURCE,
            "time": now.isoformat(),
            "resources": [],
            "detail": {"data": dict(data)},
        }
        try:
            parsed = REGISTRY.parse_as(raw, SegmentQueryRequested)
        except EventContractError as error:
            rejected = answer_unreadable(error, now)
            if rejected is None:  # a request is always answerable; kept for the type
                raise
            return None, rejected
        return parsed.detail, answer(parsed.detail, parsed.envelope, self.deployment, now)


def validator_environment(outputs: StackOutputs) -> dict[str, str]:
    """The query-validator's environment as infra/template.yaml sets it from the stack."""
    parameters = outputs.parameters
    database = parameters.get("GlueDatabase") or "due_eventdb"
    projects = [outputs["PinpointProjectId"]]
    projects += [item for item in (parameters.get("AdditionalProjectIds") or "").split(",") if item]
    return {
        "POWERTOOLS_SERVICE_NAME": "query-validator",
        "EVENT_BUS_NAME": outputs["EventBusName"],
        "GLUE_CATALOG": parameters.get("GlueCatalog") or "AwsDataCatalog",
        "GLUE_DATABASE": database,
        "ALLOWED_DATABASES": parameters.get("AllowedDatabases") or database,
        "MONITORED_PROJECT_IDS": ",".join(projects),
        "DEFAULT_PROJECT_ID": outputs["PinpointProjectId"],
        "CUSTOMER_PROFILES_DOMAIN_NAME": outputs.get("CustomerProfilesDomainName") or "",
        "DEFAULT_TARGET": parameters.get("DefaultTarget") or "pinpoint",
    }


def stack_validator(outputs: StackOutputs, stack_name: str) -> Validator:
    try:
        settings = load_settings(Settings, validator_environment(outputs))
    except SettingsError as error:
        raise AwsError(
            f"stack {stack_name!r} has settings the validator refuses: {error}"
        ) from None
    policy = settings.deployment().policy
    databases = ", ".join(sorted(policy.allowed_databases or ())) or "any"
    return Validator(
        settings.deployment(),
        f"checked against stack {stack_name}: databases {databases} "
        f"(default {policy.default_database}), catalog {policy.catalog}",
    )


def default_validator(*, connect: bool) -> Validator:
    """The validator of a stack deployed with the template's defaults."""
    environment = {
        "POWERTOOLS_SERVICE_NAME": "query-validator",
        "EVENT_BUS_NAME": "assumed",
        "MONITORED_PROJECT_IDS": _ASSUMED_PROJECT,
    }
    if connect:  # Connect is off by default; checking a connect query assumes it is on
        environment["CUSTOMER_PROFILES_DOMAIN_NAME"] = "assumed-domain"
    settings = load_settings(Settings, environment)
    policy = settings.deployment().policy
    return Validator(
        settings.deployment(),
        f"assumed the template's defaults: database {policy.default_database} only, "
        f"catalog {policy.catalog} (give --stack NAME to check against your stack)",
    )
