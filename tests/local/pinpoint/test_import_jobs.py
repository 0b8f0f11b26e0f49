"""Import jobs read real files from (moto) S3 and progress on the virtual clock."""

from __future__ import annotations

import gzip
import json
from typing import Any

import boto3
import pytest

from infra.local.clock import VirtualClock
from infra.local.pinpoint import ImportLimits, PinpointEmulator
from tests.fixtures.emulator_tests import ACCOUNT, REGION

from .conftest import DATA_BUCKET, checked_client

ROLE = f"arn:aws:iam::{ACCOUNT}:role/pinpoint-import"


def put(key: str, body: str | bytes) -> str:
    boto3.client("s3", region_name=REGION).put_object(Bucket=DATA_BUCKET, Key=key, Body=body)
    return f"s3://{DATA_BUCKET}/{key}"


def create_job(pinpoint: Any, app_id: str, url: str, **extra: Any) -> str:
    request = {"Format": "CSV", "S3Url": url, "RoleArn": ROLE, "RegisterEndpoints": True, **extra}
    response = pinpoint.create_import_job(ApplicationId=app_id, ImportJobRequest=request)
    job = response["ImportJobResponse"]
    assert job["JobStatus"] == "CREATED"
    return str(job["Id"])


def run_to_end(emulator: PinpointEmulator, clock: VirtualClock) -> list[str]:
    statuses = []
    while emulator.busy():
        clock.advance(5)
        emulator.tick()
        for project in emulator.service.projects.values():
            statuses += [job.status for job in project.import_jobs.values()]
    return statuses


def job(pinpoint: Any, app_id: str, job_id: str) -> dict[str, Any]:
    return dict(pinpoint.get_import_job(ApplicationId=app_id, JobId=job_id)["ImportJobResponse"])


CSV = (
    "Id,Address,ChannelType,Attributes.interests,Attributes.interests,Metrics.score,"
    "User.UserId,User.UserAttributes.plan,Location.Country,Demographic.Platform,OptOut\n"
    "e1,ana@example.com,EMAIL,hiking,books,9.5,u1,gold,PT,ios,NONE\n"
    'e2,"bob,jr@example.com",EMAIL,chess,,1,u2,silver,US,android,ALL\n'
)


def test_csv_import_progresses_and_applies_data_at_processing_end(
    pinpoint: Any, emulator: PinpointEmulator, app_id: str, clock: VirtualClock
) -> None:
    job_id = create_job(pinpoint, app_id, put("exports/run-1.csv", CSV))
    seen = []
    for _ in range(5):
        clock.advance(5)
        emulator.tick()
        seen.append(job(pinpoint, app_id, job_id)["JobStatus"])
        if seen[-1] == "PROCESSING":
            with pytest.raises(pinpoint.exceptions.NotFoundException):
                pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="e1")
    assert seen == ["INITIALIZING", "PROCESSING", "COMPLETING", "COMPLETED", "COMPLETED"]

    done = job(pinpoint, app_id, job_id)
    assert done["TotalPieces"] == 1
    assert done["CompletedPieces"] == 1
    assert done["FailedPieces"] == 0
    assert done["TotalProcessed"] == 2
    assert done["TotalFailures"] == 0
    assert done["CompletionDate"] == "2026-11-02T10:00:20.000Z"
    assert done["Type"] == "IMPORT"
    assert not emulator.busy()

    e1 = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="e1")["EndpointResponse"]
    assert e1["Attributes"] == {"interests": ["hiking", "books"]}
    assert e1["Metrics"] == {"score": 9.5}
    assert e1["User"] == {"UserId": "u1", "UserAttributes": {"plan": ["gold"]}}
    assert e1["Location"] == {"Country": "PT"}
    assert e1["Demographic"] == {"Platform": "ios"}
    e2 = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="e2")["EndpointResponse"]
    assert e2["Address"] == "bob,jr@example.com"
    assert e2["OptOut"] == "ALL"
    assert e2["Attributes"] == {"interests": ["chess"]}


def test_row_failures_are_counted_and_sampled(
    pinpoint: Any, emulator: PinpointEmulator, app_id: str, clock: VirtualClock
) -> None:
    pinpoint.update_endpoint(
        ApplicationId=app_id, EndpointId="known", EndpointRequest={"ChannelType": "SMS"}
    )
    csv_text = (
        "Id,Address,ChannelType,Metrics.score,Attributes.a\n"
        "known,,,1,x\n"  # update of an existing endpoint: Id is enough
        "new1,,,2,x\n"  # new endpoint without Address/ChannelType
        "new2,c@example.com,EMAIL,lots,x\n"  # not a number
        "new3,d@example.com,EMAIL,3\n"  # too few cells
        f"new4,e@example.com,EMAIL,4,{'v' * 101}\n"  # value too long
        ",f@example.com,EMAIL,5,x\n"  # no Id: the service assigns one
    )
    job_id = create_job(pinpoint, app_id, put("partial.csv", csv_text))
    run_to_end(emulator, clock)
    done = job(pinpoint, app_id, job_id)
    assert done["JobStatus"] == "COMPLETED"
    assert done["TotalProcessed"] == 6
    assert done["TotalFailures"] == 4
    failures = done["Failures"]
    assert len(failures) == 4
    assert any("line 3" in f and "Address and ChannelType are required" in f for f in failures)
    assert any("line 4" in f and "not a number" in f for f in failures)
    assert any("line 5" in f and "Expected 5 values" in f for f in failures)
    assert any("line 6" in f and "longer than 100" in f for f in failures)
    known = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="known")["EndpointResponse"]
    assert known["Metrics"] == {"score": 1.0}
    endpoints = emulator.service.projects[app_id].endpoints
    assert len(endpoints) == 2
    assert sum(1 for e in endpoints.values() if e.get("Address") == "f@example.com") == 1


