"""The Pinpoint emulator: answers plain ``boto3.client("pinpoint")`` calls in process.

Glue only (the shared `infra.local.api_emulator.ApiEmulator` decodes, applies faults,
encodes and records): Pinpoint's operation table, CloudTrail masking and import jobs.
Operations the emulator does not implement fall through to moto (which answers app
settings, event streams and tags, and "not implemented" otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from botocore.model import Shape

from infra.local.api_emulator import ApiEmulator, ApiError, Operation
from infra.local.clock import VirtualClock

from . import moto_mirror
from .cloudtrail import EVENT_SOURCE, CloudTrailRecorder
from .endpoints import EndpointLimits
from .faults import FaultInjector
from .import_jobs import ImportJobRunner, ImportLimits, ObjectSource
from .masking import mask_free_text
from .s3_source import S3ObjectSource
from .service import PinpointService

# Pinpoint does not log these to CloudTrail at all (Pinpoint developer guide).
NOT_LOGGED = frozenset(
    {"GetEndpoint", "UpdateEndpoint", "UpdateEndpointsBatch", "SendMessages", "SendUsersMessages"}
)


class PinpointEmulator(ApiEmulator):
    service_name: ClassVar[str] = "pinpoint"
    event_source: ClassVar[str] = EVENT_SOURCE
    not_logged: ClassVar[frozenset[str]] = NOT_LOGGED
    faults: FaultInjector

    def __init__(
        self,
        clock: VirtualClock,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        recorder: CloudTrailRecorder | None = None,
        *,
        endpoint_limits: EndpointLimits | None = None,
        import_limits: ImportLimits | None = None,
        import_stage_seconds: float = 5.0,
        import_source: ObjectSource | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(clock, region, account_id, recorder, faults=FaultInjector(), seed=seed)
        self.service = PinpointService(
            clock, region, account_id, self._ids, endpoint_limits or EndpointLimits()
        )
        self.import_jobs = ImportJobRunner(
            self.service,
            clock,
            import_source or S3ObjectSource(region),
            self._ids,
            stage_seconds=import_stage_seconds,
            limits=import_limits,
        )
        self.service.on_app_created.append(
            lambda app: moto_mirror.mirror_app(account_id, region, app)
        )
        self.service.on_app_deleted.append(
            lambda app: moto_mirror.forget_app(account_id, region, app)
        )
        self._operations = self._operation_table()

    def _advance(self) -> None:
        self.import_jobs.tick()

    def _busy(self) -> bool:
        return self.import_jobs.busy()

    def _next_moment(self) -> datetime | None:
        return self.import_jobs.next_moment()

    def _error_extra(self, error: ApiError, request_id: str) -> dict[str, Any]:
        return {"RequestID": request_id}

    def _mask(self, shape: Shape, body: Any) -> Any:
        return mask_free_text(shape, body)

    # ------------------------------------------------------------------ operations

    def _operation_table(self) -> dict[str, Operation]:
        s, jobs = self.service, self.import_jobs
        app, paging = ("ApplicationId",), ("PageSize", "Token")
        # operation: (output payload member, service call, parameters it takes in order)
        table: dict[str, tuple[str, Callable[..., Any], tuple[str, ...]]] = {
            "CreateApp": ("ApplicationResponse", s.create_app, ("CreateApplicationRequest",)),
            "GetApp": ("ApplicationResponse", s.get_app, app),
            "GetApps": ("ApplicationsResponse", s.get_apps, paging),
            "DeleteApp": ("ApplicationResponse", s.delete_app, app),
            "CreateCampaign": (
                "CampaignResponse",
                s.create_campaign,
                (*app, "WriteCampaignRequest"),
            ),
            "GetCampaign": ("CampaignResponse", s.get_campaign, (*app, "CampaignId")),
            "GetCampaigns": ("CampaignsResponse", s.get_campaigns, (*app, *paging)),
            "UpdateCampaign": (
                "CampaignResponse",
                s.update_campaign,
                (*app, "CampaignId", "WriteCampaignRequest"),
            ),
            "DeleteCampaign": ("CampaignResponse", s.delete_campaign, (*app, "CampaignId")),
            "GetCampaignVersion": (
                "CampaignResponse",
                s.get_campaign_version,
                (*app, "CampaignId", "Version"),
            ),
            "GetCampaignVersions": (
                "CampaignsResponse",
                s.get_campaign_versions,
                (*app, "CampaignId", *paging),
            ),
            "CreateJourney": ("JourneyResponse", s.create_journey, (*app, "WriteJourneyRequest")),
            "GetJourney": ("JourneyResponse", s.get_journey, (*app, "JourneyId")),
            "ListJourneys": ("JourneysResponse", s.list_journeys, (*app, *paging)),
            "UpdateJourney": (
                "JourneyResponse",
                s.update_journey,
                (*app, "JourneyId", "WriteJourneyRequest"),
            ),
            "UpdateJourneyState": (
                "JourneyResponse",
                s.update_journey_state,
                (*app, "JourneyId", "JourneyStateRequest"),
            ),
            "DeleteJourney": ("JourneyResponse", s.delete_journey, (*app, "JourneyId")),
            "CreateSegment": ("SegmentResponse", s.create_segment, (*app, "WriteSegmentRequest")),
            "GetSegment": ("SegmentResponse", s.get_segment, (*app, "SegmentId")),
            "GetSegments": ("SegmentsResponse", s.get_segments, (*app, *paging)),
            "GetSegmentVersion": (
                "SegmentResponse",
                s.get_segment_version,
                (*app, "SegmentId", "Version"),
            ),
            "GetSegmentVersions": (
                "SegmentsResponse",
                s.get_segment_versions,
                (*app, "SegmentId", *paging),
            ),
            "UpdateSegment": (
                "SegmentResponse",
                s.update_segment,
                (*app, "SegmentId", "WriteSegmentRequest"),
            ),
            "DeleteSegment": ("SegmentResponse", s.delete_segment, (*app, "SegmentId")),
            "UpdateEndpoint": (
                "MessageBody",
                s.update_endpoint,
                (*app, "EndpointId", "EndpointRequest"),
            ),
            "UpdateEndpointsBatch": (
                "MessageBody",
                s.update_endpoints_batch,
                (*app, "EndpointBatchRequest"),
            ),
            "GetEndpoint": ("EndpointResponse", s.get_endpoint, (*app, "EndpointId")),
            "GetUserEndpoints": ("EndpointsResponse", s.get_user_endpoints, (*app, "UserId")),
            "DeleteEndpoint": ("EndpointResponse", s.delete_endpoint, (*app, "EndpointId")),
            "DeleteUserEndpoints": ("EndpointsResponse", s.delete_user_endpoints, (*app, "UserId")),
            "CreateImportJob": ("ImportJobResponse", jobs.create, (*app, "ImportJobRequest")),
            "GetImportJob": ("ImportJobResponse", jobs.get, (*app, "JobId")),
            "GetImportJobs": ("ImportJobsResponse", jobs.list_jobs, (*app, *paging)),
            "GetSegmentImportJobs": (
                "ImportJobsResponse",
                jobs.list_jobs,
                (*app, *paging, "SegmentId"),
            ),
        }
        return {name: _bound(*entry) for name, entry in table.items()}


def _bound(payload_member: str, call: Callable[..., Any], names: tuple[str, ...]) -> Operation:
    """Pinpoint outputs are one payload member: call the service, wrap its result in it."""
    return lambda params: {payload_member: call(*(params.get(name) for name in names))}
