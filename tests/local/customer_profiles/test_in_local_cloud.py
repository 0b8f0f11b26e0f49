"""Inside LocalCloud, with plain boto3: the Connect target exists, works and is on the trail."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra.local import LocalCloud
from infra.local.subscriptions import subscribe

from .test_upload_jobs import FIELDS, put, sse_headers

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(cloudtrail=True) as running:
        running.run_until_idle()
        yield running


def _trail_records(cloud: LocalCloud) -> list[dict[str, Any]]:
    s3 = boto3.client("s3")
    bucket = cloud.outputs["CloudTrailBucketName"]
    records: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            records.extend(json.loads(gzip.decompress(body))["Records"])
    return records


def test_profiles_upload_segment_and_campaign_on_the_local_cloud(cloud: LocalCloud) -> None:
    domain = cloud.outputs["CustomerProfilesDomainName"]
    instance = cloud.outputs["ConnectInstanceId"]
    assert domain
    assert instance
    bus = subscribe(
        boto3.client("events"),
        boto3.client("sqs"),
        bus_name="default",
        name="connect-trail",
        pattern={"source": ["aws.profile", "aws.connect-campaigns"]},
    )
    profiles = boto3.client("customer-profiles")
    campaigns = boto3.client("connectcampaignsv2")

    ada = profiles.create_profile(DomainName=domain, EmailAddress="ada@corp.io")["ProfileId"]
    job = profiles.create_upload_job(
        DomainName=domain, DisplayName="run-1", Fields=FIELDS, UniqueKey="email"
    )["JobId"]
    path = profiles.get_upload_job_path(DomainName=domain, JobId=job)
    csv = "email,first_name,phone,spend,tier\nada@corp.io,Ada,,10,gold\nbob@x.io,Bob,,5,gold\n"
    assert put(path["Url"], csv.encode(), sse_headers(path["ClientToken"])) == 200
    profiles.start_upload_job(DomainName=domain, JobId=job)
    cloud.run_until_idle()  # the job runs on the cloud's clock
    done = profiles.get_upload_job(DomainName=domain, JobId=job)
    assert done["Status"] == "SUCCEEDED"
    assert done["ResultsSummary"] == {"CreatedRecords": 1, "UpdatedRecords": 1, "FailedRecords": 0}
    (updated,) = profiles.search_profiles(DomainName=domain, KeyName="_profileId", Values=[ada])[
        "Items"
    ]
    assert updated["Attributes"]["Tier"] == "gold"

    segment_arn = profiles.create_segment_definition(
        DomainName=domain,
        SegmentDefinitionName="run-1-gold",
        DisplayName="Gold of run 1",
        SegmentGroups={
            "Groups": [
                {
                    "Dimensions": [
                        {
                            "ProfileAttributes": {
                                "Attributes": {
                                    "Tier": {"DimensionType": "INCLUSIVE", "Values": ["gold"]}
                                }
                            }
                        }
                    ]
                }
            ]
        },
    )["SegmentDefinitionArn"]
    membership = profiles.get_segment_membership(
        DomainName=domain, SegmentDefinitionName="run-1-gold", ProfileIds=[ada]
    )
    assert membership["Profiles"][0]["QueryResult"] == "PRESENT"

    campaign = campaigns.create_campaign(
        name="Gold offer",
        connectInstanceId=instance,
        type="JOURNEY",
        connectCampaignFlowArn=f"arn:aws:connect:us-east-1:123456789012:instance/{instance}/contact-flow/f",
        source={"customerProfilesSegmentArn": segment_arn},
    )["id"]
    campaigns.update_campaign_name(id=campaign, name="Gold offer (final)")
    campaigns.start_campaign(id=campaign)
    campaigns.pause_campaign(id=campaign)
    campaigns.delete_campaign(id=campaign)
    cloud.advance(300)  # the CloudTrail window closes
    cloud.run_until_idle()

    writes = {
        ("profile.amazonaws.com", "CreateProfile"),
        ("profile.amazonaws.com", "CreateUploadJob"),
        ("profile.amazonaws.com", "StartUploadJob"),
        ("profile.amazonaws.com", "CreateSegmentDefinition"),
        ("connect-campaigns.amazonaws.com", "CreateCampaign"),
        ("connect-campaigns.amazonaws.com", "UpdateCampaignName"),
        ("connect-campaigns.amazonaws.com", "StartCampaign"),
        ("connect-campaigns.amazonaws.com", "PauseCampaign"),
        ("connect-campaigns.amazonaws.com", "DeleteCampaign"),
    }
    in_files = {(r["eventSource"], r["eventName"]) for r in _trail_records(cloud)}
    assert writes <= in_files
    events = bus.received()
    on_bus = {(e["detail"]["eventSource"], e["detail"]["eventName"]) for e in events}
    assert writes <= on_bus
    assert {e["source"] for e in events} == {"aws.profile", "aws.connect-campaigns"}
    assert all(e["detail-type"] == "AWS API Call via CloudTrail" for e in events)
    assert cloud.dead_letters() == {name: [] for name in cloud.dead_letters()}
