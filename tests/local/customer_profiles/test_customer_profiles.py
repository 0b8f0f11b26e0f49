"""The Customer Profiles emulator through plain boto3: domains, profiles, search, segments."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.customer_profiles import CustomerProfilesEmulator

from .conftest import DOMAIN


def create(client: Any, **fields: Any) -> str:
    return str(client.create_profile(DomainName=DOMAIN, **fields)["ProfileId"])


def find(client: Any, key: str, *values: str, **extra: Any) -> list[dict[str, Any]]:
    response = client.search_profiles(DomainName=DOMAIN, KeyName=key, Values=list(values), **extra)
    items: list[dict[str, Any]] = response["Items"]
    return items


def test_domains_create_get_list_delete(profiles: Any) -> None:
    profiles.create_domain(DomainName="other", DefaultExpirationDays=1, Tags={"team": "crm"})
    domain = profiles.get_domain(DomainName=DOMAIN)
    assert domain["DefaultExpirationDays"] == 366
    assert domain["Stats"]["ProfileCount"] == 0
    names = [item["DomainName"] for item in profiles.list_domains()["Items"]]
    assert names == ["other", DOMAIN]
    first = profiles.list_domains(MaxResults=1)
    assert len(first["Items"]) == 1
    assert profiles.list_domains(NextToken=first["NextToken"])["Items"][0]["DomainName"] == DOMAIN
    with pytest.raises(profiles.exceptions.BadRequestException):
        profiles.create_domain(DomainName=DOMAIN, DefaultExpirationDays=1)
    profiles.delete_domain(DomainName="other")
    with pytest.raises(profiles.exceptions.ResourceNotFoundException):
        profiles.get_domain(DomainName="other")


def test_model_limits_are_enforced(profiles: Any) -> None:
    with pytest.raises(profiles.exceptions.BadRequestException) as too_long:
        profiles.create_domain(DomainName="x" * 65, DefaultExpirationDays=1)
    assert "length less than or equal to 64" in str(too_long.value)
    with pytest.raises(profiles.exceptions.BadRequestException) as pattern:
        profiles.create_domain(DomainName="no spaces", DefaultExpirationDays=1)
    assert "regular expression pattern" in str(pattern.value)
    with pytest.raises(profiles.exceptions.BadRequestException) as days:
        profiles.create_domain(DomainName="d", DefaultExpirationDays=1099)
    assert "less than or equal to 1098" in str(days.value)
    with pytest.raises(profiles.exceptions.BadRequestException) as name:
        create(profiles, FirstName="x" * 256)
    assert "Value at 'firstName'" in str(name.value)  # a sensitive value is never echoed
    with pytest.raises(profiles.exceptions.BadRequestException):
        profiles.search_profiles(DomainName=DOMAIN, KeyName="_email", Values=["a"], MaxResults=101)


def test_update_keeps_omitted_fields_and_empty_string_removes(profiles: Any) -> None:
    profile_id = create(
        profiles,
        FirstName="Ada",
        LastName="Lovelace",
        EmailAddress="ada@example.com",
        Address={"City": "London", "Country": "UK"},
        Attributes={"tier": "gold", "region": "eu"},
    )
    profiles.update_profile(
        DomainName=DOMAIN,
        ProfileId=profile_id,
        LastName="",
        PhoneNumber="+441234567890",
        Address={"City": ""},
        Attributes={"tier": "", "plan": "pro"},
    )
    (profile,) = find(profiles, "_profileId", profile_id)
    assert profile["FirstName"] == "Ada"
    assert "LastName" not in profile
    assert profile["PhoneNumber"] == "+441234567890"
    assert profile["Address"] == {"Country": "UK"}
    assert profile["Attributes"] == {"region": "eu", "plan": "pro"}
    with pytest.raises(profiles.exceptions.ResourceNotFoundException):
        profiles.update_profile(DomainName=DOMAIN, ProfileId="0" * 32, FirstName="x")
    profiles.delete_profile(DomainName=DOMAIN, ProfileId=profile_id)
    assert find(profiles, "_profileId", profile_id) == []


def test_search_predefined_keys_additional_keys_and_paging(profiles: Any) -> None:
    ada = create(
        profiles,
        FirstName="Ada",
        LastName="Lovelace",
        AccountNumber="A-1",
        BusinessEmailAddress="ada@corp.io",
        MobilePhoneNumber="+15550001",
    )
    bob = create(profiles, FirstName="Bob", AccountNumber="A-2", EmailAddress="bob@x.io")
    assert [p["ProfileId"] for p in find(profiles, "_account", "A-1")] == [ada]
    assert [p["ProfileId"] for p in find(profiles, "_email", "ada@corp.io")] == [ada]
    assert [p["ProfileId"] for p in find(profiles, "_phone", "+15550001")] == [ada]
    (found,) = find(profiles, "_fullName", "Ada Lovelace")
    assert found["FoundByItems"] == [{"KeyName": "_fullName", "Values": ["Ada Lovelace"]}]
    both = find(
        profiles,
        "_account",
        "A-1",
        AdditionalSearchKeys=[{"KeyName": "_email", "Values": ["bob@x.io"]}],
        LogicalOperator="OR",
    )
    assert {p["ProfileId"] for p in both} == {ada, bob}
    neither = find(
        profiles,
        "_account",
        "A-1",
        AdditionalSearchKeys=[{"KeyName": "_email", "Values": ["bob@x.io"]}],
        LogicalOperator="AND",
    )
    assert neither == []
    page = profiles.search_profiles(
        DomainName=DOMAIN, KeyName="_account", Values=["A-1", "A-2"], MaxResults=1
    )
    rest = profiles.search_profiles(
        DomainName=DOMAIN, KeyName="_account", Values=["A-1", "A-2"], NextToken=page["NextToken"]
    )
    assert [p["ProfileId"] for p in page["Items"] + rest["Items"]] == [ada, bob]
    assert "NextToken" not in rest
    with pytest.raises(profiles.exceptions.BadRequestException):
        find(profiles, "unknownKey", "x")


def test_classic_segment_definitions_and_membership(profiles: Any) -> None:
    gold = create(
        profiles,
        FirstName="Ada",
        EmailAddress="ada@corp.io",
        Address={"City": "London"},
        Attributes={"tier": "gold", "spend": "120"},
    )
    silver = create(
        profiles,
        FirstName="Bob",
        EmailAddress="bob@home.net",
        Attributes={"tier": "silver", "spend": "40"},
    )
    bare = create(profiles, FirstName="Cy")

    def segment(name: str, include: str, *dimensions: dict[str, Any], kind: str = "ALL") -> None:
        profiles.create_segment_definition(
            DomainName=DOMAIN,
            SegmentDefinitionName=name,
            DisplayName=name.title(),
            Description="secret description",
            SegmentGroups={
                "Include": include,
                "Groups": [
                    {"Type": kind, "Dimensions": [{"ProfileAttributes": d} for d in dimensions]}
                ],
            },
        )

    def members(name: str) -> dict[str, str]:
        response = profiles.get_segment_membership(
            DomainName=DOMAIN, SegmentDefinitionName=name, ProfileIds=[gold, silver, bare]
        )
        return {p["ProfileId"]: p["QueryResult"] for p in response["Profiles"]}

    tier = {"Attributes": {"tier": {"DimensionType": "INCLUSIVE", "Values": ["gold"]}}}
    corp = {"EmailAddress": {"DimensionType": "ENDS_WITH", "Values": ["@corp.io"]}}
    segment("gold-corp", "ALL", tier, corp)
    assert members("gold-corp") == {gold: "PRESENT", silver: "ABSENT", bare: "ABSENT"}

    starts = {"FirstName": {"DimensionType": "BEGINS_WITH", "Values": ["B", "C"]}}
    segment("b-or-c", "ANY", starts)
    assert members("b-or-c") == {gold: "ABSENT", silver: "PRESENT", bare: "PRESENT"}

    segment("not-b-or-c", "NONE", starts)
    assert members("not-b-or-c") == {gold: "PRESENT", silver: "ABSENT", bare: "ABSENT"}

    city = {"Address": {"City": {"DimensionType": "CONTAINS", "Values": ["ondo"]}}}
    not_gold = {"Attributes": {"tier": {"DimensionType": "EXCLUSIVE", "Values": ["gold"]}}}
    segment("london-or-not-gold", "ALL", city, not_gold, kind="ANY")
    assert members("london-or-not-gold") == {gold: "PRESENT", silver: "PRESENT", bare: "PRESENT"}

    big = {"Attributes": {"spend": {"DimensionType": "GREATER_THAN", "Values": ["100"]}}}
    segment("big-spenders", "ALL", big)
    assert members("big-spenders")[gold] == "PRESENT"
    assert members("big-spenders")[silver] == "ABSENT"

    definition = profiles.get_segment_definition(
        DomainName=DOMAIN, SegmentDefinitionName="gold-corp"
    )
    assert definition["SegmentType"] == "CLASSIC"
    assert definition["DisplayName"] == "Gold-Corp"
    assert definition["SegmentDefinitionArn"].endswith(
        f":domains/{DOMAIN}/segment-definitions/gold-corp"
    )
    listed = profiles.list_segment_definitions(DomainName=DOMAIN, MaxResults=2)
    assert len(listed["Items"]) == 2
    assert "NextToken" in listed

    unknown = profiles.get_segment_membership(
        DomainName=DOMAIN, SegmentDefinitionName="gold-corp", ProfileIds=["f" * 32]
    )
    assert unknown["Failures"][0]["Status"] == 404

    estimate_id = profiles.create_segment_estimate(
        DomainName=DOMAIN,
        SegmentQuery={"Include": "ANY", "Groups": [{"Dimensions": [{"ProfileAttributes": tier}]}]},
    )["EstimateId"]
    estimate = profiles.get_segment_estimate(DomainName=DOMAIN, EstimateId=estimate_id)
    assert (estimate["Status"], estimate["Estimate"]) == ("SUCCEEDED", "1")

    with pytest.raises(profiles.exceptions.BadRequestException):
        segment("gold-corp", "ALL", tier)  # names are unique in a domain
    profiles.delete_segment_definition(DomainName=DOMAIN, SegmentDefinitionName="gold-corp")
    with pytest.raises(profiles.exceptions.ResourceNotFoundException):
        profiles.get_segment_definition(DomainName=DOMAIN, SegmentDefinitionName="gold-corp")
    with pytest.raises(profiles.exceptions.ResourceNotFoundException):
        profiles.get_segment_membership(
            DomainName=DOMAIN, SegmentDefinitionName="gold-corp", ProfileIds=[gold]
        )


def test_segment_groups_need_profile_attributes(profiles: Any) -> None:
    with pytest.raises(profiles.exceptions.BadRequestException):
        profiles.create_segment_definition(
            DomainName=DOMAIN,
            SegmentDefinitionName="calc",
            DisplayName="calc",
            SegmentGroups={
                "Groups": [
                    {
                        "Dimensions": [
                            {
                                "CalculatedAttributes": {
                                    "spend": {"DimensionType": "GREATER_THAN", "Values": ["1"]}
                                }
                            }
                        ]
                    }
                ]
            },
        )


def test_faults_throttle_server_errors_and_outages(
    emulator: CustomerProfilesEmulator, profiles: Any
) -> None:
    emulator.faults.throttle("GetDomain")
    with pytest.raises(profiles.exceptions.ThrottlingException):
        profiles.get_domain(DomainName=DOMAIN)
    emulator.faults.server_error(times=1)
    with pytest.raises(profiles.exceptions.InternalServerException):
        profiles.list_domains()
    emulator.faults.outage("SearchProfiles")
    for _ in range(3):
        with pytest.raises(profiles.exceptions.InternalServerException):
            find(profiles, "_email", "a@b.io")
    profiles.get_domain(DomainName=DOMAIN)
    emulator.faults.clear()
    assert find(profiles, "_email", "a@b.io") == []
    assert emulator.calls["SearchProfiles"] == 4