@pytest.mark.parametrize(
    "case",
    [
        ("bad-header.csv", "Id,Address,ChannelType,attributes.x\ne1,a,EMAIL,1\n", "Invalid column"),
        ("dup.csv", "Id,Address,Address\ne1,a,b\n", "more than once"),
        ("gz.csv", gzip.compress(b"Id\ne1\n"), "compressed"),
        ("latin1.csv", "Id,Attributes.city\ne1,S\xe3o Paulo\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_unreadable_files_fail_the_job(
    pinpoint: Any,
    emulator: PinpointEmulator,
    app_id: str,
    clock: VirtualClock,
    case: tuple[str, str | bytes, str],
) -> None:
    key, body, message = case
    job_id = create_job(pinpoint, app_id, put(key, body))
    statuses = run_to_end(emulator, clock)
    assert "FAILING" in statuses
    failed = job(pinpoint, app_id, job_id)
    assert failed["JobStatus"] == "FAILED"
    assert failed["FailedPieces"] == 1
    assert message in failed["Failures"][0]
    assert "CompletionDate" in failed


def test_missing_files_fail_the_job(
    pinpoint: Any, emulator: PinpointEmulator, app_id: str, clock: VirtualClock
) -> None:
    job_id = create_job(pinpoint, app_id, f"s3://{DATA_BUCKET}/nothing-here/")
    run_to_end(emulator, clock)
    failed = job(pinpoint, app_id, job_id)
    assert failed["JobStatus"] == "FAILED"
    assert "No CSV files found" in failed["Failures"][0]


def test_prefix_import_reads_every_file_of_the_format(
    pinpoint: Any, emulator: PinpointEmulator, app_id: str, clock: VirtualClock
) -> None:
    put("runs/r1/part-1.csv", "Id,Address,ChannelType\na,a@x.io,EMAIL\n")
    put("runs/r1/part-2.csv", "Id,Address,ChannelType\nb,b@x.io,EMAIL\nc,c@x.io,EMAIL\n")
    put("runs/r1/part-1.csv.metadata", "not a csv file")
    put("runs/r1/notes.json", '{"Id": "zzz"}')
    job_id = create_job(pinpoint, app_id, f"s3://{DATA_BUCKET}/runs/r1/")
    run_to_end(emulator, clock)
    done = job(pinpoint, app_id, job_id)
    assert (done["JobStatus"], done["TotalPieces"], done["TotalProcessed"]) == ("COMPLETED", 2, 3)
    assert sorted(emulator.service.projects[app_id].endpoints) == ["a", "b", "c"]


def test_json_import(
    pinpoint: Any, emulator: PinpointEmulator, app_id: str, clock: VirtualClock
) -> None:
    lines = [
        {"Id": "j1", "Address": "+15550100", "ChannelType": "SMS", "Attributes": {"a": ["1"]}},
        {"Id": "j2", "Address": "+15550101", "ChannelType": "SMS", "Metrics": {"m": 2}},
        {"Id": "j3", "Adress": "typo"},
        "not an object",
    ]
    body = "\n".join(json.dumps(line) for line in lines) + "\n{broken\n"
    job_id = create_job(pinpoint, app_id, put("in.json", body), Format="JSON")
    run_to_end(emulator, clock)
    done = job(pinpoint, app_id, job_id)
    assert (done["TotalProcessed"], done["TotalFailures"]) == (5, 3)
    assert sorted(emulator.service.projects[app_id].endpoints) == ["j1", "j2"]


def test_a_json_import_removes_attributes_given_as_empty_lists(
    pinpoint: Any, emulator: PinpointEmulator, app_id: str, clock: VirtualClock
) -> None:
    first = {
        "Id": "k1",
        "Address": "k1@example.com",
        "ChannelType": "EMAIL",
        "Attributes": {"Plan": ["gold"], "Team": ["a"]},
        "User": {"UserAttributes": {"Tier": ["t1"]}},
    }
    create_job(pinpoint, app_id, put("first.json", json.dumps(first)), Format="JSON")
    run_to_end(emulator, clock)
    cleared = {"Id": "k1", "Attributes": {"Plan": []}, "User": {"UserAttributes": {"Tier": []}}}
    job_id = create_job(pinpoint, app_id, put("clear.json", json.dumps(cleared)), Format="JSON")
    run_to_end(emulator, clock)

    assert job(pinpoint, app_id, job_id)["TotalFailures"] == 0
    endpoint = pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="k1")["EndpointResponse"]
    assert endpoint["Attributes"] == {"Team": ["a"]}
    assert "UserAttributes" not in endpoint.get("User", {})
    assert endpoint["Address"] == "k1@example.com"


def test_define_segment_then_new_version(
    pinpoint: Any, emulator: PinpointEmulator, app_id: str, clock: VirtualClock
) -> None:
    url = put("seg.csv", "Id,Address,ChannelType\na,a@x.io,EMAIL\nb,+1555,SMS\n")
    created = pinpoint.create_import_job(
        ApplicationId=app_id,
        ImportJobRequest={
            "Format": "CSV",
            "S3Url": url,
            "RoleArn": ROLE,
            "DefineSegment": True,
            "SegmentName": "lake: churn risk",
            "RegisterEndpoints": True,
        },
    )["ImportJobResponse"]
    segment_id = created["Definition"]["SegmentId"]
    # The segment exists from the start, so it can be resolved right away.
    early = pinpoint.get_segment(ApplicationId=app_id, SegmentId=segment_id)["SegmentResponse"]
    assert early["SegmentType"] == "IMPORT"
    assert early["Name"] == "lake: churn risk"
    assert early["ImportDefinition"]["Size"] == 0

    run_to_end(emulator, clock)
    segment = pinpoint.get_segment(ApplicationId=app_id, SegmentId=segment_id)["SegmentResponse"]
    assert segment["Version"] == 1
    definition = segment["ImportDefinition"]
    assert definition["Size"] == 2
    assert definition["ChannelCounts"] == {"EMAIL": 1, "SMS": 1}
    assert definition["S3Url"] == url
    assert emulator.service.segment_member_ids(app_id, segment_id) == ["a", "b"]

    url2 = put("seg-2.csv", "Id,Address,ChannelType\nc,c@x.io,EMAIL\n")
    job2 = create_job(pinpoint, app_id, url2, SegmentId=segment_id, RegisterEndpoints=False)
    run_to_end(emulator, clock)
    assert job(pinpoint, app_id, job2)["JobStatus"] == "COMPLETED"
    segment = pinpoint.get_segment(ApplicationId=app_id, SegmentId=segment_id)["SegmentResponse"]
    assert segment["Version"] == 2
    assert segment["ImportDefinition"]["Size"] == 1
    assert emulator.service.segment_member_ids(app_id, segment_id) == ["c"]
    # RegisterEndpoints false: the endpoint is in the segment only
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_endpoint(ApplicationId=app_id, EndpointId="c")

    for_segment = pinpoint.get_segment_import_jobs(ApplicationId=app_id, SegmentId=segment_id)
    assert len(for_segment["ImportJobsResponse"]["Item"]) == 2
    all_jobs = pinpoint.get_import_jobs(ApplicationId=app_id, PageSize="1")
    assert len(all_jobs["ImportJobsResponse"]["Item"]) == 1
    assert "NextToken" in all_jobs["ImportJobsResponse"]


def test_create_import_job_validation(pinpoint: Any, app_id: str, segment_id: str) -> None:
    base = {"Format": "CSV", "S3Url": f"s3://{DATA_BUCKET}/x.csv", "RoleArn": ROLE}
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="s3://"):
        pinpoint.create_import_job(
            ApplicationId=app_id, ImportJobRequest={**base, "S3Url": "https://x/y.csv"}
        )
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="Format"):
        pinpoint.create_import_job(ApplicationId=app_id, ImportJobRequest={**base, "Format": "XML"})
    with pytest.raises(pinpoint.exceptions.BadRequestException, match="not an imported segment"):
        pinpoint.create_import_job(
            ApplicationId=app_id, ImportJobRequest={**base, "SegmentId": segment_id}
        )
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.create_import_job(
            ApplicationId=app_id, ImportJobRequest={**base, "SegmentId": "missing"}
        )
    with pytest.raises(pinpoint.exceptions.NotFoundException):
        pinpoint.get_import_job(ApplicationId=app_id, JobId="missing")


def test_concurrency_and_size_limits(aws: None, clock: VirtualClock) -> None:
    limits = ImportLimits(max_concurrent_jobs=2, max_job_bytes=50)
    with PinpointEmulator(clock, REGION, ACCOUNT, import_limits=limits) as emulator:
        client = checked_client()
        app_id = client.create_app(CreateApplicationRequest={"Name": "x"})["ApplicationResponse"][
            "Id"
        ]
        small = put("small.csv", "Id,Address,ChannelType\na,a@x.io,EMAIL\n")
        big = put("big.csv", "Id,Address,ChannelType\n" + "b,b@x.io,EMAIL\n" * 10)
        create_job(client, app_id, small)
        big_job = create_job(client, app_id, big)
        with pytest.raises(client.exceptions.TooManyRequestsException, match="concurrent"):
            create_job(client, app_id, small)
        run_to_end(emulator, clock)
        failed = job(client, app_id, big_job)
        assert failed["JobStatus"] == "FAILED"
        assert "at most 50 bytes" in failed["Failures"][0]
        create_job(client, app_id, small)  # slots are free again
