"""Lazily built AWS clients, shared by a service's adapters.

Nothing talks to AWS at import time: a client is built on first use and cached. Each service's
bootstrap makes its own `AwsClients` (a test hands it one built on another session), so no
client is shared through module state.

On Lambda the clients come from a botocore session, not boto3's: a boto3 client *is* the
botocore client, and what boto3 adds (resources, s3transfer's managed transfers) no function
uses, while importing it costs every cold start about an eighth of `import boto3`. A test or
the local cloud may hand in any session that builds clients, boto3's included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import botocore.session
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_pinpoint import PinpointClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_xray import XRayClient

# Standard retry mode backs off on throttling (Pinpoint's 429s carry no Retry-After).
DEFAULT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
)


class ClientSession(Protocol):
    """What builds clients: a boto3 session, or `BotocoreSession`."""

    def client(self, service_name: Any, *, config: Config | None = ...) -> Any: ...


class BotocoreSession:
    """A botocore session asked for clients the way boto3's is (credentials, region and
    endpoints from the environment, as boto3 reads them)."""

    def __init__(self) -> None:
        self._session = botocore.session.Session()

    def client(self, service_name: Any, *, config: Config | None = None) -> Any:
        return self._session.create_client(service_name, config=config)


class AwsClients:
    def __init__(
        self,
        session_factory: Callable[[], ClientSession] = BotocoreSession,
        config: Config = DEFAULT_CONFIG,
    ) -> None:
        self._session_factory = session_factory
        self._config = config
        self._session: ClientSession | None = None
        self._cache: dict[str, Any] = {}

    def use_session(self, session_factory: Callable[[], ClientSession]) -> None:
        """Build every client from now on with this session factory."""
        self._session_factory = session_factory
        self.reset()

    def use_config(self, config: Config) -> None:
        self._config = config
        self.reset()

    def reset(self) -> None:
        """Forget every client; the next use builds a fresh one."""
        self._session = None
        self._cache.clear()

    def _client(self, service_name: str) -> Any:
        client = self._cache.get(service_name)
        if client is None:
            if self._session is None:
                self._session = self._session_factory()
            client = self._session.client(service_name, config=self._config)
            self._cache[service_name] = client
        return client

    def events(self) -> EventBridgeClient:
        return self._client("events")  # type: ignore[no-any-return]

    def s3(self) -> S3Client:
        return self._client("s3")  # type: ignore[no-any-return]

    def dynamodb(self) -> DynamoDBClient:
        return self._client("dynamodb")  # type: ignore[no-any-return]

    def pinpoint(self) -> PinpointClient:
        return self._client("pinpoint")  # type: ignore[no-any-return]

    def customer_profiles(self) -> Any:
        """Amazon Connect Customer Profiles (no type stubs are installed for it)."""
        return self._client("customer-profiles")

    def athena(self) -> AthenaClient:
        return self._client("athena")  # type: ignore[no-any-return]

    def sns(self) -> SNSClient:
        return self._client("sns")  # type: ignore[no-any-return]

    def sqs(self) -> SQSClient:
        return self._client("sqs")  # type: ignore[no-any-return]

    def xray(self) -> XRayClient:
        return self._client("xray")  # type: ignore[no-any-return]

    def connect_campaigns(self) -> Any:
        """Amazon Connect outbound campaigns v2 (no type stubs are installed for it)."""
        return self._client("connectcampaignsv2")
