"""The S3 and Pinpoint adapters: S3 against moto, Pinpoint with botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from contracts import BackfillPage, ResourceType
from services.common.targets.pinpoint.catalog import PINPOINT_EVENT_SOURCE
from services.log_ingester.adapters import PinpointApiLister, S3LogFiles
from services.log_ingester.cloudtrail_reader import CloudTrailLogReader
from tests.fixtures.cloudtrail import (
    APP_ID,
    TRAIL_BUCKET,
    campaign_resource,
    log_file,
    log_file_key,
    pinpoint_id,
    pinpoint_record,
)


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=TRAIL_BUCKET)
        yield client


def test_log_files_stream_from_s3_and_missing_ones_open_as_none(s3: Any) -> None:
    key = log_file_key(prefix="trail logs")
    record = pinpoint_record("CreateSegment")
    s3.put_object(Bucket=TRAIL_BUCKET, Key=key, Body=log_file([record]))
    files = S3LogFiles(lambda: s3)
    stream = files.open(TRAIL_BUCKET, key)
    assert stream is not None
    try:
        assert [
            r.data for r in CloudTrailLogReader(stream, must_contain=PINPOINT_EVENT_SOURCE)
        ] == [record]
    finally:
        stream.close()
    assert files.open(TRAIL_BUCKET, key + ".missing") is None


def test_other_s3_errors_are_raised(s3: Any) -> None:
    with pytest.raises(ClientError) as raised:
        S3LogFiles(lambda: s3).open("no-such-bucket", log_file_key())
    assert raised.value.response["Error"]["Code"] == "NoSuchBucket"


@pytest.fixture
def pinpoint() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "pinpoint",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_each_resource_type_uses_its_list_call_with_page_size_and_token(
    pinpoint: tuple[Any, Stubber],
) -> None:
    client, stubber = pinpoint
    # As the API returns it: names and messages in clear (CloudTrail masks them).
    campaign = {
        key: value
        for key, value in campaign_resource(APP_ID, pinpoint_id("c")).items()
        if key != "MessageConfiguration"
    } | {"Name": "Winback"}
    stubber.add_response(
        "get_campaigns",
        {"CampaignsResponse": {"Item": [campaign], "NextToken": "t2"}},
        {"ApplicationId": APP_ID, "PageSize": "25"},
    )
    stubber.add_response(
        "list_journeys",
        {"JourneysResponse": {"Item": []}},
        {"ApplicationId": APP_ID, "PageSize": "25", "Token": "t1"},
    )
    stubber.add_response(
        "get_segments",
        {"SegmentsResponse": {"Item": []}},
        {"ApplicationId": APP_ID, "PageSize": "25"},
    )
    lister = PinpointApiLister(lambda: client)
    page = lister.page(_page(ResourceType.CAMPAIGN, None), 25)
    assert page is not None
    assert page.next_token == "t2"
    assert [item["Id"] for item in page.items] == [campaign["Id"]]
    journeys = lister.page(_page(ResourceType.JOURNEY, "t1"), 25)
    assert journeys is not None
    assert (journeys.items, journeys.next_token) == ([], None)
    assert lister.page(_page(ResourceType.SEGMENT, None), 25) is not None


def test_a_project_that_is_gone_lists_as_none_and_other_errors_raise(
    pinpoint: tuple[Any, Stubber],
) -> None:
    client, stubber = pinpoint
    stubber.add_client_error("get_segments", "NotFoundException", http_status_code=404)
    stubber.add_client_error("get_segments", "ForbiddenException", http_status_code=403)
    lister = PinpointApiLister(lambda: client)
    assert lister.page(_page(ResourceType.SEGMENT, None), 10) is None
    with pytest.raises(ClientError):
        lister.page(_page(ResourceType.SEGMENT, None), 10)


def _page(resource_type: ResourceType, token: str | None) -> BackfillPage:
    return BackfillPage(application_id=APP_ID, resource_type=resource_type, token=token)
