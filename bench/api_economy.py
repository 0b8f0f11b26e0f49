"""Benchmark 2: Pinpoint GET calls the name-resolver makes for a burst of changes.

Pinpoint's GetCampaign/GetJourney/GetSegment quotas are small, and a burst of console or
script work produces many changes to few resources. The resolver reads each distinct
resource once per SQS batch (`BatchMemo`), whatever the number of changes to it.

On the local cloud (Pinpoint emulator, moto SQS and EventBridge, the real handler):

1. 100 resources (quick: 20) exist in Pinpoint: segments, campaigns and published journeys;
2. 10 changes per resource, 1,000 `PinpointResourceChanged` events in all (quick: 200), are
   put on the bus in one of two orders: ``shuffled`` (any order: the worst case for a
   per-batch memo) and ``grouped`` (each resource's changes together, as one script editing
   resource after resource produces them);
3. only the name-resolver's queue is pumped, so its function gets the SQS batches the
   template configures (its event source's BatchSize);
4. the emulator counts the GET calls it answered (retries included).

The naive baseline is the same `resolve` and the same Pinpoint adapter without the batch
memo, one GET per change, run on the same events and counted the same way.

Ratios: GETs per distinct resource per batch (target: at most 1), and naive GETs over the
resolver's GETs.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from bench.cloud_tools import batch_size, only_function, services_log_to
from bench.harness import Options, Ratio, Report
from contracts import (
    ChangeAction,
    ChangeOrigin,
    PinpointResourceChanged,
    ResourceChange,
    ResourceType,
    derived_event_id,
    put_events_entry,
)
from infra.local import LocalCloud
from infra.local.pinpoint import PinpointEmulator
from services.common.clients import AwsClients
from services.common.targets.pinpoint.catalog import PINPOINT_CATALOG
from services.name_resolver.adapters import PinpointApiResources
from services.name_resolver.logic import resolve

NAME = "api_economy"
FUNCTION = "NameResolverFunction"
CHANGES_PER_RESOURCE = 10
GET_OPERATIONS = ("GetCampaign", "GetJourney", "GetSegment")
START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
OPERATIONS = {
    ResourceType.CAMPAIGN: "UpdateCampaign",
    ResourceType.JOURNEY: "UpdateJourney",
    ResourceType.SEGMENT: "UpdateSegment",
}


@dataclass(frozen=True)
class Outcome:
    order: str
    changes: int
    batches: int
    largest_batch: int
    distinct_per_batch: int  # sum over batches of the distinct resources each one touches
    gets: int
    resolved: int


def run(options: Options) -> Report:
    report = Report(NAME)
    resources = options.scaled(100, 20)
    log = options.work_dir / f"{NAME}-services.log"
    with services_log_to(log), LocalCloud() as cloud:
        cloud.run_until_idle()  # the deploy-time backfill of the empty project
        size = batch_size(cloud, FUNCTION)
        application_id = str(cloud.outputs["PinpointProjectId"])
        targets = _create_resources(application_id, resources)
        events = _changes(application_id, targets)
        outcomes = [
            _through_the_resolver(cloud, order, _ordered(events, order))
            for order in ("shuffled", "grouped")
        ]
        naive_gets = _naive(cloud, events)
    report.figure(
        f"{len(events)} changes to {resources} resources; {FUNCTION} BatchSize {size} "
        f"(from the template); services' logs in {log}"
    )
    report.figure(f"naive resolver (one GET per change): {naive_gets} GETs")
    for outcome in outcomes:
        if outcome.resolved != outcome.changes:
            raise RuntimeError(f"{outcome.order}: {outcome.resolved} of {outcome.changes} resolved")
        report.figure(
            f"{outcome.order}: {outcome.batches} batches (largest {outcome.largest_batch}), "
            f"{outcome.gets} GETs, {outcome.gets / outcome.batches:.1f} GETs per batch, "
            f"{outcome.distinct_per_batch} distinct resources summed over batches"
        )
        report.ratio(
            Ratio(
                NAME,
                f"GETs ({outcome.order})",
                "distinct resources per batch",
                outcome.gets / outcome.distinct_per_batch,
                target=1.0,
                at_most=True,
            )
        )
        report.ratio(
            Ratio(
                NAME,
                f"resolver GETs ({outcome.order})",
                "naive one GET per change",
                naive_gets / outcome.gets,
            )
        )
    return report


def _create_resources(application_id: str, count: int) -> list[tuple[ResourceType, str]]:
    """Segments, campaigns on them and published journeys, about a third each."""
    pinpoint: Any = boto3.client("pinpoint")
    kinds = [
        (ResourceType.SEGMENT, ResourceType.CAMPAIGN, ResourceType.JOURNEY)[i % 3]
        for i in range(count)
    ]
    segments = []
    for index in range(kinds.count(ResourceType.SEGMENT)):
        response = pinpoint.create_segment(
            ApplicationId=application_id,
            WriteSegmentRequest={
                "Name": f"Bench segment {index}",
                "Dimensions": {"Demographic": {"Channel": {"Values": ["EMAIL"]}}},
            },
        )
        segments.append(str(response["SegmentResponse"]["Id"]))
    created: list[tuple[ResourceType, str]] = [(ResourceType.SEGMENT, s) for s in segments]
    for index in range(kinds.count(ResourceType.CAMPAIGN)):
        campaign = pinpoint.create_campaign(
            ApplicationId=application_id,
            WriteCampaignRequest={
                "Name": f"Bench campaign {index}",
                "SegmentId": segments[index % len(segments)],
                "Schedule": {"StartTime": "IMMEDIATE", "Frequency": "ONCE"},
                "MessageConfiguration": {
                    "EmailMessage": {"Title": "Hello", "HtmlBody": "<p>Hello</p>"}
                },
            },
        )["CampaignResponse"]
        created.append((ResourceType.CAMPAIGN, str(campaign["Id"])))
    for index in range(kinds.count(ResourceType.JOURNEY)):
        journey = pinpoint.create_journey(
            ApplicationId=application_id,
            WriteJourneyRequest={
                "Name": f"Bench journey {index}",
                "StartCondition": {
                    "SegmentStartCondition": {"SegmentId": segments[index % len(segments)]}
                },
                "Activities": {},
            },
        )["JourneyResponse"]
        pinpoint.update_journey_state(
            ApplicationId=application_id,
            JourneyId=journey["Id"],
            JourneyStateRequest={"State": "ACTIVE"},  # a DRAFT journey is not cataloged
        )
        created.append((ResourceType.JOURNEY, str(journey["Id"])))
    return created


def _changes(
    application_id: str, targets: list[tuple[ResourceType, str]]
) -> list[PinpointResourceChanged]:
    """CHANGES_PER_RESOURCE updates of every resource, grouped by resource."""
    events = []
    for index, (resource_type, resource_id) in enumerate(targets):
        for step in range(CHANGES_PER_RESOURCE):
            source_event_id = f"bench-{index:04d}-{step:02d}"
            change = ResourceChange(
                resource_type=resource_type,
                application_id=application_id,
                resource_id=resource_id,
                action=ChangeAction.UPDATED,
                event_time=START + timedelta(seconds=index * CHANGES_PER_RESOURCE + step),
                source_event_id=source_event_id,
                operation=OPERATIONS[resource_type],
                origin=ChangeOrigin.CLOUDTRAIL_EVENT,
            )
            events.append(
                PinpointResourceChanged.new(
                    change,
                    correlation_id=NAME,
                    event_id=derived_event_id(NAME, source_event_id),
                )
            )
    return events


def _ordered(events: list[PinpointResourceChanged], order: str) -> list[PinpointResourceChanged]:
    if order == "grouped":
        return list(events)
    shuffled = list(events)
    random.Random(7).shuffle(shuffled)  # noqa: S311 - a fixed, reproducible order
    return shuffled


def _through_the_resolver(
    cloud: LocalCloud, order: str, events: list[PinpointResourceChanged]
) -> Outcome:
    emulator = cloud.emulator(PinpointEmulator)
    function_name = cloud.stack.physical_name(FUNCTION)
    bus = str(cloud.outputs["EventBusName"])
    events_client: Any = boto3.client("events")
    for start in range(0, len(events), 10):
        entries = [put_events_entry(e, event_bus_name=bus) for e in events[start : start + 10]]
        response = events_client.put_events(Entries=entries)
        if response["FailedEntryCount"]:
            raise RuntimeError(f"PutEvents failed: {response['Entries']}")
    gets_before = _gets(emulator.calls)
    first_invocation = len(cloud.runtime.invocations)
    with only_function(cloud, FUNCTION):
        cloud.run_until_idle(max_rounds=400)
    invocations = [
        invocation
        for invocation in cloud.runtime.invocations[first_invocation:]
        if invocation.function_name == function_name
    ]
    distinct = 0
    sizes = []
    for invocation in invocations:
        if invocation.error is not None or invocation.failed_message_ids:
            raise RuntimeError(f"the name-resolver failed a batch: {invocation.error}")
        records = invocation.event["Records"]
        sizes.append(len(records))
        distinct += len({_resource_key(record["body"]) for record in records})
    return Outcome(
        order=order,
        changes=len(events),
        batches=len(invocations),
        largest_batch=max(sizes, default=0),
        distinct_per_batch=distinct,
        gets=_gets(emulator.calls) - gets_before,
        resolved=sum(sizes),
    )


def _naive(cloud: LocalCloud, events: list[PinpointResourceChanged]) -> int:
    """One GET per change: the resolver's logic and adapter without the batch memo."""
    emulator = cloud.emulator(PinpointEmulator)
    before = _gets(emulator.calls)
    resources = PinpointApiResources(AwsClients().pinpoint)
    for event in events:
        resolve(event, resources, PINPOINT_CATALOG)
    return _gets(emulator.calls) - before


def _resource_key(body: str) -> tuple[str, str, str]:
    data = json.loads(body)["detail"]["data"]
    return (data["resource_type"], data["application_id"], data["resource_id"])


def _gets(calls: Counter[str]) -> int:
    return sum(calls[operation] for operation in GET_OPERATIONS)
