"""A toy service wired like the real ones: a composition root and a `LambdaFunction`.

`BUILT` records each build (what the bootstrap read from the environment), so a test sees
when and how often a host builds the service.
"""

from __future__ import annotations

import os
from typing import Any

from contracts import utc_now
from services.common.function import LambdaFunction

BUILT: list[str] = []


def bootstrap() -> str:
    setting = os.environ["TOY_SETTING"]  # noqa: TID251 - this module plays a deployed function
    BUILT.append(setting)
    return setting


def answer(setting: str, event: dict[str, Any], _: Any) -> dict[str, Any]:
    return {"setting": setting, "event": event, "now": utc_now()}


lambda_handler = LambdaFunction(bootstrap, answer, log_metrics=False)
