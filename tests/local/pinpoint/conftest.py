from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from infra.local.clock import VirtualClock
from infra.local.pinpoint import CloudTrailRecorder, PinpointEmulator
from tests.fixtures.emulator_tests import (
    ACCOUNT,
    NO_RETRIES,
    REGION,
    TRAIL_BUCKET,
)

from .shape_check import shape_errors

DATA_BUCKET = "data-lake-exports"


@pytest.fixture
def aws(moto_mock: Any) -> None:
    moto_mock.reset()  # every test starts from an empty account
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=TRAIL_BUCKET)
    s3.create_bucket(Bucket=DATA_BUCKET)


@pytest.fixture
def recorder(aws: None, clock: VirtualClock) -> CloudTrailRecorder:
    return CloudTrailRecorder(
        clock=clock, bucket=TRAIL_BUCKET, prefix="", region=REGION, account_id=ACCOUNT
    )


@pytest.fixture
def emulator(aws: None, clock: VirtualClock) -> Iterator[PinpointEmulator]:
    with PinpointEmulator(clock=clock, region=REGION, account_id=ACCOUNT, seed=7) as emu:
        yield emu


@pytest.fixture
def recording_emulator(
    aws: None, clock: VirtualClock, recorder: CloudTrailRecorder
) -> Iterator[PinpointEmulator]:
    with PinpointEmulator(
        clock=clock, region=REGION, account_id=ACCOUNT, recorder=recorder, seed=7
    ) as emu:
        yield emu


def checked_client(config: Config = NO_RETRIES) -> Any:
    """A Pinpoint client whose every successful response is checked against its shape."""
    client = boto3.client("pinpoint", region_name=REGION, config=config)

    def check(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if http_response.status_code < 300:
            errors = shape_errors(model, parsed)
            assert not errors, f"{model.name} response does not match its shape: {errors}"

    client.meta.events.register("after-call.pinpoint", check)
    return client


@pytest.fixture
def pinpoint(emulator: PinpointEmulator) -> Any:
    return checked_client()


@pytest.fixture
def app_id(pinpoint: Any) -> str:
    response = pinpoint.create_app(CreateApplicationRequest={"Name": "marketing"})
    return str(response["ApplicationResponse"]["Id"])


@pytest.fixture
def segment_id(pinpoint: Any, app_id: str) -> str:
    response = pinpoint.create_segment(
        ApplicationId=app_id,
        WriteSegmentRequest={
            "Name": "gold customers",
            "Dimensions": {
                "Attributes": {"tier": {"AttributeType": "INCLUSIVE", "Values": ["gold"]}}
            },
        },
    )
    return str(response["SegmentResponse"]["Id"])
