from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from infra.local.clock import VirtualClock
from infra.local.cloudtrail import CloudTrailRecorder
from infra.local.customer_profiles import CustomerProfilesEmulator
from tests.fixtures.emulator_tests import (
    ACCOUNT,
    NO_RETRIES,
    REGION,
    TRAIL_BUCKET,
)
from tests.local.pinpoint.shape_check import shape_errors

DOMAIN = "shop"


@pytest.fixture
def aws(moto_mock: Any) -> None:
    moto_mock.reset()
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=TRAIL_BUCKET)


@pytest.fixture
def recorder(aws: None, clock: VirtualClock) -> CloudTrailRecorder:
    return CloudTrailRecorder(clock=clock, bucket=TRAIL_BUCKET, region=REGION, account_id=ACCOUNT)


@pytest.fixture
def emulator(
    aws: None, clock: VirtualClock, recorder: CloudTrailRecorder
) -> Iterator[CustomerProfilesEmulator]:
    with CustomerProfilesEmulator(
        clock=clock, region=REGION, account_id=ACCOUNT, recorder=recorder, seed=3
    ) as emu:
        yield emu


def checked_client(checked: set[str] | None = None, config: Config = NO_RETRIES) -> Any:
    """A customer-profiles client whose every successful response is checked against its shape."""
    client = boto3.client("customer-profiles", region_name=REGION, config=config)

    def check(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if http_response.status_code < 300:
            errors = shape_errors(model, parsed)
            assert not errors, f"{model.name} response does not match its shape: {errors}"
            if checked is not None:
                checked.add(model.name)

    client.meta.events.register("after-call.customer-profiles", check)
    return client


@pytest.fixture
def profiles(emulator: CustomerProfilesEmulator) -> Any:
    client = checked_client()
    client.create_domain(DomainName=DOMAIN, DefaultExpirationDays=366)
    return client
