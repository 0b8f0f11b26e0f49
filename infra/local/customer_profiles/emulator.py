"""The Customer Profiles emulator: answers plain ``boto3.client("customer-profiles")`` calls.

Glue on the shared ``infra.local.api_emulator.ApiEmulator``: the operation table,
validation of every request against the botocore model (400 BadRequestException), CloudTrail
masking of what the model marks sensitive, upload jobs on the clock and profile expiry.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from infra.local.api_emulator import ApiEmulator, ApiError, FaultInjector, Operation
from infra.local.clock import VirtualClock
from infra.local.cloudtrail import CloudTrailRecorder

from .errors import BadRequestError, InternalServerError, ThrottlingError
from .service import CustomerProfilesService
from .upload_jobs import UploadJobs

EVENT_SOURCE = "profile.amazonaws.com"


class CustomerProfilesEmulator(ApiEmulator):
    service_name: ClassVar[str] = "customer-profiles"
    event_source: ClassVar[str] = EVENT_SOURCE
    validation_error: ClassVar[type[ApiError] | None] = BadRequestError
    read_prefixes: ClassVar[tuple[str, ...]] = ("Get", "List", "Search")

    def __init__(
        self,
        clock: VirtualClock,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        recorder: CloudTrailRecorder | None = None,
        *,
        upload_stage_seconds: float = 5.0,
        seed: int | None = None,
    ) -> None:
        faults = FaultInjector(
            throttling=lambda: ThrottlingError("Rate exceeded"),
            server_error=lambda: InternalServerError("Internal service error"),
        )
        super().__init__(clock, region, account_id, recorder, faults=faults, seed=seed)
        self.service = CustomerProfilesService(clock, region, account_id, self._ids)
        self.upload_jobs = UploadJobs(
            self.service, clock, self._ids, self._lock, stage_seconds=upload_stage_seconds
        )
        self._operations = self._operation_table()

    def uninstall(self) -> None:
        super().uninstall()
        self.upload_jobs.close()

    def domain_arn(self, name: str) -> str:
        return self.service.domain_arn(name)

    def _advance(self) -> None:
        self.upload_jobs.tick()
        self.service.expire_profiles()

    def _busy(self) -> bool:
        return self.upload_jobs.busy()

    def _next_moment(self) -> datetime | None:
        return self.upload_jobs.next_moment()

    def _operation_table(self) -> dict[str, Operation]:
        s, jobs = self.service, self.upload_jobs
        return {
            "CreateDomain": s.create_domain,
            "GetDomain": s.get_domain,
            "ListDomains": s.list_domains,
            "DeleteDomain": s.delete_domain,
            "CreateProfile": s.create_profile,
            "UpdateProfile": s.update_profile,
            "DeleteProfile": s.delete_profile,
            "SearchProfiles": s.search_profiles,
            "CreateUploadJob": jobs.create,
            "GetUploadJob": jobs.get,
            "GetUploadJobPath": jobs.path,
            "StartUploadJob": jobs.start,
            "StopUploadJob": jobs.stop,
            "ListUploadJobs": jobs.list_jobs,
            "CreateSegmentDefinition": s.create_segment_definition,
            "GetSegmentDefinition": s.get_segment_definition,
            "ListSegmentDefinitions": s.list_segment_definitions,
            "DeleteSegmentDefinition": s.delete_segment_definition,
            "GetSegmentMembership": s.get_segment_membership,
            "CreateSegmentEstimate": s.create_segment_estimate,
            "GetSegmentEstimate": s.get_segment_estimate,
        }
