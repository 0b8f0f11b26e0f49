"""Settings are read in one place with clear errors; clients are built lazily."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from pydantic import Field

from services.common.clients import AwsClients, BotocoreSession
from services.common.settings import ServiceSettings, SettingsError, load_settings


class ExampleSettings(ServiceSettings):
    table_name: str = Field(alias="TABLE_NAME")
    batch_size: int = Field(default=10, alias="BATCH_SIZE", ge=1)


def test_settings_read_environment_names() -> None:
    settings = load_settings(
        ExampleSettings,
        {
            "POWERTOOLS_SERVICE_NAME": "catalog-writer",
            "EVENT_BUS_NAME": "bus",
            "TABLE_NAME": "t",
            "BATCH_SIZE": "25",
            "UNRELATED": "ignored",
        },
    )

    assert settings.service_name == "catalog-writer"
    assert settings.batch_size == 25
    assert settings.aws_region == "us-east-1"


def test_missing_or_bad_variables_are_all_named() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(ExampleSettings, {"POWERTOOLS_SERVICE_NAME": "x", "BATCH_SIZE": "0"})

    message = str(caught.value)
    assert "EVENT_BUS_NAME: Field required" in message
    assert "TABLE_NAME: Field required" in message
    assert "BATCH_SIZE: Input should be greater than or equal to 1" in message


def test_settings_default_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "svc")
    monkeypatch.setenv("EVENT_BUS_NAME", "from-env")

    assert load_settings(ServiceSettings).event_bus_name == "from-env"


def test_clients_are_built_on_first_use_and_cached() -> None:
    sessions: list[Any] = []

    def session_factory() -> boto3.session.Session:
        session = boto3.session.Session(
            aws_access_key_id="k", aws_secret_access_key="s", region_name="eu-west-1"
        )
        sessions.append(session)
        return session

    clients = AwsClients(session_factory)
    assert sessions == []

    events = clients.events()
    assert clients.events() is events
    assert clients.s3() is not events  # type: ignore[comparison-overlap]
    assert len(sessions) == 1
    assert events.meta.region_name == "eu-west-1"
    assert events.meta.config.retries["mode"] == "standard"  # type: ignore[attr-defined]

    clients.reset()
    assert clients.events() is not events
    assert len(sessions) == 2


def test_clients_can_be_redirected_to_another_session() -> None:
    clients = AwsClients(lambda: boto3.session.Session(region_name="eu-west-1"))
    before = clients.sns()

    clients.use_session(lambda: boto3.session.Session(region_name="ap-south-1"))

    assert clients.sns() is not before
    assert clients.sns().meta.region_name == "ap-south-1"


def test_by_default_clients_come_from_botocore_with_the_environments_region_and_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:4566")

    clients = AwsClients()
    sqs = clients.sqs()

    assert type(clients._session) is BotocoreSession  # which session was built
    assert sqs.meta.region_name == "eu-central-1"
    assert sqs.meta.endpoint_url == "http://127.0.0.1:4566"
    assert sqs.meta.config.retries["mode"] == "standard"  # type: ignore[attr-defined]
    assert sqs.meta.config.read_timeout == 30  # type: ignore[attr-defined]
    assert clients.sqs() is sqs
