"""Upload jobs: the pre-signed SSE-C PUT (urllib, as a caller sends it) and the run on the clock."""

from __future__ import annotations

import base64
import hashlib
import urllib.error
import urllib.request
from typing import Any

import pytest

from infra.local.clock import VirtualClock
from infra.local.customer_profiles import CustomerProfilesEmulator

from .conftest import DOMAIN

FIELDS = {
    "email": {
        "Source": "_source.email",
        "Target": "_profile.EmailAddress",
        "ContentType": "EMAIL_ADDRESS",
    },
    "first": {
        "Source": "_source.first_name",
        "Target": "_profile.FirstName",
        "ContentType": "NAME",
    },
    "phone": {
        "Source": "_source.phone",
        "Target": "_profile.PhoneNumber",
        "ContentType": "PHONE_NUMBER",
    },
    "spend": {
        "Source": "_source.spend",
        "Target": "_profile.Attributes.Spend",
        "ContentType": "NUMBER",
    },
    "tier": {"Source": "_source.tier", "Target": "_profile.Attributes.Tier"},
}


def sse_headers(token: str) -> dict[str, str]:
    key_md5 = base64.b64encode(hashlib.md5(base64.b64decode(token)).digest()).decode()  # noqa: S324
    return {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": token,
        "x-amz-server-side-encryption-customer-key-MD5": key_md5,
    }


