"""What a CloudFormation request means for the catalog: pure, so it is tested without AWS.

Create, and an Update that changes the monitored projects (or the Connect domain or
instance), publish one
`CatalogBackfillRequested`; Delete publishes nothing (the catalog outlives no stack, and
deleting entries is not what removing the trigger should do). The event id derives from the
stack and the request, so a retried invocation publishes the same event and the
log-ingester drops the repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts import BackfillRequest, CatalogBackfillRequested, derived_event_id

Publish = Callable[[list[CatalogBackfillRequested]], object]


@dataclass(frozen=True)
class CustomResourceResponse:
    status: str  # SUCCESS | FAILED
    physical_resource_id: str
    reason: str
    data: dict[str, str]

    def body(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON CloudFormation expects at the request's ResponseURL."""
        return {
            "Status": self.status,
            "Reason": self.reason,
            "PhysicalResourceId": self.physical_resource_id,
            "StackId": request["StackId"],
            "RequestId": request["RequestId"],
            "LogicalResourceId": request["LogicalResourceId"],
            "Data": self.data,
        }


def _project_ids(properties: Mapping[str, Any]) -> list[str]:
    raw = str(properties.get("MonitoredProjectIds") or "")
    return [project_id.strip() for project_id in raw.split(",") if project_id.strip()]


def _scopes(properties: Mapping[str, Any]) -> tuple[list[str], str, str]:
    """What the catalog covers: the projects, the Connect domain and instance."""
    return (
        _project_ids(properties),
        str(properties.get("CustomerProfilesDomainName") or ""),
        str(properties.get("ConnectInstanceId") or ""),
    )


def backfill_request(request: Mapping[str, Any]) -> CatalogBackfillRequested | None:
    """The event a CloudFormation request calls for, or None when it calls for none."""
    request_type = request["RequestType"]
    properties = request.get("ResourceProperties") or {}
    if request_type == "Delete":
        return None
    if request_type == "Update":
        before = request.get("OldResourceProperties") or {}
        if _scopes(before) == _scopes(properties):
            return None
    event_id = derived_event_id("catalog-backfill", request["StackId"], request["RequestId"])
    return CatalogBackfillRequested.new(
        BackfillRequest(
            application_ids=_project_ids(properties) or None, requested_by="deployment"
        ),
        correlation_id=event_id,
        event_id=event_id,
    )


def handle_request(request: Mapping[str, Any], publish: Publish) -> CustomResourceResponse:
    """Publish what the request calls for; a failure becomes a FAILED answer with the reason."""
    physical_id = str(
        request.get("PhysicalResourceId") or f"{request['LogicalResourceId']}-catalog-backfill"
    )
    try:
        event = backfill_request(request)
        if event is not None:
            publish([event])
    except Exception as error:  # noqa: BLE001 - CloudFormation must always get an answer
        return CustomResourceResponse("FAILED", physical_id, f"backfill not requested: {error}", {})
    published = "" if event is None else str(event.event_id)
    return CustomResourceResponse(
        "SUCCESS",
        physical_id,
        "backfill requested" if event else "nothing to do",
        {"BackfillEventId": published},
    )
