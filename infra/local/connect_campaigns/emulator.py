"""The outbound campaigns v2 emulator: answers plain ``boto3.client("connectcampaignsv2")``.

Glue on the shared ``infra.local.api_emulator.ApiEmulator``: the operation table,
validation against the botocore model (400 ValidationException), CloudTrail masking of what
the model marks sensitive, and schedules ending on the clock.
"""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from infra.local.api_emulator import ApiEmulator, ApiError, FaultInjector, Operation
from infra.local.clock import VirtualClock
from infra.local.cloudtrail import CloudTrailRecorder

from .errors import InternalServerError, ThrottlingError, ValidationError
from .service import TRANSITIONS, CampaignsService

EVENT_SOURCE = "connect-campaigns.amazonaws.com"


class ConnectCampaignsEmulator(ApiEmulator):
    service_name: ClassVar[str] = "connectcampaignsv2"
    event_source: ClassVar[str] = EVENT_SOURCE
    validation_error: ClassVar[type[ApiError] | None] = ValidationError
    read_prefixes: ClassVar[tuple[str, ...]] = ("Get", "List", "Describe")

    def __init__(
        self,
        clock: VirtualClock,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        recorder: CloudTrailRecorder | None = None,
        *,
        instance_ids: tuple[str, ...] = (),
        seed: int | None = None,
    ) -> None:
        faults = FaultInjector(
            throttling=lambda: ThrottlingError("Rate exceeded"),
            server_error=lambda: InternalServerError("Internal service error"),
        )
        super().__init__(clock, region, account_id, recorder, faults=faults, seed=seed)
        self.service = CampaignsService(clock, region, account_id, self._ids)
        self.service.instances.update(instance_ids)
        self._operations = self._operation_table()

    def add_instance(self, instance_id: str) -> None:
        """Onboard a Connect instance: campaigns may name it from now on."""
        self.service.instances.add(instance_id)

    def _advance(self) -> None:
        self.service.complete_ended()

    def _operation_table(self) -> dict[str, Operation]:
        s = self.service
        table: dict[str, Operation] = {
            "CreateCampaign": s.create,
            "DescribeCampaign": s.describe,
            "ListCampaigns": s.list_campaigns,
            "UpdateCampaignName": s.update_name,
            "DeleteCampaign": s.delete,
            "GetCampaignState": s.state,
            "GetCampaignStateBatch": s.state_batch,
        }
        for name in TRANSITIONS:
            table[name] = partial(s.transition, name)
        return table
