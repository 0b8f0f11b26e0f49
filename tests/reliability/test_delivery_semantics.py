"""Delivery semantics: every message delivered twice, late and shuffled, changes nothing.

SQS and EventBridge deliver at least once and in no set order. `infra.local.delivery`'s
`Redelivery` makes that the normal case on the local cloud: each message a function's queue
receives is delivered twice, each delivery after a random number of pump rounds or only
once the system has gone quiet, in shuffled order. Both pipelines then run under it:

- catalog: Pinpoint writes -> CloudTrail API-call events and log files -> log-ingester ->
  name-resolver -> catalog-writer. The two catalog tables must end exactly as in a run
  where every message was delivered once, and no change may be announced twice.
- catalog on Amazon Connect: outbound campaigns v2 and segment definitions, the same
  path and the same claims (the tables as the writes left them, one announcement each).
- segmentation: SegmentQueryRequested -> validator -> runner -> Athena -> runner ->
  importer -> Pinpoint import job -> notifier -> SNS. One import job per run, one SNS
  message per run, the same endpoints (a saved segment's sync among the runs).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.local import LocalCloud
from infra.local.clock import VirtualClock
from infra.local.cloud import (
    athena_emulator,
    connect_campaigns_emulator,
    customer_profiles_emulator,
)
from tests.fixtures.connect import journey_campaign, managed_campaign, segment_definition
from tests.fixtures.pinpoint_resources import create_campaign, create_segment, rename_segment
from tests.reliability.pipelines import (
    CATALOG_FUNCTIONS,
    ENDPOINTS,
    IMPORT_QUERY,
    PLANS,
    SEGMENTATION_FUNCTIONS,
    import_jobs,
    no_dead_letters,
    only_pipeline,
    redeliver,
    request_run,
    scan,
    seeded_pinpoint,
    sns_inbox,
    write_lake,
)

pytestmark = pytest.mark.system

# Both runs of a comparison start their clocks here, so CloudTrail times are the same.
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
PHASE = timedelta(minutes=10)  # longer than a CloudTrail window (5 minutes) and its file
FAST_SEED = 11
SLOW_SEEDS = (5, 23)


# --------------------------------------------------------------------------- catalog pipeline


@dataclass
class CatalogRun:
    tables: dict[str, dict[str, Any]]
    announcements: list[dict[str, Any]]
    labels: dict[str, str]
    written_at: dict[str, datetime]  # label -> the time of the last Pinpoint write to it
    mirror: dict[str, dict[str, Any]]  # the catalog's mirror in S3, by label
    captured: int = 0
    repeats: int = 0  # resolutions the catalog-writer was handed again
    overtaken: int = 0  # resolutions that reached it after a newer one of the same resource

    def announced(self) -> Counter[tuple[str, str, str | None, str | None]]:
        """Each announced change as (entry, kind, name before, name after), labelled."""
        return Counter(
            (
                self.labels.get(data["after"]["id"], data["after"]["id"]),
                data["change"],
                (data.get("before") or {}).get("name"),
                data["after"]["name"],
            )
            for data in (event["detail"]["data"] for event in self.announcements)
        )


# What the scenario below must announce, however its messages are delivered: one change
# per transition the catalog saw (names are read when the resolver runs, so a create and
# a rename within one pass are one "created" under the newer name).
EXPECTED_ANNOUNCEMENTS = Counter(
    {
        ("segment-email", "created", None, "Newsletter subscribers"): 1,
        ("segment-email", "renamed", "Newsletter subscribers", "Weekly newsletter"): 1,
        ("segment-doomed", "created", None, "Short lived"): 1,
        ("segment-doomed", "deleted", "Short lived", "Short lived"): 1,
        ("segment-late", "created", None, "Late arrival"): 1,
        ("segment-late", "renamed", "Late arrival", "Late arrival, final"): 1,
        ("segment-brief", "created", None, "Brief"): 1,
        ("segment-brief", "deleted", "Brief", "Brief"): 1,
        ("campaign", "created", None, "Welcome"): 1,
        ("campaign", "renamed", "Welcome", "Welcome series"): 1,
        ("journey", "created", None, "Onboarding"): 1,
    }
)


def _next_phase(cloud: LocalCloud, phase: int) -> None:
    """Move the clock to the phase's start (the same times in every run)."""
    target = START + phase * PHASE
    assert cloud.clock.now() < target, "a phase ran past the next one's start"
    cloud.advance((target - cloud.clock.now()).total_seconds())


