"""Amazon Connect's side of the catalog port: outbound campaigns v2 and segment definitions.

**Scopes.** Campaigns (MANAGED: catalog type ``campaign``; JOURNEY: ``journey``) live in a
Connect instance, segment definitions (type ``segment``) in a Customer Profiles domain; the
stack monitors one of each (``ConnectCatalog(domain_name, instance_id)``), as scope keys
``instance/<id>`` and ``domains/<name>``. A campaign's id is its UUID; a segment
definition's id is its SegmentDefinitionName and its catalog name its DisplayName.

**Which records count.** eventSource ``connect-campaigns.amazonaws.com``: CreateCampaign,
UpdateCampaignName, DeleteCampaign and the state calls Start/Stop/Pause/ResumeCampaign;
eventSource ``profile.amazonaws.com``: CreateSegmentDefinition, DeleteSegmentDefinition
(segment definitions have no update). Names are not masked by CloudTrail here, but the
record is still only a hint: the name-resolver reads every change with DescribeCampaign
(and GetCampaignState) or GetSegmentDefinition.

**Version 1 campaigns.** Outbound campaigns v1 (``connectcampaigns``, API 2021-01-30)
share the eventSource and the names CreateCampaign, UpdateCampaignName, DeleteCampaign
and the state calls. A record is taken as v1 and skipped (``other_api_version``) when it
says so: an ``apiVersion`` other than v2's 2024-04-23, or a CreateCampaign whose request
has v1's required members ``dialerConfig`` / ``outboundCallConfig`` (v2 has neither). The
other calls carry only ``id`` (and ``name``) in both versions, so nothing in the record
tells them apart, and they name no instance either: such a change carries the monitored
instance with ``scope_confirmed=False``. The name-resolver confirms it: DescribeCampaign
(a v2 call) answers a v2 campaign of some instance, which must be ours, and 404 for a v1
campaign; a change it cannot confirm (a 404, or a DeleteCampaign, which cannot be read
back) is applied by the catalog-writer only to an entry the catalog already holds. So a v1
campaign, or another instance's, never enters the catalog.

**Bodies.** ``read_body`` reads a campaign (DescribeCampaign's ``campaign``, with
GetCampaignState's ``state`` added by the resolver; a ListCampaigns summary; a
CreateCampaign request) or a segment definition (GetSegmentDefinition, a
ListSegmentDefinitions item, CreateSegmentDefinition's response). A campaign's
``segment_id`` is the segment definition named by ``source.customerProfilesSegmentArn``
and its ``domain_name`` that segment's (or the event trigger's) domain; ``event_name`` is
null (an outbound campaign's event trigger names a domain, not an event); ``state`` is
GetCampaignState's; ``last_modified_date`` its lastModifiedTime. A segment definition's
``segment_type`` is CLASSIC or ENHANCED, ``creation_date`` its CreatedAt.

**Backfill.** ListCampaigns filtered on the instance (both types in one listing) and
ListSegmentDefinitions of the domain, paged. Items become ``updated`` changes as
Pinpoint's do; event_time = lastModifiedTime (a campaign) or CreatedAt (a segment
definition, which never changes) to the second, or the Unix epoch when the item has none
(it then orders before every record, and repeats the same time on every backfill).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contracts import (
    BackfillPage,
    BackfillRequest,
    ChangeAction,
    ChangeOrigin,
    CloudTrailRecord,
    KnownAttributes,
    Platform,
    ResourceChange,
    ResourceType,
    derived_event_id,
)
from services.common.targets.bodies import dig, known_attributes, timestamp
from services.common.targets.catalog import (
    CatalogFields,
    FanOut,
    RecordSubject,
    Reject,
    Rejection,
    Scope,
    Skip,
    domain_key,
    instance_key,
)

CAMPAIGNS_EVENT_SOURCE = "connect-campaigns.amazonaws.com"
PROFILE_EVENT_SOURCE = "profile.amazonaws.com"
CAMPAIGNS_V2_API_VERSION = "2024-04-23"
SENSITIVE_MASK = "HIDDEN_DUE_TO_SECURITY_REASONS"  # what CloudTrail writes for a masked value
# CreateCampaign members v1 requires and v2 does not have (botocore connectcampaigns).
V1_CREATE_MEMBERS = ("dialerConfig", "outboundCallConfig")

CREATE_CAMPAIGN = "CreateCampaign"
CAMPAIGN_OPERATIONS: Mapping[str, ChangeAction] = {
    CREATE_CAMPAIGN: ChangeAction.CREATED,
    "UpdateCampaignName": ChangeAction.UPDATED,
    "StartCampaign": ChangeAction.UPDATED,
    "StopCampaign": ChangeAction.UPDATED,
    "PauseCampaign": ChangeAction.UPDATED,
    "ResumeCampaign": ChangeAction.UPDATED,
    "DeleteCampaign": ChangeAction.DELETED,
}
SEGMENT_OPERATIONS: Mapping[str, ChangeAction] = {
    "CreateSegmentDefinition": ChangeAction.CREATED,
    "DeleteSegmentDefinition": ChangeAction.DELETED,
}
LIST_OPERATIONS: Mapping[ResourceType, str] = {
    ResourceType.CAMPAIGN: "ListCampaigns",
    ResourceType.JOURNEY: "ListCampaigns",
    ResourceType.SEGMENT: "ListSegmentDefinitions",
}
CAMPAIGN_TYPES: Mapping[str, ResourceType] = {
    "MANAGED": ResourceType.CAMPAIGN,
    "JOURNEY": ResourceType.JOURNEY,
}

# botocore's patterns (anchored here): CampaignId, InstanceId, and Customer Profiles' name.
_CAMPAIGN_ID = re.compile(r"^[-:/a-zA-Z0-9]{1,256}$")
_INSTANCE_ID = re.compile(r"^[-_.a-zA-Z0-9]{1,256}$")
_PROFILES_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# arn:<partition>:profile:<region>:<account>:domains/<domain>[/segment-definitions/<name>]
_PROFILE_ARN = re.compile(
    r"^arn:[a-z-]+:profile:[^:]*:[^:]*:domains/(?P<domain>[a-zA-Z0-9_-]{1,64})"
    r"(?:/segment-definitions/(?P<segment>[a-zA-Z0-9_-]{1,64}))?$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ConnectCatalog:
    """The Connect adapter of `services.common.targets.catalog.TargetCatalog`, for the
    stack's domain and instance (either may be off)."""

    domain_name: str | None = None
    instance_id: str | None = None

    platform = Platform.CONNECT
    event_sources = frozenset({CAMPAIGNS_EVENT_SOURCE, PROFILE_EVENT_SOURCE})
    handled_operations = frozenset({*CAMPAIGN_OPERATIONS, *SEGMENT_OPERATIONS})

    @property
    def monitored(self) -> tuple[str, ...]:
        """The scope keys of the stack's domain and instance."""
        keys = []
        if self.instance_id:
            keys.append(instance_key(self.instance_id))
        if self.domain_name:
            keys.append(domain_key(self.domain_name))
        return tuple(keys)

    # ------------------------------------------------------------------ CloudTrail

    def read_record(
        self, record: CloudTrailRecord, monitored: Collection[str]
    ) -> RecordSubject | Skip | Rejection:
        if record.event_source == PROFILE_EVENT_SOURCE:
            return self._segment_record(record, monitored)
        if record.event_source == CAMPAIGNS_EVENT_SOURCE:
            return self._campaign_record(record, monitored)
        return Skip.OTHER_SERVICE

    def _campaign_record(  # noqa: PLR0911 - a decision table reads best as early returns
        self, record: CloudTrailRecord, monitored: Collection[str]
    ) -> RecordSubject | Skip | Rejection:
        action = CAMPAIGN_OPERATIONS.get(record.event_name)
        if action is None:
            return Skip.UNHANDLED_OPERATION
        if record.api_version is not None and record.api_version != CAMPAIGNS_V2_API_VERSION:
            return Skip.OTHER_API_VERSION
        if record.event_name == CREATE_CAMPAIGN:
            return self._created_campaign(record, monitored)
        campaign_id = (record.request_parameters or {}).get("id")
        if campaign_id is None:
            return Rejection(Reject.MISSING_RESOURCE_ID, fields=("requestParameters",))
        if not _matches(_CAMPAIGN_ID, campaign_id):
            return Rejection(Reject.INVALID_RESOURCE_ID)
        if self.instance_id is None or instance_key(self.instance_id) not in monitored:
            return Skip.UNMONITORED_APPLICATION
        # The record names no instance (nor the version): see the module docstring.
        scope = Scope(Platform.CONNECT, connect_instance_id=self.instance_id)
        known = _campaign_known(record.request_parameters or {}, dates=False)  # a new name
        return RecordSubject(scope, ResourceType.CAMPAIGN, action, campaign_id, known, False)

    def _created_campaign(  # noqa: PLR0911 - a decision table reads best as early returns
        self, record: CloudTrailRecord, monitored: Collection[str]
    ) -> RecordSubject | Skip | Rejection:
        request = record.request_parameters or {}
        if any(member in request for member in V1_CREATE_MEMBERS):
            return Skip.OTHER_API_VERSION
        instance = request.get("connectInstanceId")
        if instance is None:
            return Rejection(Reject.MISSING_APPLICATION_ID, fields=("requestParameters",))
        if not _matches(_INSTANCE_ID, instance):
            return Rejection(Reject.INVALID_APPLICATION_ID, fields=("requestParameters",))
        if instance_key(instance) not in monitored:
            return Skip.UNMONITORED_APPLICATION
        response = record.response_elements
        if response is None:
            return Rejection(Reject.MISSING_RESPONSE)
        campaign_id = response.get("id")
        if campaign_id is None:
            return Rejection(Reject.MISSING_RESOURCE_ID, fields=("responseElements",))
        if not _matches(_CAMPAIGN_ID, campaign_id):
            return Rejection(Reject.INVALID_RESOURCE_ID)
        resource_type = CAMPAIGN_TYPES.get(str(request.get("type") or "MANAGED"))
        if resource_type is None:
            return Rejection(Reject.WRONG_TYPE, fields=("requestParameters",))
        known = _campaign_known(request, dates=False)
        scope = Scope(Platform.CONNECT, connect_instance_id=instance)
        return RecordSubject(scope, resource_type, ChangeAction.CREATED, campaign_id, known)

    def _segment_record(  # noqa: PLR0911 - a decision table reads best as early returns
        self, record: CloudTrailRecord, monitored: Collection[str]
    ) -> RecordSubject | Skip | Rejection:
        action = SEGMENT_OPERATIONS.get(record.event_name)
        if action is None:
            return Skip.UNHANDLED_OPERATION
        request = record.request_parameters or {}
        domain = request.get("DomainName")
        if domain is None:
            return Rejection(Reject.MISSING_APPLICATION_ID, fields=("requestParameters",))
        if not _matches(_PROFILES_NAME, domain):
            return Rejection(Reject.INVALID_APPLICATION_ID, fields=("requestParameters",))
        if domain_key(domain) not in monitored:
            return Skip.UNMONITORED_APPLICATION
        name = request.get("SegmentDefinitionName")
        if name is None:
            return Rejection(Reject.MISSING_RESOURCE_ID, fields=("requestParameters",))
        if not _matches(_PROFILES_NAME, name):
            return Rejection(Reject.INVALID_RESOURCE_ID)
        known = KnownAttributes()
        if action is ChangeAction.CREATED:
            response = record.response_elements
            body, dates = (response, True) if response is not None else (request, False)
            known = _segment_known(body, dates=dates)
        scope = Scope(Platform.CONNECT, domain_name=domain)
        return RecordSubject(scope, ResourceType.SEGMENT, action, name, known)

    # ------------------------------------------------------------------ bodies

    def read_body(
        self, resource_type: ResourceType, body: Mapping[str, Any], *, dates: bool = True
    ) -> CatalogFields:
        if resource_type is ResourceType.SEGMENT:
            name = body.get("DisplayName")
            return CatalogFields(
                known=_segment_known(body, dates=dates),
                name=name if isinstance(name, str) and name else None,
            )
        name = body.get("name")
        instance = body.get("connectInstanceId")
        return CatalogFields(
            known=_campaign_known(body, dates=dates),
            name=name if isinstance(name, str) and name else None,
            home=instance_key(instance) if isinstance(instance, str) else None,
            resource_type=CAMPAIGN_TYPES.get(str(body.get("type"))),
        )

    def unpublished(self, resource_type: ResourceType, state: str | None) -> bool:
        return False  # a campaign is live (and named) from its creation, in any state

    # ------------------------------------------------------------------ backfill

    def first_pages(self, request: BackfillRequest, monitored: Sequence[str]) -> FanOut:
        kinds = set(request.resource_types)
        pages = []
        if (
            self.instance_id
            and kinds & {ResourceType.CAMPAIGN, ResourceType.JOURNEY}
            and instance_key(self.instance_id) in monitored
        ):
            pages.append(
                BackfillPage(
                    platform=Platform.CONNECT,
                    connect_instance_id=self.instance_id,
                    resource_type=ResourceType.CAMPAIGN,
                )
            )
        if (
            self.domain_name
            and ResourceType.SEGMENT in kinds
            and domain_key(self.domain_name) in monitored
        ):
            pages.append(
                BackfillPage(
                    platform=Platform.CONNECT,
                    domain_name=self.domain_name,
                    resource_type=ResourceType.SEGMENT,
                )
            )
        return FanOut(pages=pages)

    def backfill_change(self, page: BackfillPage, item: Any) -> ResourceChange | Reject:
        if not isinstance(item, Mapping):
            return Reject.WRONG_TYPE
        kind: ResourceType | None
        if page.resource_type is ResourceType.SEGMENT:
            resource_id, kind = item.get("SegmentDefinitionName"), ResourceType.SEGMENT
            pattern, moment = _PROFILES_NAME, timestamp(item.get("CreatedAt"))
            scope = Scope(Platform.CONNECT, domain_name=page.domain_name)
            key = domain_key(str(page.domain_name))
        else:
            resource_id, kind = item.get("id"), CAMPAIGN_TYPES.get(str(item.get("type")))
            key = instance_key(str(page.connect_instance_id))
            pattern, moment = _CAMPAIGN_ID, timestamp(item.get("lastModifiedTime"))
            scope = Scope(Platform.CONNECT, connect_instance_id=page.connect_instance_id)
            if item.get("connectInstanceId") != page.connect_instance_id:
                return Reject.INVALID_APPLICATION_ID  # ListCampaigns' filter names one instance
        if resource_id is None:
            return Reject.MISSING_RESOURCE_ID
        if not _matches(pattern, resource_id):
            return Reject.INVALID_RESOURCE_ID
        if kind is None:
            return Reject.WRONG_TYPE
        event_time = (moment or _EPOCH).replace(microsecond=0)  # CloudTrail's precision
        return ResourceChange(
            resource_type=kind,
            **scope._asdict(),
            resource_id=resource_id,
            action=ChangeAction.UPDATED,
            event_time=event_time,
            source_event_id=derived_event_id(
                "backfill", kind.value, key, resource_id, event_time.isoformat()
            ),
            operation=LIST_OPERATIONS[kind],
            origin=ChangeOrigin.BACKFILL,
            known=self.read_body(kind, item).known,
        )


