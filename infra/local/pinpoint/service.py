"""The emulated Pinpoint API: apps, campaigns, journeys, segments and endpoints.

Dicts in, dicts out, in botocore's member form (the request's payload structure in, the
response's payload structure out); errors are raised as ``PinpointError``. No botocore
glue here, so the rules can be read and tested on their own.

Update semantics (the API reference does not spell them out):
- UpdateCampaign and UpdateSegment merge: fields the request omits keep their values
  (their write requests have no required field), and each update is a new version.
- UpdateJourney replaces the definition (WriteJourneyRequest requires Name, i.e. it is the
  whole journey); Id, dates, State rules and tags are kept by the service.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from infra.local.clock import VirtualClock

from . import journeys as journey_rules
from ._time import pinpoint_date
from .endpoints import EndpointLimits, merge_endpoint, validate_endpoint
from .errors import BadRequestError, NotFoundError
from .paging import page
from .state import IdSource, Project

NOT_FOUND = "Resource not found"

AppListener = Callable[[dict[str, Any]], None]


class PinpointService:
    def __init__(
        self,
        clock: VirtualClock,
        region: str,
        account_id: str,
        ids: IdSource,
        limits: EndpointLimits,
    ) -> None:
        self._clock = clock
        self._region = region
        self._account_id = account_id
        self._ids = ids
        self.limits = limits
        self.projects: dict[str, Project] = {}
        self.on_app_created: list[AppListener] = []
        self.on_app_deleted: list[AppListener] = []

    # ------------------------------------------------------------------ helpers

    def now(self) -> str:
        return pinpoint_date(self._clock.now())

    def project(self, application_id: str) -> Project:
        project = self.projects.get(application_id)
        if project is None:
            raise NotFoundError(NOT_FOUND)
        return project

    def _arn(self, path: str) -> str:
        return f"arn:aws:mobiletargeting:{self._region}:{self._account_id}:apps/{path}"

    # ------------------------------------------------------------------ apps

    def create_app(self, request: Mapping[str, Any]) -> dict[str, Any]:
        app_id = self._ids.resource_id()
        app: dict[str, Any] = {
            "Arn": self._arn(app_id),
            "Id": app_id,
            "Name": request["Name"],
            "CreationDate": self.now(),
        }
        if request.get("tags"):
            app["tags"] = dict(request["tags"])
        self.projects[app_id] = Project(application=app)
        for listener in self.on_app_created:
            listener(app)
        return copy.deepcopy(app)

    def get_app(self, application_id: str) -> dict[str, Any]:
        return copy.deepcopy(self.project(application_id).application)

    def get_apps(self, page_size: str | None, token: str | None) -> dict[str, Any]:
        apps = [project.application for project in self.projects.values()]
        return _page_response(apps, page_size, token)

    def delete_app(self, application_id: str) -> dict[str, Any]:
        project = self.project(application_id)
        del self.projects[application_id]
        for listener in self.on_app_deleted:
            listener(project.application)
        return copy.deepcopy(project.application)

    # ------------------------------------------------------------------ campaigns

    def create_campaign(self, application_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        project = self.project(application_id)
        segment_id = request.get("SegmentId")
        if not segment_id:
            raise BadRequestError("Missing SegmentId")
        campaign_id = self._ids.resource_id()
        now = self.now()
        campaign: dict[str, Any] = {
            "Id": campaign_id,
            "ApplicationId": application_id,
            "Arn": self._arn(f"{application_id}/campaigns/{campaign_id}"),
            "CreationDate": now,
            "LastModifiedDate": now,
            "Version": 1,
        }
        self._apply_campaign_request(project, campaign, request)
        project.campaigns[campaign_id] = [campaign]
        return copy.deepcopy(campaign)

    def update_campaign(
        self, application_id: str, campaign_id: str, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        project = self.project(application_id)
        versions = self._campaign_versions(project, campaign_id)
        campaign = copy.deepcopy(versions[-1])
        campaign["Version"] = int(campaign["Version"]) + 1
        campaign["LastModifiedDate"] = self.now()
        self._apply_campaign_request(project, campaign, request)
        versions.append(campaign)
        return copy.deepcopy(campaign)

    def _apply_campaign_request(
        self, project: Project, campaign: dict[str, Any], request: Mapping[str, Any]
    ) -> None:
        for name, value in request.items():
            if value is None:
                continue
            if name == "AdditionalTreatments":
                campaign[name] = [
                    {**copy.deepcopy(treatment), "Id": str(index)}
                    for index, treatment in enumerate(value, start=1)
                ]
            else:
                campaign[name] = copy.deepcopy(value)
        segment = self._segment_versions(project, campaign["SegmentId"], BadRequestError)[-1]
        if request.get("SegmentVersion") is None:
            campaign["SegmentVersion"] = segment.get("Version", 1)
        elif campaign["SegmentVersion"] > segment.get("Version", 1):
            raise BadRequestError(
                f"Segment {campaign['SegmentId']} has no version {campaign['SegmentVersion']}"
            )
        status = "PAUSED" if campaign.get("IsPaused") else "SCHEDULED"
        campaign["State"] = {"CampaignStatus": status}
        campaign["DefaultState"] = {"CampaignStatus": status}

    def get_campaign(self, application_id: str, campaign_id: str) -> dict[str, Any]:
        project = self.project(application_id)
        return copy.deepcopy(self._campaign_versions(project, campaign_id)[-1])

    def get_campaigns(
        self, application_id: str, page_size: str | None, token: str | None
    ) -> dict[str, Any]:
        project = self.project(application_id)
        return _page_response([v[-1] for v in project.campaigns.values()], page_size, token)

    def get_campaign_version(
        self, application_id: str, campaign_id: str, version: str
    ) -> dict[str, Any]:
        versions = self._campaign_versions(self.project(application_id), campaign_id)
        return copy.deepcopy(_version(versions, version))

    def get_campaign_versions(
        self, application_id: str, campaign_id: str, page_size: str | None, token: str | None
    ) -> dict[str, Any]:
        versions = self._campaign_versions(self.project(application_id), campaign_id)
        return _page_response(list(reversed(versions)), page_size, token)

    def delete_campaign(self, application_id: str, campaign_id: str) -> dict[str, Any]:
        project = self.project(application_id)
        versions = self._campaign_versions(project, campaign_id)
        del project.campaigns[campaign_id]
        return copy.deepcopy(versions[-1])

    def _campaign_versions(self, project: Project, campaign_id: str) -> list[dict[str, Any]]:
        versions = project.campaigns.get(campaign_id)
        if versions is None:
            raise NotFoundError(NOT_FOUND)
        return versions

    # ------------------------------------------------------------------ journeys

    def create_journey(self, application_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        project = self.project(application_id)
        journey_rules.check_create(request.get("State"))
        journey_id = self._ids.resource_id()
        now = self.now()
        journey = _journey_definition(request)
        journey.update(
            {
                "Id": journey_id,
                "ApplicationId": application_id,
                "CreationDate": now,
                "LastModifiedDate": now,
                "State": request.get("State") or "DRAFT",
            }
        )
        project.journeys[journey_id] = journey
        return copy.deepcopy(journey)

    def get_journey(self, application_id: str, journey_id: str) -> dict[str, Any]:
        return copy.deepcopy(self._journey(self.project(application_id), journey_id))

    def list_journeys(
        self, application_id: str, page_size: str | None, token: str | None
    ) -> dict[str, Any]:
        project = self.project(application_id)
        return _page_response(list(project.journeys.values()), page_size, token)

    def update_journey(
        self, application_id: str, journey_id: str, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        project = self.project(application_id)
        current = self._journey(project, journey_id)
        journey_rules.check_update(current, request.get("State"))
        journey = _journey_definition(request)
        for kept in ("Id", "ApplicationId", "CreationDate", "tags"):
            if kept in current:
                journey[kept] = current[kept]
        journey["State"] = request.get("State") or current["State"]
        journey["LastModifiedDate"] = self.now()
        project.journeys[journey_id] = journey
        return copy.deepcopy(journey)

    def update_journey_state(
        self, application_id: str, journey_id: str, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        project = self.project(application_id)
        journey = self._journey(project, journey_id)
        requested = request.get("State")
        if not requested:
            raise BadRequestError("Missing State")
        journey_rules.check_state_request(journey, requested)
        if journey["State"] != requested:
            journey["State"] = requested
            journey["LastModifiedDate"] = self.now()
        return copy.deepcopy(journey)

    def delete_journey(self, application_id: str, journey_id: str) -> dict[str, Any]:
        project = self.project(application_id)
        journey = self._journey(project, journey_id)
        del project.journeys[journey_id]
        return copy.deepcopy(journey)

    def _journey(self, project: Project, journey_id: str) -> dict[str, Any]:
        journey = project.journeys.get(journey_id)
        if journey is None:
            raise NotFoundError(NOT_FOUND)
        return journey

    # ------------------------------------------------------------------ segments

    def create_segment(self, application_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        project = self.project(application_id)
        segment = self._new_segment(project, "DIMENSIONAL")
        segment.update({k: copy.deepcopy(v) for k, v in request.items() if v is not None})
        return copy.deepcopy(segment)

    def create_import_segment(
        self, application_id: str, name: str | None, import_definition: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The segment an import job with DefineSegment creates (it has no API call of its own)."""
        project = self.project(application_id)
        segment = self._new_segment(project, "IMPORT")
        if name:
            segment["Name"] = name
        segment["ImportDefinition"] = dict(import_definition)
        project.segment_members[segment["Id"]] = []
        return copy.deepcopy(segment)

    def _new_segment(self, project: Project, segment_type: str) -> dict[str, Any]:
        segment_id = self._ids.resource_id()
        now = self.now()
        segment: dict[str, Any] = {
            "Id": segment_id,
            "ApplicationId": project.id,
            "Arn": self._arn(f"{project.id}/segments/{segment_id}"),
            "CreationDate": now,
            "LastModifiedDate": now,
            "SegmentType": segment_type,
            "Version": 1,
        }
        project.segments[segment_id] = [segment]
        return segment

    def import_segment_contents(
        self,
        application_id: str,
        segment_id: str,
        import_definition: Mapping[str, Any],
        member_ids: list[str],
        *,
        new_version: bool,
    ) -> None:
        """Fill an imported segment with a job's endpoints, as a new version or in place."""
        project = self.projects.get(application_id)
        if project is None or segment_id not in project.segments:
            return  # deleted while the job ran: the real service drops the result too
        versions = project.segments[segment_id]
        segment = copy.deepcopy(versions[-1]) if new_version else versions[-1]
        segment["ImportDefinition"] = dict(import_definition)
        segment["LastModifiedDate"] = self.now()
        if new_version:
            segment["Version"] = int(segment["Version"]) + 1
            versions.append(segment)
        project.segment_members[segment_id] = list(member_ids)

    def get_segment(self, application_id: str, segment_id: str) -> dict[str, Any]:
        project = self.project(application_id)
        return copy.deepcopy(self._segment_versions(project, segment_id)[-1])

    def get_segments(
        self, application_id: str, page_size: str | None, token: str | None
    ) -> dict[str, Any]:
        project = self.project(application_id)
        return _page_response([v[-1] for v in project.segments.values()], page_size, token)

    def get_segment_version(
        self, application_id: str, segment_id: str, version: str
    ) -> dict[str, Any]:
        versions = self._segment_versions(self.project(application_id), segment_id)
        return copy.deepcopy(_version(versions, version))

    def get_segment_versions(
        self, application_id: str, segment_id: str, page_size: str | None, token: str | None
    ) -> dict[str, Any]:
        versions = self._segment_versions(self.project(application_id), segment_id)
        return _page_response(list(reversed(versions)), page_size, token)

    def update_segment(
        self, application_id: str, segment_id: str, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        project = self.project(application_id)
        versions = self._segment_versions(project, segment_id)
        segment = copy.deepcopy(versions[-1])
        segment.update({k: copy.deepcopy(v) for k, v in request.items() if v is not None})
        segment["Version"] = int(segment["Version"]) + 1
        segment["LastModifiedDate"] = self.now()
        versions.append(segment)
        return copy.deepcopy(segment)

    def delete_segment(self, application_id: str, segment_id: str) -> dict[str, Any]:
        project = self.project(application_id)
        versions = self._segment_versions(project, segment_id)
        del project.segments[segment_id]
        project.segment_members.pop(segment_id, None)
        return copy.deepcopy(versions[-1])

    def segment_member_ids(self, application_id: str, segment_id: str) -> list[str]:
        return list(self.project(application_id).segment_members.get(segment_id, []))

    def _segment_versions(
        self,
        project: Project,
        segment_id: str,
        missing: type[BadRequestError | NotFoundError] = NotFoundError,
    ) -> list[dict[str, Any]]:
        versions = project.segments.get(segment_id)
        if versions is None:
            raise missing(
                NOT_FOUND if missing is NotFoundError else f"Segment {segment_id} not found"
            )
        return versions

    # ------------------------------------------------------------------ endpoints

    def update_endpoint(
        self, application_id: str, endpoint_id: str, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        project = self.project(application_id)
        self.put_endpoint(project, endpoint_id, request, register=True)
        return self._accepted()

    def _accepted(self) -> dict[str, Any]:
        """MessageBody: endpoint writes answer 202 with a request id."""
        return {"Message": "Accepted", "RequestID": self._ids.uuid()}

    def update_endpoints_batch(
        self, application_id: str, request: Mapping[str, Any]
    ) -> dict[str, Any]:
        project = self.project(application_id)
        items = request.get("Item") or []
        if len(items) > self.limits.max_batch_items:
            raise BadRequestError(
                f"Batch size {len(items)} exceeds the maximum of {self.limits.max_batch_items}"
            )
        if any(not item.get("Id") for item in items):
            raise BadRequestError("Every item of an endpoint batch needs an Id")
        # All or nothing: validate every item before storing any of them.
        names = set(project.attribute_names)
        merged = []
        for item in items:
            endpoint = self._merged(project, item["Id"], item)
            names |= validate_endpoint(endpoint, names, self.limits)
            merged.append(endpoint)
        for endpoint in merged:
            project.endpoints[endpoint["Id"]] = endpoint
        project.attribute_names = names
        return self._accepted()

    def put_endpoint(
        self,
        project: Project,
        endpoint_id: str,
        update: Mapping[str, Any],
        *,
        register: bool,
        require_address_for_new: bool = False,
    ) -> dict[str, Any]:
        """Merge, validate and (when ``register``) store one endpoint; returns it."""
        is_new = endpoint_id not in project.endpoints
        incomplete = not update.get("Address") or not update.get("ChannelType")
        if require_address_for_new and is_new and incomplete:
            raise BadRequestError(
                f"Endpoint {endpoint_id} does not exist: Address and ChannelType are "
                "required to create it"
            )
        endpoint = self._merged(project, endpoint_id, update)
        new_names = validate_endpoint(endpoint, project.attribute_names, self.limits)
        if register:
            project.endpoints[endpoint_id] = endpoint
            project.attribute_names |= new_names
        return endpoint

    def _merged(
        self, project: Project, endpoint_id: str, update: Mapping[str, Any]
    ) -> dict[str, Any]:
        fields = {k: v for k, v in update.items() if k != "Id"}
        return merge_endpoint(
            project.endpoints.get(endpoint_id),
            fields,
            endpoint_id=endpoint_id,
            application_id=project.id,
            now=self.now(),
            cohort_id=self._ids.cohort_id(),
        )

    def get_endpoint(self, application_id: str, endpoint_id: str) -> dict[str, Any]:
        endpoint = self.project(application_id).endpoints.get(endpoint_id)
        if endpoint is None:
            raise NotFoundError(NOT_FOUND)
        return copy.deepcopy(endpoint)

    def get_user_endpoints(self, application_id: str, user_id: str) -> dict[str, Any]:
        project = self.project(application_id)
        items = [
            copy.deepcopy(endpoint)
            for endpoint in project.endpoints.values()
            if endpoint.get("User", {}).get("UserId") == user_id
        ]
        if not items:
            raise NotFoundError(NOT_FOUND)
        return {"Item": items}

    def delete_endpoint(self, application_id: str, endpoint_id: str) -> dict[str, Any]:
        project = self.project(application_id)
        endpoint = project.endpoints.pop(endpoint_id, None)
        if endpoint is None:
            raise NotFoundError(NOT_FOUND)
        return endpoint

    def delete_user_endpoints(self, application_id: str, user_id: str) -> dict[str, Any]:
        deleted = self.get_user_endpoints(application_id, user_id)
        project = self.project(application_id)
        for endpoint in deleted["Item"]:
            project.endpoints.pop(endpoint["Id"], None)
        return deleted

    def new_endpoint_id(self) -> str:
        return self._ids.uuid()


def _journey_definition(request: Mapping[str, Any]) -> dict[str, Any]:
    # The service owns these: a client's CreationDate/LastModifiedDate/State are not stored.
    owned = {"CreationDate", "LastModifiedDate", "State"}
    return {k: copy.deepcopy(v) for k, v in request.items() if v is not None and k not in owned}


def _version(versions: list[dict[str, Any]], version: str) -> dict[str, Any]:
    for candidate in versions:
        if str(candidate.get("Version")) == version:
            return candidate
    raise NotFoundError(NOT_FOUND)


def _page_response(
    items: list[dict[str, Any]], page_size: str | None, token: str | None
) -> dict[str, Any]:
    chunk, next_token = page(items, page_size, token)
    response: dict[str, Any] = {"Item": copy.deepcopy(chunk)}
    if next_token is not None:
        response["NextToken"] = next_token
    return response