def run_catalog_scenario(seed: int | None) -> CatalogRun:
    """Creates, renames, publishes and deletes, in three phases; `seed` None: no redelivery."""
    with LocalCloud(
        cloudtrail=True, clock=VirtualClock(START), emulators=(seeded_pinpoint,)
    ) as cloud:
        only_pipeline(cloud, CATALOG_FUNCTIONS)
        redelivery = redeliver(cloud, seed) if seed is not None else None
        watch = cloud.subscribe("catalog", {"detail-type": ["CatalogEntryChanged"]})
        cloud.run_until_idle()  # the deploy-time backfill (delivered twice too)
        pinpoint = boto3.client("pinpoint")
        app = cloud.outputs["PinpointProjectId"]
        labels = {app: "app"}
        written: dict[str, datetime] = {}

        def wrote(label: str, resource_id: str | None = None) -> None:
            if resource_id is not None:
                labels[resource_id] = label
            written[label] = cloud.clock.now()

        _next_phase(cloud, 1)
        wrote("segment-email", email := create_segment(pinpoint, app, "Email subscribers"))
        wrote("segment-doomed", doomed := create_segment(pinpoint, app, "Short lived"))
        wrote("campaign", campaign := create_campaign(pinpoint, app, "Welcome", email))
        journey = pinpoint.create_journey(
            ApplicationId=app,
            WriteJourneyRequest={
                "Name": "Onboarding",
                "StartCondition": {"SegmentStartCondition": {"SegmentId": email}},
                "Activities": {},
            },
        )["JourneyResponse"]["Id"]
        wrote("journey", journey)
        cloud.clock.advance(10)  # same CloudTrail window: the log file coalesces both
        rename_segment(pinpoint, app, email, "Newsletter subscribers")
        wrote("segment-email")
        cloud.run_until_idle()

        _next_phase(cloud, 2)
        pinpoint.delete_segment(ApplicationId=app, SegmentId=doomed)
        wrote("segment-doomed")
        pinpoint.update_journey_state(
            ApplicationId=app, JourneyId=journey, JourneyStateRequest={"State": "ACTIVE"}
        )
        wrote("journey")
        pinpoint.update_campaign(
            ApplicationId=app,
            CampaignId=campaign,
            WriteCampaignRequest={"Name": "Welcome series", "SegmentId": email},
        )
        wrote("campaign")
        wrote("segment-late", late := create_segment(pinpoint, app, "Late arrival"))
        wrote("segment-brief", brief := create_segment(pinpoint, app, "Brief"))
        cloud.run_until_idle()

        _next_phase(cloud, 3)
        rename_segment(pinpoint, app, late, "Late arrival, renamed")
        cloud.clock.advance(5)
        rename_segment(pinpoint, app, email, "Weekly newsletter")
        wrote("segment-email")
        cloud.clock.advance(5)
        rename_segment(pinpoint, app, late, "Late arrival, final")
        wrote("segment-late")
        # Renamed, then deleted before anyone could read the new name (the resolver's 404).
        rename_segment(pinpoint, app, brief, "Brief, renamed")
        cloud.clock.advance(5)
        pinpoint.delete_segment(ApplicationId=app, SegmentId=brief)
        wrote("segment-brief")
        cloud.run_until_idle()

        assert no_dead_letters(cloud), cloud.dead_letters()
        repeats, overtaken = _writer_deliveries(cloud)
        return CatalogRun(
            tables={
                output: _labelled(scan(cloud, output), labels)
                for output in ("SegmentTableName", "CampaignJourneyTableName")
            },
            announcements=watch.of_type("CatalogEntryChanged"),
            labels=labels,
            written_at=written,
            mirror=_labelled(_mirror(cloud), labels),
            captured=len(redelivery.captured) if redelivery else 0,
            repeats=repeats,
            overtaken=overtaken,
        )


