"""Workgroups as moto stores them (CreateWorkGroup/GetWorkGroup stay moto's).

moto keeps a workgroup's configuration but never applies it; the emulator reads it here
so ``ResultConfiguration.OutputLocation`` and ``EnforceWorkGroupConfiguration`` take effect.
"""

from __future__ import annotations

from moto.athena.models import athena_backends

from infra.local.athena.service import Workgroup


class MotoWorkgroups:
    def __init__(self, *, account_id: str, region: str) -> None:
        self._account_id = account_id
        self._region = region

    def get(self, name: str) -> Workgroup | None:
        backend = athena_backends[self._account_id][self._region]
        found = backend.get_work_group(name)
        if found is None:
            return None
        configuration = found.get("Configuration") or {}
        result_configuration = configuration.get("ResultConfiguration") or {}
        return Workgroup(
            name=found["Name"],
            enabled=found.get("State", "ENABLED") == "ENABLED",
            output_location=result_configuration.get("OutputLocation"),
            # Athena and moto default to True; moto's "primary" group is created with False.
            enforce_configuration=bool(configuration.get("EnforceWorkGroupConfiguration", True)),
        )
