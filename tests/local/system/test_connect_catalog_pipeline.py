"""The catalog pipeline for Amazon Connect on the local cloud, black box through boto3.

The local cloud seeds a Customer Profiles domain and a Connect instance and deploys the
template with both (CustomerProfilesDomainName, ConnectInstanceId), beside the Pinpoint
project: both targets in one stack. Campaigns (MANAGED and JOURNEY) and segment
definitions are created, renamed and deleted with plain boto3; the tables and the
CatalogEntryChanged events are read with plain boto3.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer

from infra.local import LocalCloud
from tests.fixtures.connect import (
    journey_campaign,
    managed_campaign,
    segment_definition,
)

pytestmark = pytest.mark.system

_deserialize = TypeDeserializer().deserialize


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(cloudtrail=True) as running:
        running.run_until_idle()  # the deploy-time backfill of empty scopes
        yield running


def _rows(cloud: LocalCloud, output: str) -> dict[str, dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=cloud.outputs[output])["Items"]
    return {item["id"]["S"]: {k: _deserialize(v) for k, v in item.items()} for item in items}


def _writes(cloud: LocalCloud, tag: str) -> dict[str, str]:
    domain = cloud.outputs["CustomerProfilesDomainName"]
    instance = cloud.outputs["ConnectInstanceId"]
    profiles = boto3.client("customer-profiles")
    campaigns = boto3.client("connectcampaignsv2")
    gold = segment_definition(profiles, f"gold-{tag}", f"Gold {tag}", domain=domain)
    doomed = segment_definition(profiles, f"doomed-{tag}", f"Doomed {tag}", domain=domain)
    campaign = managed_campaign(campaigns, f"Winback {tag}", gold, instance, domain)
    journey = journey_campaign(campaigns, f"Welcome {tag}", instance)
    cloud.run_until_idle()
    campaigns.update_campaign_name(id=campaign, name=f"Winback {tag} - renamed")
    campaigns.start_campaign(id=journey)
    cloud.run_until_idle()
    campaigns.delete_campaign(id=journey)
    profiles.delete_segment_definition(DomainName=domain, SegmentDefinitionName=doomed)
    cloud.run_until_idle()
    return {"gold": gold, "doomed": doomed, "campaign": campaign, "journey": journey}


def _check_catalog(cloud: LocalCloud, ids: dict[str, str], tag: str) -> None:
    domain = cloud.outputs["CustomerProfilesDomainName"]
    instance = cloud.outputs["ConnectInstanceId"]
    campaigns = _rows(cloud, "CampaignJourneyTableName")
    segments = _rows(cloud, "SegmentTableName")
    campaign = campaigns[f"connect:{ids['campaign']}"]
    assert {k: campaign.get(k) for k in ("resource_id", "platform", "type", "name")} == {
        "resource_id": ids["campaign"],
        "platform": "connect",
        "type": "campaign",
        "name": f"Winback {tag} - renamed",
    }
    assert (campaign["connect_instance_id"], campaign["domain_name"]) == (instance, domain)
    assert (campaign["segment_id"], campaign["event_name"], campaign["deleted"]) == (
        ids["gold"],
        None,
        False,
    )
    assert "application_id" not in campaign
    journey = campaigns[f"connect:{ids['journey']}"]
    assert (journey["type"], journey["deleted"], journey["name"]) == (
        "journey",
        True,
        f"Welcome {tag}",
    )
    assert f"connect:{ids['gold']}" in segments, sorted(segments)
    gold = segments[f"connect:{ids['gold']}"]
    assert (gold["platform"], gold["domain_name"], gold["name"], gold["segment_type"]) == (
        "connect",
        domain,
        f"Gold {tag}",
        "CLASSIC",
    )
    doomed = segments[f"connect:{ids['doomed']}"]
    assert (doomed["deleted"], doomed["name"]) == (True, f"Doomed {tag}")


def _announced(changes: list[dict[str, Any]], ids: dict[str, str]) -> list[tuple[str, str]]:
    mine = set(ids.values())
    return sorted(
        (change["after"]["id"], change["change"])
        for change in changes
        if change["after"]["platform"] == "connect" and change["after"]["id"] in mine
    )


def _expected(ids: dict[str, str]) -> list[tuple[str, str]]:
    return sorted(
        [
            (ids["gold"], "created"),
            (ids["doomed"], "created"),
            (ids["doomed"], "deleted"),
            (ids["campaign"], "created"),
            (ids["campaign"], "renamed"),
            (ids["journey"], "created"),
            (ids["journey"], "updated"),
            (ids["journey"], "deleted"),
        ]
    )


def test_connect_changes_reach_the_catalog_each_announced_once(cloud: LocalCloud) -> None:
    watch = cloud.subscribe("connect-catalog", {"detail-type": ["CatalogEntryChanged"]})
    ids = _writes(cloud, "live")
    _check_catalog(cloud, ids, "live")
    # The API-call events and the log files both delivered every write: announced once.
    changes = [event["detail"]["data"] for event in watch.received()]
    assert _announced(changes, ids) == _expected(ids)
    assert all(not messages for messages in cloud.dead_letters().values())


def test_connect_changes_reach_the_catalog_through_log_files_alone(cloud: LocalCloud) -> None:
    events = boto3.client("events")
    connect_rules = [
        rule["Name"]
        for rule in events.list_rules()["Rules"]
        if "CampaignsApiCallRule" in rule["Name"] or "ProfilesApiCallRule" in rule["Name"]
    ]
    assert len(connect_rules) == 2
    # Detach the rules' targets (moto delivers to a disabled rule's targets anyway).
    targets = {name: events.list_targets_by_rule(Rule=name)["Targets"] for name in connect_rules}
    for name, attached in targets.items():
        events.remove_targets(Rule=name, Ids=[target["Id"] for target in attached])
    try:
        watch = cloud.subscribe("connect-files", {"detail-type": ["CatalogEntryChanged"]})
        ids = _writes(cloud, "files")
        _check_catalog(cloud, ids, "files")
        changes = [event["detail"]["data"] for event in watch.received()]
        # A file coalesces the writes of one resource in its window: the journey's start
        # and deletion (and the short-lived segment's whole life) may be one change.
        announced = _announced(changes, ids)
        assert len(announced) == len(set(announced))
        assert (ids["campaign"], "renamed") in announced
        assert (ids["journey"], "deleted") in announced
        assert (ids["doomed"], "deleted") in announced
    finally:
        for name, attached in targets.items():
            events.put_targets(Rule=name, Targets=attached)