def _mirror(cloud: LocalCloud) -> list[dict[str, Any]]:
    """Every entry of the catalog's mirror (one JSON line per object), as Athena reads it."""
    s3, bucket = boto3.client("s3"), cloud.outputs["CatalogMirrorBucketName"]
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="catalog/")
        for item in page.get("Contents", [])
    ]
    return [json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()) for key in keys]


def _writer_deliveries(cloud: LocalCloud) -> tuple[int, int]:
    """What the catalog-writer was handed, in order: (repeated events, overtaken events)."""
    writer = cloud.stack.physical_name("CatalogWriterFunction")
    seen: set[str] = set()
    newest: dict[str, tuple[str, str]] = {}
    repeats = overtaken = 0
    for invocation in cloud.invocations:
        if invocation.function_name != writer:
            continue
        for record in invocation.event["Records"]:
            detail = json.loads(record["body"])["detail"]
            data, event_id = detail["data"], detail["metadata"]["event_id"]
            key = (data["event_time"], data["source_event_id"])
            repeats += event_id in seen
            seen.add(event_id)
            if key < newest.get(data["resource_id"], key):
                overtaken += 1
            newest[data["resource_id"]] = max(key, newest.get(data["resource_id"], key))
    return repeats, overtaken


def _labelled(items: list[dict[str, Any]], labels: dict[str, str]) -> dict[str, Any]:
    """Rows by label, with the Pinpoint ids inside them replaced by labels too (ids made
    after the first handler ran differ between runs: the emulator draws request ids from the
    same random source)."""
    text = json.dumps(items, default=str, sort_keys=True)
    for raw_id, label in labels.items():
        text = text.replace(raw_id, label)
    return {row["id"]: row for row in json.loads(text)}


def _check_catalog(run: CatalogRun) -> None:
    """The catalog the scenario must leave, and the announcements it must make, once each."""
    segments = run.tables["SegmentTableName"]
    entries = run.tables["CampaignJourneyTableName"]
    rows = {**segments, **entries}
    assert set(rows) == set(run.written_at)
    # The newest write wins, whatever arrived last.
    for label, moment in run.written_at.items():
        assert datetime.fromisoformat(rows[label]["event_time"]) == moment, label
    assert segments["segment-email"]["name"] == "Weekly newsletter"
    assert segments["segment-late"]["name"] == "Late arrival, final"
    assert (segments["segment-doomed"]["deleted"], segments["segment-brief"]["deleted"]) == (
        True,
        True,
    )
    assert segments["segment-brief"]["name"] == "Brief"  # a deletion keeps the known name
    assert entries["campaign"]["name"] == "Welcome series"
    assert entries["campaign"]["segment_id"] == "segment-email"
    assert entries["journey"]["state"] == "ACTIVE"
    assert not any("pending_event" in row for row in rows.values())  # every change announced
    # The mirror Athena reads holds exactly the tables' rows, whatever the delivery order.
    fields = ("name", "deleted", "source_event_id", "event_name", "state", "segment_id")
    assert {label: tuple(row.get(f) for f in fields) for label, row in run.mirror.items()} == {
        label: tuple(row.get(f) for f in fields) for label, row in rows.items()
    }
    # Nothing announced twice: not the same event, not the same change under another id.
    ids = [event["detail"]["metadata"]["event_id"] for event in run.announcements]
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
    assert run.announced() == EXPECTED_ANNOUNCEMENTS


def test_catalog_is_right_when_every_message_comes_twice_late_and_shuffled() -> None:
    twice = run_catalog_scenario(FAST_SEED)
    # The redelivery really fed every stage twice, and some resolutions came out of order.
    assert twice.captured > 40
    assert twice.repeats > 0
    assert twice.overtaken > 0
    _check_catalog(twice)


@pytest.fixture(scope="module")
def delivered_once() -> CatalogRun:
    return run_catalog_scenario(None)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [FAST_SEED, *SLOW_SEEDS])
