"""The Pinpoint emulator: answers plain ``boto3.client("pinpoint")`` calls in process.

Glue only: decode the HTTP request botocore prepared, apply fault injection, call the
service logic, encode the answer with the botocore output shape, and hand write calls to
the CloudTrail recorder. Operations the emulator does not implement fall through to moto
(which answers app settings, event streams and tags, and "not implemented" otherwise).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.model import OperationModel

from infra.local.botocore_hook import (
    DecodedRequest,
    Uninstall,
    decode_request,
    encode_error,
    encode_response,
    install_operation_handler,
)
from infra.local.clock import VirtualClock

from . import moto_mirror
from .cloudtrail import ApiCall, CloudTrailRecorder
from .endpoints import EndpointLimits
from .errors import PinpointError
from .faults import FaultInjector
from .import_jobs import ImportJobRunner, ImportLimits, ObjectSource
from .masking import mask_free_text
from .s3_source import S3ObjectSource
from .service import PinpointService
from .state import IdSource

Params = dict[str, Any]
Operation = Callable[[Params], Any]

# Pinpoint does not log these to CloudTrail at all (Pinpoint developer guide).
NOT_LOGGED = frozenset(
    {"GetEndpoint", "UpdateEndpoint", "UpdateEndpointsBatch", "SendMessages", "SendUsersMessages"}
)


def is_read_only(operation_name: str) -> bool:
    return operation_name.startswith(("Get", "List"))


class PinpointEmulator:
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
        self.clock = clock
        self.region = region
        self.account_id = account_id
        self.recorder = recorder
        self.faults = FaultInjector()
        self.calls: Counter[str] = Counter()
        """HTTP attempts answered per operation (retries and injected faults included)."""
        self._ids = IdSource(seed)
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
        self._uninstall: Uninstall | None = None
        # Handlers may run on several threads (a pump with concurrency): one call at a time.
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ lifecycle

    def install(self) -> PinpointEmulator:
        """Answer Pinpoint calls of every boto3/botocore client created from now on."""
        if self._uninstall is None:
            self._uninstall = install_operation_handler("pinpoint", self._handle)
        return self

    def uninstall(self) -> None:
        if self._uninstall is not None:
            self._uninstall()
            self._uninstall = None

    def __enter__(self) -> PinpointEmulator:
        return self.install()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.uninstall()

    def tick(self) -> None:
        """Call after the clock moved: import jobs progress, due log files are written."""
        with self._lock:
            self.import_jobs.tick()
            if self.recorder is not None:
                self.recorder.flush_due()

    def busy(self) -> bool:
        """True while an import job runs or CloudTrail records wait for their log file."""
        recorder_busy = self.recorder is not None and self.recorder.busy()
        return self.import_jobs.busy() or recorder_busy

    @property
    def operation_names(self) -> frozenset[str]:
        return frozenset(self._operations)

    # ------------------------------------------------------------------ dispatch

    def _handle(self, operation: OperationModel, request: AWSPreparedRequest) -> AWSResponse | None:
        run = self._operations.get(operation.name)
        if run is None or not self._is_our_region(request.url):
            return None
        with self._lock:
            return self._answer(operation, request, run)

    def _answer(
        self, operation: OperationModel, request: AWSPreparedRequest, run: Operation
    ) -> AWSResponse:
        self.calls[operation.name] += 1
        decoded = decode_request(operation, request)
        request_id = self._ids.uuid()
        error: PinpointError | None = None
        try:
            fault = self.faults.take(operation.name)
            if fault is not None:
                raise fault
            output = run(decoded.params)
            response = encode_response(operation, output, request_id=request_id)
        except PinpointError as raised:
            error = raised
            response = encode_error(
                operation,
                status=raised.status,
                code=raised.code,
                message=raised.message,
                request_id=request_id,
                extra={"RequestID": request_id},
            )
        self._record(operation, decoded, request_id, response, error)
        return response

    def _is_our_region(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        return f".{self.region}." in f".{host}."

    def _record(
        self,
        operation: OperationModel,
        decoded: DecodedRequest,
        request_id: str,
        response: AWSResponse,
        error: PinpointError | None,
    ) -> None:
        recorder = self.recorder
        if recorder is None or not recorder.enabled or operation.name in NOT_LOGGED:
            return
        read_only = is_read_only(operation.name)
        if read_only and not recorder.record_reads:
            return
        response_elements = None
        if error is None:
            response_elements = _masked_payload(operation, json.loads(response.content), "output")
        recorder.record(
            ApiCall(
                event_name=operation.name,
                request_parameters=_request_parameters(operation, decoded),
                response_elements=response_elements,
                request_id=request_id,
                user_agent=decoded.user_agent,
                error_code=error.code if error else None,
                error_message=error.message if error else None,
                read_only=read_only,
            )
        )

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


def _request_parameters(operation: OperationModel, decoded: DecodedRequest) -> dict[str, Any]:
    """CloudTrail's requestParameters: path and query parameters by wire name + the body."""
    parameters: dict[str, Any] = {**decoded.path_params, **decoded.query_params}
    body = _masked_payload(operation, decoded.body, "input")
    if isinstance(body, dict):
        parameters.update(body)
    return parameters


def _masked_payload(operation: OperationModel, body: Any, side: str) -> Any:
    shape = operation.input_shape if side == "input" else operation.output_shape
    if shape is None or body is None:
        return body
    payload = shape.serialization.get("payload")
    member = shape.members.get(payload) if payload else None
    return mask_free_text(member if member is not None else shape, body)
