"""Keep moto's Pinpoint app registry in step with the emulator's apps.

The emulator owns apps, but moto still answers the app-level calls the emulator does not
(application settings, event streams, tags); those need moto to know the app by its id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def mirror_app(account_id: str, region: str, application: Mapping[str, Any]) -> None:
    try:
        from moto.pinpoint.models import App, pinpoint_backends  # noqa: PLC0415 - optional
    except ImportError:  # pragma: no cover - moto is a dev dependency
        return
    backend = pinpoint_backends[account_id][region]
    app = App(account_id, region, application["Name"])
    app.application_id = application["Id"]
    app.arn = application["Arn"]
    backend.apps[app.application_id] = app
    if application.get("tags"):
        backend.tag_resource(app.arn, dict(application["tags"]))


def forget_app(account_id: str, region: str, application: Mapping[str, Any]) -> None:
    try:
        from moto.pinpoint.models import pinpoint_backends  # noqa: PLC0415 - optional
    except ImportError:  # pragma: no cover
        return
    pinpoint_backends[account_id][region].apps.pop(application["Id"], None)