def _campaign_known(body: Mapping[str, Any], *, dates: bool) -> KnownAttributes:
    source = body.get("source")
    segment = _profile_arn(dig(source, "customerProfilesSegmentArn"))
    trigger = _profile_arn(dig(source, "eventTrigger", "customerProfilesDomainArn"))
    fields: dict[str, Any] = {
        "name": _shown(body.get("name")),
        "state": body.get("state"),
        "segment_id": segment[1] if segment else None,
        "domain_name": (segment or trigger or (None, None))[0],
    }
    if dates:
        fields["last_modified_date"] = timestamp(body.get("lastModifiedTime"))
    return known_attributes(fields)


def _segment_known(body: Mapping[str, Any], *, dates: bool) -> KnownAttributes:
    fields: dict[str, Any] = {
        "name": _shown(body.get("DisplayName")),
        "segment_type": body.get("SegmentType"),
    }
    if dates:
        fields["creation_date"] = timestamp(body.get("CreatedAt"))
    return known_attributes(fields)


def _profile_arn(value: Any) -> tuple[str, str | None] | None:
    """(domain, segment definition or None) of a Customer Profiles ARN, else None."""
    if not isinstance(value, str):
        return None
    found = _PROFILE_ARN.match(value)
    return (found["domain"], found["segment"]) if found else None


def _shown(name: Any) -> Any:
    """A name as CloudTrail showed it; None where it was masked (not the case today)."""
    return None if name == SENSITIVE_MASK else name


def _matches(pattern: re.Pattern[str], value: Any) -> bool:
    return isinstance(value, str) and pattern.match(value) is not None