def test_catalog_tables_are_those_of_a_once_delivered_run(
    seed: int, delivered_once: CatalogRun
) -> None:
    _check_catalog(delivered_once)
    twice = run_catalog_scenario(seed)
    assert twice.tables == delivered_once.tables
    assert twice.announced() == delivered_once.announced()


# --------------------------------------------------------------------------- segmentation


@dataclass(frozen=True)
class Run:
    run_id: str | None
    query: str
    outcome: str  # the notification's outcome
    imports: bool = False
    fields: dict[str, Any] = field(default_factory=dict)


RUNS = (
    Run("gold", IMPORT_QUERY.format(plan="gold"), "complete", imports=True),
    Run("silver", IMPORT_QUERY.format(plan="silver"), "complete", imports=True),
    Run("dry", IMPORT_QUERY.format(plan="gold"), "dry_run", fields={"dry_run": True}),
    # A saved segment's first sync (a mirror: a JSON import file): one job, one ending.
    Run(
        "synced",
        IMPORT_QUERY.format(plan="gold"),
        "complete",
        imports=True,
        fields={"sync_key": "gold-members", "mirror": True},
    ),
    Run("nobody", IMPORT_QUERY.format(plan="platinum"), "nothing_to_import"),
    Run("rejected", "delete from crm_customers", "rejected"),
    Run("broken", 'select endpoint_id as "Id" from no_such_table', "query_failed"),
    # No run id: the validator derives it from the EventBridge event id, the same for
    # every delivery of that event.
    Run(None, IMPORT_QUERY.format(plan="bronze"), "complete", imports=True),
)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_lake(tmp_path_factory.mktemp("lake"))


@dataclass
class SegmentationRun:
    notifications: list[dict[str, Any]]
    jobs: list[dict[str, Any]]
    endpoints: dict[str, Any]
    fed: Counter[str]  # messages the redelivery took per function (logical id)
    deliveries: Counter[int]  # how many deliveries each captured message got


def run_segmentation_scenario(lake: Path, seed: int) -> SegmentationRun:
    with LocalCloud(data_lake=lake, emulators=(seeded_pinpoint, athena_emulator)) as cloud:
        only_pipeline(cloud, SEGMENTATION_FUNCTIONS, keep_schedules=True)
        redelivery = redeliver(cloud, seed)
        inbox = sns_inbox(cloud)
        for run in RUNS:
            extra = {"run_id": run.run_id} if run.run_id else {}
            request_run(cloud, run.query, **extra, **run.fields)
        cloud.run_until_idle()
        assert no_dead_letters(cloud), cloud.dead_letters()

        pinpoint = boto3.client("pinpoint")
        endpoints = {
            endpoint: pinpoint.get_endpoint(
                ApplicationId=cloud.outputs["PinpointProjectId"], EndpointId=endpoint
            )["EndpointResponse"]["Attributes"]
            for endpoint in ENDPOINTS
        }
        logical_ids = {cloud.stack.physical_name(name): name for name in SEGMENTATION_FUNCTIONS}
        delivered = Counter(
            json.loads(record["body"])["id"]
            for invocation in cloud.invocations
            if isinstance(invocation.event, dict)
            for record in invocation.event.get("Records", [])
        )
        return SegmentationRun(
            notifications=[json.loads(note["Message"]) for note in inbox()],
            jobs=import_jobs(cloud),
            endpoints=endpoints,
            fed=Counter(logical_ids[function] for function, _ in redelivery.captured),
            deliveries=Counter(
                delivered[json.loads(body)["id"]] for _, body in redelivery.captured
            ),
        )