def put(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method="PUT", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - localhost
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def new_job(profiles: Any, **extra: Any) -> str:
    response = profiles.create_upload_job(
        DomainName=DOMAIN, DisplayName="Spring import", Fields=FIELDS, UniqueKey="email", **extra
    )
    return str(response["JobId"])


def upload(profiles: Any, job_id: str, csv: str) -> None:
    path = profiles.get_upload_job_path(DomainName=DOMAIN, JobId=job_id)
    assert put(path["Url"], csv.encode(), sse_headers(path["ClientToken"])) == 200


def run(emulator: CustomerProfilesEmulator, clock: VirtualClock) -> None:
    while emulator.busy():
        clock.advance(5)
        emulator.tick()


def test_upload_creates_and_updates_profiles_by_unique_key_and_counts_rows(
    emulator: CustomerProfilesEmulator, profiles: Any, clock: VirtualClock
) -> None:
    existing = profiles.create_profile(
        DomainName=DOMAIN, EmailAddress="ada@corp.io", LastName="Lovelace"
    )["ProfileId"]
    job_id = new_job(profiles, DataExpiry=30)
    job = profiles.get_upload_job(DomainName=DOMAIN, JobId=job_id)
    assert (job["Status"], job["DataExpiry"], job["UniqueKey"]) == ("CREATED", 30, "email")
    upload(
        profiles,
        job_id,
        "email,first_name,phone,spend,tier\n"
        "ada@corp.io,Ada,+44 20 7946 0000,120.5,gold\n"
        "bob@home.net,Bob,,40,silver\n"
        "not-an-email,Cy,,1,\n"
        "dee@home.net,Dee,12,1,\n"
        "eve@home.net,Eve,,lots,\n"
        ",Nobody,,1,\n",
    )
    profiles.start_upload_job(DomainName=DOMAIN, JobId=job_id)
    started = clock.now()
    assert profiles.get_upload_job(DomainName=DOMAIN, JobId=job_id)["Status"] == "IN_PROGRESS"
    run(emulator, clock)

    job = profiles.get_upload_job(DomainName=DOMAIN, JobId=job_id)
    assert job["Status"] == "PARTIALLY_SUCCEEDED"
    assert job["ResultsSummary"] == {"CreatedRecords": 1, "UpdatedRecords": 1, "FailedRecords": 4}
    assert (job["CompletedAt"] - started).total_seconds() == 5  # one stage on the clock
    (ada,) = profiles.search_profiles(DomainName=DOMAIN, KeyName="_email", Values=["ada@corp.io"])[
        "Items"
    ]
    assert ada["ProfileId"] == existing
    assert ada["LastName"] == "Lovelace"  # kept: the file has no such column
    assert ada["FirstName"] == "Ada"
    assert ada["Attributes"] == {"Spend": "120.5", "Tier": "gold"}
    # The unique key is a search key of the domain once a job has used it.
    (bob,) = profiles.search_profiles(DomainName=DOMAIN, KeyName="email", Values=["bob@home.net"])[
        "Items"
    ]
    assert "PhoneNumber" not in bob
    listed = profiles.list_upload_jobs(DomainName=DOMAIN)["Items"]
    assert [item["JobId"] for item in listed] == [job_id]

    # Imported profiles expire DataExpiry days after the job wrote them.
    clock.advance(30 * 86400)
    emulator.tick()
    assert profiles.get_domain(DomainName=DOMAIN)["Stats"]["ProfileCount"] == 0


def test_an_empty_cell_removes_the_field_as_update_profile_does(
    emulator: CustomerProfilesEmulator, profiles: Any, clock: VirtualClock
) -> None:
    profiles.create_profile(
        DomainName=DOMAIN,
        EmailAddress="ada@corp.io",
        FirstName="Ada",
        Attributes={"Tier": "gold", "Spend": "120.5"},
    )
    job_id = new_job(profiles)
    upload(profiles, job_id, "email,first_name,phone,spend,tier\nada@corp.io,,,,silver\n")
    profiles.start_upload_job(DomainName=DOMAIN, JobId=job_id)
    run(emulator, clock)

    (ada,) = profiles.search_profiles(DomainName=DOMAIN, KeyName="_email", Values=["ada@corp.io"])[
        "Items"
    ]
    assert "FirstName" not in ada
    assert ada["Attributes"] == {"Tier": "silver"}  # Spend removed, Tier replaced


def test_the_put_checks_sse_c_headers_as_s3_does(profiles: Any, clock: VirtualClock) -> None:
    job_id = new_job(profiles)
    path = profiles.get_upload_job_path(DomainName=DOMAIN, JobId=job_id)
    assert path["Url"].startswith("http://127.0.0.1:")
    assert path["ValidUntil"] > clock.now()
    body = b"email\na@b.io\n"
    assert put(path["Url"], body, {}) == 403
    other_key = base64.b64encode(b"k" * 32).decode()
    assert put(path["Url"], body, sse_headers(other_key)) == 403
    wrong_md5 = sse_headers(path["ClientToken"]) | {
        "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(b"0" * 16).decode()
    }
    assert put(path["Url"], body, wrong_md5) == 400
    aes = sse_headers(path["ClientToken"]) | {
        "x-amz-server-side-encryption-customer-algorithm": "aws:kms"
    }
    assert put(path["Url"], body, aes) == 400
    clock.advance(3601)
    assert put(path["Url"], body, sse_headers(path["ClientToken"])) == 403  # expired


def test_job_failures_stop_and_state_rules(
    emulator: CustomerProfilesEmulator, profiles: Any, clock: VirtualClock
) -> None:
    no_file = new_job(profiles)
    profiles.start_upload_job(DomainName=DOMAIN, JobId=no_file)
    bad_header = new_job(profiles)
    upload(profiles, bad_header, "mail,first_name\nx@y.io,X\n")
    profiles.start_upload_job(DomainName=DOMAIN, JobId=bad_header)
    all_bad = new_job(profiles)
    upload(profiles, all_bad, "email,first_name,phone,spend,tier\nnope,X,,,\n")
    profiles.start_upload_job(DomainName=DOMAIN, JobId=all_bad)
    stopped = new_job(profiles)
    upload(profiles, stopped, "email,first_name,phone,spend,tier\nz@y.io,Z,,,\n")
    profiles.start_upload_job(DomainName=DOMAIN, JobId=stopped)
    profiles.stop_upload_job(DomainName=DOMAIN, JobId=stopped)
    run(emulator, clock)

    def status(job_id: str) -> tuple[str, str | None]:
        job = profiles.get_upload_job(DomainName=DOMAIN, JobId=job_id)
        return job["Status"], job.get("StatusReason")

    assert status(no_file) == ("FAILED", "VALIDATION_FAILURE")
    assert status(bad_header) == ("FAILED", "VALIDATION_FAILURE")
    assert status(all_bad) == ("FAILED", "VALIDATION_FAILURE")
    assert status(stopped) == ("STOPPED", None)
    assert profiles.get_domain(DomainName=DOMAIN)["Stats"]["ProfileCount"] == 0
    with pytest.raises(profiles.exceptions.BadRequestException):
        profiles.start_upload_job(DomainName=DOMAIN, JobId=stopped)
    with pytest.raises(profiles.exceptions.BadRequestException):
        profiles.stop_upload_job(DomainName=DOMAIN, JobId=no_file)
    with pytest.raises(profiles.exceptions.BadRequestException):
        profiles.get_upload_job_path(DomainName=DOMAIN, JobId=no_file)
    with pytest.raises(profiles.exceptions.ResourceNotFoundException):
        profiles.get_upload_job(DomainName=DOMAIN, JobId="a" * 32)
    page = profiles.list_upload_jobs(DomainName=DOMAIN, MaxResults=3)
    rest = profiles.list_upload_jobs(DomainName=DOMAIN, NextToken=page["NextToken"])
    assert len(page["Items"]) + len(rest["Items"]) == 4


def test_fields_are_checked_at_create(profiles: Any) -> None:
    for fields, unique in [
        ({"e": {"Source": "_source.e", "Target": "_profile.Nope"}}, "e"),
        ({"e": {"Source": "e", "Target": "_profile.EmailAddress"}}, "e"),
        ({"e": {"Source": "_source.e", "Target": "_profile.EmailAddress"}}, "other"),
    ]:
        with pytest.raises(profiles.exceptions.BadRequestException):
            profiles.create_upload_job(
                DomainName=DOMAIN, DisplayName="x", Fields=fields, UniqueKey=unique
            )
    with pytest.raises(profiles.exceptions.BadRequestException):
        profiles.create_upload_job(
            DomainName=DOMAIN,
            DisplayName="x",
            Fields={"bad name!": {"Target": "_profile.EmailAddress"}},
            UniqueKey="bad name!",
        )
