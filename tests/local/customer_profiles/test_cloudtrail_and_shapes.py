"""CloudTrail records of Customer Profiles calls, and every operation against its output shape."""

from __future__ import annotations

import contextlib
import gzip
import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

from infra.local.clock import VirtualClock
from infra.local.cloudtrail import CloudTrailRecorder
from infra.local.customer_profiles import CustomerProfilesEmulator
from tests.fixtures.emulator_tests import REGION, TRAIL_BUCKET

from .conftest import DOMAIN, checked_client
from .test_upload_jobs import FIELDS, sse_headers
from .test_upload_jobs import put as put_file

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"


def test_writes_are_recorded_with_sensitive_fields_masked(
    emulator: CustomerProfilesEmulator, recorder: CloudTrailRecorder, clock: VirtualClock
) -> None:
    client = checked_client()
    client.create_domain(DomainName=DOMAIN, DefaultExpirationDays=30)
    client.create_profile(DomainName=DOMAIN, FirstName="Ada", Attributes={"tier": "gold"})
    client.search_profiles(DomainName=DOMAIN, KeyName="_email", Values=["a@b.io"])  # a read
    client.create_segment_definition(
        DomainName=DOMAIN,
        SegmentDefinitionName="gold",
        DisplayName="Gold customers",
        Description="the best",
        SegmentGroups={
            "Groups": [
                {
                    "Dimensions": [
                        {
                            "ProfileAttributes": {
                                "Attributes": {
                                    "tier": {"DimensionType": "INCLUSIVE", "Values": ["gold"]}
                                }
                            }
                        }
                    ]
                }
            ]
        },
    )
    assert [r["eventName"] for r in recorder.records] == [
        "CreateDomain",
        "CreateProfile",
        "CreateSegmentDefinition",
    ]
    profile, segment = recorder.records[1], recorder.records[2]
    assert profile["eventSource"] == "profile.amazonaws.com"
    assert profile["tlsDetails"]["clientProvidedHostHeader"] == f"profile.{REGION}.amazonaws.com"
    assert profile["requestParameters"] == {
        "DomainName": DOMAIN,
        "FirstName": HIDDEN,
        "Attributes": HIDDEN,
    }
    assert segment["requestParameters"]["DisplayName"] == "Gold customers"
    assert segment["requestParameters"]["SegmentGroups"] == HIDDEN
    assert segment["requestParameters"]["Description"] == HIDDEN
    assert segment["responseElements"]["SegmentDefinitionName"] == "gold"
    assert segment["responseElements"]["Description"] == HIDDEN

    clock.advance(300)
    emulator.tick()
    s3 = boto3.client("s3", region_name=REGION)
    (key,) = [item["Key"] for item in s3.list_objects_v2(Bucket=TRAIL_BUCKET)["Contents"]]
    body = s3.get_object(Bucket=TRAIL_BUCKET, Key=key)["Body"].read()
    names = sorted(r["eventName"] for r in json.loads(gzip.decompress(body))["Records"])
    assert names == ["CreateDomain", "CreateProfile", "CreateSegmentDefinition"]


def test_every_operation_response_matches_its_output_shape(
    emulator: CustomerProfilesEmulator, clock: VirtualClock
) -> None:
    checked: set[str] = set()
    client = checked_client(checked)
    client.create_domain(
        DomainName=DOMAIN,
        DefaultExpirationDays=30,
        Matching={"Enabled": True, "JobSchedule": {"DayOfTheWeek": "MONDAY", "Time": "10:00"}},
        RuleBasedMatching={"Enabled": False},
        DataStore={"Enabled": True},
        Tags={"k": "v"},
    )
    client.get_domain(DomainName=DOMAIN)
    client.list_domains()
    pid = client.create_profile(
        DomainName=DOMAIN, FirstName="A", Address={"City": "X"}, Gender="FEMALE"
    )["ProfileId"]
    client.update_profile(DomainName=DOMAIN, ProfileId=pid, LastName="B")
    client.search_profiles(DomainName=DOMAIN, KeyName="_profileId", Values=[pid])
    job = client.create_upload_job(
        DomainName=DOMAIN, DisplayName="j", Fields=FIELDS, UniqueKey="email"
    )["JobId"]
    path = client.get_upload_job_path(DomainName=DOMAIN, JobId=job)
    put_file(path["Url"], b"email\na@b.io\n", sse_headers(path["ClientToken"]))
    client.start_upload_job(DomainName=DOMAIN, JobId=job)
    clock.advance(5)
    emulator.tick()
    client.get_upload_job(DomainName=DOMAIN, JobId=job)
    other = client.create_upload_job(
        DomainName=DOMAIN, DisplayName="k", Fields=FIELDS, UniqueKey="email"
    )["JobId"]
    client.stop_upload_job(DomainName=DOMAIN, JobId=other)
    client.list_upload_jobs(DomainName=DOMAIN)
    groups = {
        "Include": "ALL",
        "Groups": [
            {
                "Type": "ALL",
                "Dimensions": [
                    {
                        "ProfileAttributes": {
                            "FirstName": {"DimensionType": "INCLUSIVE", "Values": ["A"]}
                        }
                    }
                ],
            }
        ],
    }
    client.create_segment_definition(
        DomainName=DOMAIN,
        SegmentDefinitionName="s",
        DisplayName="S",
        SegmentGroups=groups,
        Tags={"k": "v"},
    )
    client.create_segment_definition(
        DomainName=DOMAIN,
        SegmentDefinitionName="sql",
        DisplayName="SQL",
        SegmentSqlQuery="SELECT * FROM profiles",
    )
    client.get_segment_definition(DomainName=DOMAIN, SegmentDefinitionName="s")
    client.get_segment_definition(DomainName=DOMAIN, SegmentDefinitionName="sql")
    client.list_segment_definitions(DomainName=DOMAIN)
    client.get_segment_membership(
        DomainName=DOMAIN, SegmentDefinitionName="s", ProfileIds=[pid, "0" * 32]
    )
    estimate = client.create_segment_estimate(DomainName=DOMAIN, SegmentQuery=groups)
    client.get_segment_estimate(DomainName=DOMAIN, EstimateId=estimate["EstimateId"])
    client.delete_segment_definition(DomainName=DOMAIN, SegmentDefinitionName="s")
    client.delete_profile(DomainName=DOMAIN, ProfileId=pid)
    client.delete_domain(DomainName=DOMAIN)
    assert checked == set(emulator.operation_names)


def test_other_regions_and_operations_fall_through(emulator: CustomerProfilesEmulator) -> None:
    client = boto3.client("customer-profiles", region_name=REGION)
    with contextlib.suppress(ClientError):
        client.list_integrations(DomainName=DOMAIN)  # not emulated: moto answers
    assert emulator.calls["ListIntegrations"] == 0
    elsewhere: Any = boto3.client("customer-profiles", region_name="eu-west-1")
    with contextlib.suppress(ClientError):
        elsewhere.list_domains()
    assert emulator.calls["ListDomains"] == 0
