"""The Connect catalog adapter on records the Connect emulators really write, end to end.

boto3 -> the outbound campaigns v2 and Customer Profiles emulators -> their CloudTrail
records (API-call events and a gzip log file in moto's S3) -> the log-ingester's logic with
both targets active -> the name-resolver (DescribeCampaign, GetCampaignState,
GetSegmentDefinition on the emulators) -> the catalog-writer's logic on a fake store. The
emulators never import the adapter, so they check it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from contracts import (
    BackfillRequest,
    CatalogBackfillRequested,
    CatalogChange,
    CatalogEntryChanged,
    ChangeAction,
    ChangeOrigin,
    CloudTrailRecord,
    Event,
    PinpointResourceChanged,
    Platform,
    ResourceType,
    SegmentType,
)
from infra.local.clock import VirtualClock
from infra.local.cloudtrail import CloudTrailRecorder
from infra.local.connect_campaigns import ConnectCampaignsEmulator
from infra.local.customer_profiles import CustomerProfilesEmulator
from services.catalog_writer.logic import Outcome, apply_resolution
from services.common.targets.catalog import Rejection, Skip, TargetCatalogs
from services.common.targets.connect.catalog import ConnectCatalog
from services.common.targets.pinpoint.catalog import PINPOINT_CATALOG
from services.log_ingester.adapters import ConnectApiLister, S3LogFiles
from services.log_ingester.backfill import run_backfill
from services.log_ingester.logic import FileStatus, ingest_api_call, ingest_log_file
from services.log_ingester.records import change_from_raw
from services.name_resolver.adapters import ConnectApiResources
from services.name_resolver.logic import resolve
from tests.fixtures.cloudtrail import APP_ID, envelope
from tests.fixtures.connect import (
    ACCOUNT,
    DOMAIN,
    INSTANCE,
    REGION,
    journey_campaign,
    managed_campaign,
    segment_definition,
)
from tests.unit.catalog_writer.fakes import FakeCatalogStore

TRAIL = "trail"
START = datetime(2026, 11, 2, 10, 0, 0, tzinfo=UTC)
CONNECT = ConnectCatalog(domain_name=DOMAIN, instance_id=INSTANCE)
BOTH = TargetCatalogs(PINPOINT_CATALOG, CONNECT)
MONITORED = (APP_ID, *CONNECT.monitored)
OTHER_INSTANCE = "other-instance"


@dataclass
class Connect:
    campaigns: Any
    profiles: Any
    recorder: CloudTrailRecorder
    s3: Any
    clock: VirtualClock
    store: FakeCatalogStore = field(default_factory=FakeCatalogStore)
    announced: list[CatalogEntryChanged] = field(default_factory=list)
    changes: list[PinpointResourceChanged] = field(default_factory=list)  # via sync()

    def catalog(self, changes: Sequence[Event]) -> list[Outcome]:
        """Resolve and write each change as the name-resolver and catalog-writer do."""
        resources = ConnectApiResources(lambda: self.campaigns, lambda: self.profiles)
        outcomes = []
        for change in changes:
            if not isinstance(change, PinpointResourceChanged):
                continue
            resolved = resolve(change, resources, CONNECT)
            if resolved is not None:
                outcomes.append(
                    apply_resolution(
                        resolved, self.store, self.announced.extend, mirror=self.store.mirror
                    )
                )
        return outcomes

    def live(self, start: int = 0) -> list[PinpointResourceChanged]:
        """The changes of the records from `start` on, as API-call events."""
        events = []
        for record in self.recorder.records[start:]:
            parsed = CloudTrailRecord.model_validate(record)
            events += ingest_api_call(parsed, MONITORED, catalog=BOTH).events
        return events

    def sync(self) -> None:
        """Catalog the API-call events of the records made since the last sync, as the
        pipeline does seconds after each call."""
        new = self.live(self._synced)
        self._synced = len(self.recorder.records)
        self.changes += new
        self.catalog(new)

    _synced: int = 0


@pytest.fixture
def connect(monkeypatch: pytest.MonkeyPatch) -> Iterator[Connect]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    clock = VirtualClock(START)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=TRAIL)
        recorder = CloudTrailRecorder(clock=clock, bucket=TRAIL, region=REGION, account_id=ACCOUNT)
        with (
            ConnectCampaignsEmulator(
                clock=clock,
                region=REGION,
                account_id=ACCOUNT,
                recorder=recorder,
                instance_ids=(INSTANCE, OTHER_INSTANCE),
            ),
            CustomerProfilesEmulator(
                clock=clock, region=REGION, account_id=ACCOUNT, recorder=recorder
            ),
        ):
            profiles = boto3.client("customer-profiles", region_name=REGION)
            profiles.create_domain(DomainName=DOMAIN, DefaultExpirationDays=14)
            yield Connect(
                boto3.client("connectcampaignsv2", region_name=REGION),
                profiles,
                recorder,
                s3,
                clock,
            )


def history(connect: Connect) -> dict[str, str]:
    """Campaigns of both types and segment definitions, created, renamed, run and deleted."""
    gold = segment_definition(connect.profiles, "gold", "Gold customers")
    gone = segment_definition(connect.profiles, "gone", "Short lived")
    campaign = managed_campaign(connect.campaigns, "Winback", gold)
    journey = journey_campaign(connect.campaigns, "Welcome")
    connect.sync()
    connect.clock.advance(2)
    connect.campaigns.update_campaign_name(id=campaign, name="Winback - November")
    connect.campaigns.start_campaign(id=journey)
    connect.sync()
    connect.clock.advance(2)
    connect.campaigns.delete_campaign(id=journey)
    connect.profiles.delete_segment_definition(DomainName=DOMAIN, SegmentDefinitionName=gone)
    connect.sync()
    return {"gold": gold, "gone": gone, "campaign": campaign, "journey": journey}


def test_campaigns_journeys_and_segment_definitions_reach_the_catalog(connect: Connect) -> None:
    ids = history(connect)
    assert {c.data.operation for c in connect.changes} == {
        "CreateSegmentDefinition",
        "DeleteSegmentDefinition",
        "CreateCampaign",
        "UpdateCampaignName",
        "StartCampaign",
        "DeleteCampaign",
    }

    campaign = connect.store.row(ResourceType.CAMPAIGN, ids["campaign"], Platform.CONNECT).entry
    assert (campaign.type, campaign.platform, campaign.name) == (
        ResourceType.CAMPAIGN,
        Platform.CONNECT,
        "Winback - November",
    )
    assert (campaign.connect_instance_id, campaign.domain_name) == (INSTANCE, DOMAIN)
    assert (campaign.segment_id, campaign.event_name, campaign.application_id) == (
        "gold",
        None,
        None,
    )
    assert campaign.state == "Initialized"
    journey = connect.store.row(ResourceType.JOURNEY, ids["journey"], Platform.CONNECT).entry
    assert (journey.type, journey.deleted, journey.name) == (ResourceType.JOURNEY, True, "Welcome")
    assert journey.state == "Running"  # the last state known before the deletion
    gold = connect.store.row(ResourceType.SEGMENT, "gold", Platform.CONNECT).entry
    assert (gold.name, gold.domain_name, gold.segment_type) == (
        "Gold customers",
        DOMAIN,
        SegmentType.CLASSIC,
    )
    assert gold.creation_date is not None
    gone = connect.store.row(ResourceType.SEGMENT, "gone", Platform.CONNECT).entry
    assert (gone.deleted, gone.name) == (True, "Short lived")

    kinds = sorted((c.data.after.id, c.data.change.value) for c in connect.announced)
    assert kinds == sorted(
        [
            ("gold", "created"),
            ("gone", "created"),
            ("gone", "deleted"),
            (ids["campaign"], "created"),
            (ids["campaign"], "renamed"),
            (ids["journey"], "created"),
            (ids["journey"], "updated"),
            (ids["journey"], "deleted"),
        ]
    )


def test_the_log_file_and_the_api_calls_are_one_change_each(connect: Connect) -> None:
    history(connect)
    live = connect.changes
    [key] = connect.recorder.flush_all()
    outcome = ingest_log_file(S3LogFiles(lambda: connect.s3), TRAIL, key, MONITORED, catalog=BOTH)
    assert outcome.status is FileStatus.READ
    assert outcome.report.skipped == {"unhandled_operation": 1}  # CreateDomain
    # One change per resource in the file, under the id of its latest record's live change.
    assert {e.event_id for e in outcome.events} <= {e.event_id for e in live}
    assert len(outcome.events) == 4
    announced = len(connect.announced)
    assert set(connect.catalog(outcome.events)) == {Outcome.DUPLICATE}
    assert len(connect.announced) == announced


def test_a_file_coalesces_a_create_and_delete_with_the_create_s_scope(connect: Connect) -> None:
    journey = journey_campaign(connect.campaigns, "Brief")
    connect.clock.advance(1)
    connect.campaigns.delete_campaign(id=journey)
    [key] = connect.recorder.flush_all()
    outcome = ingest_log_file(S3LogFiles(lambda: connect.s3), TRAIL, key, MONITORED, catalog=BOTH)
    [change] = outcome.events
    assert isinstance(change, PinpointResourceChanged)
    assert (change.data.action, change.data.resource_type) == (
        ChangeAction.DELETED,
        ResourceType.JOURNEY,
    )
    assert change.data.scope_confirmed  # the create named the instance
    assert connect.catalog([change]) == [Outcome.CHANGED]
    entry = connect.store.row(ResourceType.JOURNEY, journey, Platform.CONNECT).entry
    assert (entry.deleted, entry.type) == (True, ResourceType.JOURNEY)


def test_other_instances_and_v1_campaigns_stay_out_of_the_catalog(connect: Connect) -> None:
    elsewhere = managed_campaign(connect.campaigns, "Elsewhere", "gold", instance=OTHER_INSTANCE)
    connect.campaigns.update_campaign_name(id=elsewhere, name="Still elsewhere")
    connect.campaigns.delete_campaign(id=elsewhere)
    changes = connect.live()
    # The create names its instance and is skipped; the others name only the campaign id.
    assert [c.data.operation for c in changes] == ["UpdateCampaignName", "DeleteCampaign"]
    assert connect.catalog(changes) == [Outcome.UNCONFIRMED, Outcome.UNCONFIRMED]
    assert connect.store.rows == {}

    v1_create = envelope(
        "connect-campaigns.amazonaws.com",
        "CreateCampaign",
        request_parameters={
            "name": "v1",
            "connectInstanceId": INSTANCE,
            "dialerConfig": {"predictiveDialerConfig": {"bandwidthAllocation": 1.0}},
            "outboundCallConfig": {"connectContactFlowId": "flow"},
        },
        response_elements={"id": "1b9e6f4c-0000-4000-8000-000000000001", "arn": "arn"},
    )
    assert change_from_raw(v1_create, MONITORED, changes[0].data.origin, catalog=BOTH) is (
        Skip.OTHER_API_VERSION
    )
    v1_rename = envelope(
        "connect-campaigns.amazonaws.com",
        "UpdateCampaignName",
        request_parameters={"id": "1b9e6f4c-0000-4000-8000-000000000001", "name": "v1 again"},
    )
    assert change_from_raw(
        {**v1_rename, "apiVersion": "2021-01-30"}, MONITORED, changes[0].data.origin, catalog=BOTH
    ) is (Skip.OTHER_API_VERSION)
    # Without an apiVersion the rename reads as ours until DescribeCampaign (v2) says 404.
    unknown = change_from_raw(v1_rename, MONITORED, changes[0].data.origin, catalog=BOTH)
    assert not isinstance(unknown, Skip)


def test_a_stack_without_connect_skips_its_records(connect: Connect) -> None:
    history(connect)
    pinpoint_only = TargetCatalogs(PINPOINT_CATALOG)
    for record in connect.recorder.records:
        parsed = CloudTrailRecord.model_validate(record)
        outcome = ingest_api_call(parsed, (APP_ID,), catalog=pinpoint_only)
        assert (outcome.events, dict(outcome.report.skipped)) == ([], {"other_service": 1})


def test_a_backfill_lists_the_instance_and_the_domain_page_by_page(connect: Connect) -> None:
    ids = history(connect)
    managed_campaign(connect.campaigns, "Elsewhere", "gold", instance=OTHER_INSTANCE)
    connect.store = FakeCatalogStore()  # an empty catalog: the backfill fills it
    connect.announced.clear()
    lister = ConnectApiLister(lambda: connect.campaigns, lambda: connect.profiles)
    request = CatalogBackfillRequested.new(
        BackfillRequest(requested_by="test", platforms=[Platform.CONNECT]), correlation_id="bf"
    )
    pending: list[Event] = [request]
    changes: list[PinpointResourceChanged] = []
    while pending:
        step = pending.pop()
        assert isinstance(step, CatalogBackfillRequested)
        outcome = run_backfill(step, lister, MONITORED, 1, catalog=BOTH)
        for event in outcome.events:
            if isinstance(event, PinpointResourceChanged):
                changes.append(event)
            else:
                pending.append(event)
    listed = {(c.data.resource_type, c.data.resource_id) for c in changes}
    assert listed == {(ResourceType.CAMPAIGN, ids["campaign"]), (ResourceType.SEGMENT, "gold")}
    connect.catalog(changes)
    again = connect.catalog(changes)  # the same listing again changes nothing
    assert set(again) == {Outcome.DUPLICATE}
    campaign = connect.store.row(ResourceType.CAMPAIGN, ids["campaign"], Platform.CONNECT).entry
    assert (campaign.name, campaign.segment_id) == ("Winback - November", "gold")
    assert [c.data.change for c in connect.announced] == [CatalogChange.CREATED] * 2


BAD_RECORDS = [
    (
        "profile",
        "CreateSegmentDefinition",
        {"SegmentDefinitionName": "a"},
        {},
        "missing_application_id",
    ),
    (
        "profile",
        "CreateSegmentDefinition",
        {"DomainName": "bad domain!"},
        {},
        "invalid_application_id",
    ),
    ("profile", "DeleteSegmentDefinition", {"DomainName": DOMAIN}, None, "missing_resource_id"),
    (
        "profile",
        "DeleteSegmentDefinition",
        {"DomainName": DOMAIN, "SegmentDefinitionName": "x y"},
        None,
        "invalid_resource_id",
    ),
    ("connect-campaigns", "CreateCampaign", {"name": "n"}, {"id": "c"}, "missing_application_id"),
    (
        "connect-campaigns",
        "CreateCampaign",
        {"connectInstanceId": INSTANCE},
        None,
        "missing_response",
    ),
    (
        "connect-campaigns",
        "CreateCampaign",
        {"connectInstanceId": INSTANCE},
        {"arn": "a"},
        "missing_resource_id",
    ),
    (
        "connect-campaigns",
        "CreateCampaign",
        {"connectInstanceId": INSTANCE, "type": "X"},
        {"id": "c"},
        "wrong_type",
    ),
    ("connect-campaigns", "StartCampaign", {}, None, "missing_resource_id"),
    (
        "connect-campaigns",
        "DeleteCampaign",
        {"id": "no spaces allowed"},
        None,
        "invalid_resource_id",
    ),
]


@pytest.mark.parametrize(
    ("source", "name", "request_parameters", "response", "reason"), BAD_RECORDS
)
def test_bad_connect_records_are_rejected_by_reason(
    source: str, name: str, request_parameters: Any, response: Any, reason: str
) -> None:
    raw = envelope(
        f"{source}.amazonaws.com",
        name,
        request_parameters=request_parameters,
        response_elements=response,
    )
    outcome = change_from_raw(raw, MONITORED, ChangeOrigin.CLOUDTRAIL_FILE, 3, catalog=BOTH)
    assert isinstance(outcome, Rejection)
    assert (outcome.reason.value, outcome.index, outcome.event_name) == (reason, 3, name)


def test_records_of_an_unmonitored_domain_or_instance_are_skipped() -> None:
    other_domain = envelope(
        "profile.amazonaws.com",
        "DeleteSegmentDefinition",
        request_parameters={"DomainName": "elsewhere", "SegmentDefinitionName": "gold"},
    )
    other_instance = envelope(
        "connect-campaigns.amazonaws.com",
        "CreateCampaign",
        request_parameters={"connectInstanceId": OTHER_INSTANCE, "name": "x"},
        response_elements={"id": "c", "arn": "a"},
    )
    for raw in (other_domain, other_instance):
        outcome = change_from_raw(raw, MONITORED, ChangeOrigin.CLOUDTRAIL_FILE, catalog=BOTH)
        assert outcome is Skip.UNMONITORED_APPLICATION