def _check_segmentation(lake: Path, seed: int) -> None:
    twice = run_segmentation_scenario(lake, seed)
    # Each stage was fed twice over: requests, validated runs, Athena's state changes,
    # succeeded queries and run endings.
    assert set(twice.fed) == set(SEGMENTATION_FUNCTIONS), twice.fed
    assert twice.fed["QueryValidatorFunction"] == len(RUNS)
    assert twice.deliveries == {2: sum(twice.fed.values())}

    # One SNS message per run, with the outcome the run has when delivered once.
    runs = Counter(note["run_id"] for note in twice.notifications)
    assert len(runs) == len(RUNS)
    assert max(runs.values()) == 1, runs
    outcomes = Counter(note["outcome"] for note in twice.notifications)
    assert outcomes == Counter(run.outcome for run in RUNS)
    # One Pinpoint import job per importing run, each for its own file.
    assert len(twice.jobs) == sum(run.imports for run in RUNS)
    files = [job["Definition"]["S3Url"] for job in twice.jobs]
    assert len(set(files)) == len(files)
    assert {job["JobStatus"] for job in twice.jobs} == {"COMPLETED"}
    plans = {endpoint: attributes["Plan"] for endpoint, attributes in twice.endpoints.items()}
    assert plans == {
        endpoint: [PLANS[index % len(PLANS)]] for index, endpoint in enumerate(ENDPOINTS)
    }


def test_segment_runs_import_and_notify_once_when_every_message_comes_twice(lake: Path) -> None:
    _check_segmentation(lake, FAST_SEED)


@pytest.mark.slow
@pytest.mark.parametrize("seed", list(SLOW_SEEDS))
def test_segment_runs_import_and_notify_once_for_other_shuffles(lake: Path, seed: int) -> None:
    _check_segmentation(lake, seed)


# --------------------------------------------------------------------------- Connect catalog


def test_connect_catalog_is_right_when_every_message_comes_twice_late_and_shuffled() -> None:
    """The Connect side of the catalog (outbound campaigns v2, segment definitions) under
    the same redelivery: the tables end as the writes left them, each change announced
    once, nothing dead-lettered."""
    emulators = (seeded_pinpoint, customer_profiles_emulator, connect_campaigns_emulator)
    with LocalCloud(cloudtrail=True, clock=VirtualClock(START), emulators=emulators) as cloud:
        only_pipeline(cloud, CATALOG_FUNCTIONS)
        redeliver(cloud, FAST_SEED)
        watch = cloud.subscribe("catalog", {"detail-type": ["CatalogEntryChanged"]})
        cloud.run_until_idle()
        domain = cloud.outputs["CustomerProfilesDomainName"]
        instance = cloud.outputs["ConnectInstanceId"]
        profiles, campaigns = boto3.client("customer-profiles"), boto3.client("connectcampaignsv2")
        _next_phase(cloud, 1)
        gold = segment_definition(profiles, "gold", "Gold", domain=domain)
        brief = segment_definition(profiles, "brief", "Brief", domain=domain)
        campaign = managed_campaign(campaigns, "Winback", gold, instance, domain)
        journey = journey_campaign(campaigns, "Welcome", instance)
        cloud.run_until_idle()
        _next_phase(cloud, 2)
        campaigns.update_campaign_name(id=campaign, name="Winback series")
        campaigns.start_campaign(id=journey)
        profiles.delete_segment_definition(DomainName=domain, SegmentDefinitionName=brief)
        cloud.run_until_idle()
        _next_phase(cloud, 3)
        campaigns.delete_campaign(id=journey)
        cloud.run_until_idle()

        rows = {
            row["id"]: row
            for output in ("CampaignJourneyTableName", "SegmentTableName")
            for row in scan(cloud, output)
        }
        state = {
            key: (row.get("type", "segment"), row["name"], row["deleted"], row.get("segment_id"))
            for key, row in rows.items()
        }
        assert state == {
            "connect:gold": ("segment", "Gold", False, None),
            "connect:brief": ("segment", "Brief", True, None),
            f"connect:{campaign}": ("campaign", "Winback series", False, "gold"),
            f"connect:{journey}": ("journey", "Welcome", True, None),
        }
        announced = Counter(
            (event["detail"]["data"]["after"]["id"], event["detail"]["data"]["change"])
            for event in watch.received()
        )
        assert announced == Counter(
            {
                ("gold", "created"): 1,
                ("brief", "created"): 1,
                ("brief", "deleted"): 1,
                (campaign, "created"): 1,
                (campaign, "renamed"): 1,
                (journey, "created"): 1,
                (journey, "updated"): 1,
                (journey, "deleted"): 1,
            }
        )
        assert no_dead_letters(cloud)
