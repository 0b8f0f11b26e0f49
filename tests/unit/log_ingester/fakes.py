"""In-memory stand-ins for the log-ingester's ports."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

from contracts import BackfillPage, ResourceType
from services.common.targets.catalog import scope_key
from services.log_ingester.backfill import ResourcePage


class TrackedStream(io.BytesIO):
    """A body that remembers it was closed."""

    def __init__(self, body: bytes, registry: list[TrackedStream]) -> None:
        super().__init__(body)
        registry.append(self)


class FakeLogFiles:
    """Objects by (bucket, key); a missing one opens as None, like S3's NoSuchKey."""

    def __init__(self, objects: Mapping[tuple[str, str], bytes] | None = None) -> None:
        self.objects = dict(objects or {})
        self.opened: list[TrackedStream] = []
        self.requests: list[tuple[str, str]] = []
        self.error: Exception | None = None  # raised by open, as S3 would

    def put(self, bucket: str, key: str, body: bytes) -> None:
        self.objects[(bucket, key)] = body

    def open(self, bucket: str, key: str) -> TrackedStream | None:
        self.requests.append((bucket, key))
        if self.error is not None:
            raise self.error
        body = self.objects.get((bucket, key))
        return None if body is None else TrackedStream(body, self.opened)


class FakeLister:
    """Pinpoint list calls over in-memory resources, paged with opaque tokens."""

    def __init__(self, resources: Mapping[tuple[ResourceType, str], Sequence[Any]]) -> None:
        self.resources = {key: list(items) for key, items in resources.items()}
        self.calls: list[tuple[ResourceType, str, str | None, int]] = []
        self.missing: set[str] = set()  # projects that answer 404
        self.stuck_token: str | None = None  # answer this token with itself

    def page(self, page: BackfillPage, page_size: int) -> ResourcePage | None:
        """Keyed by (resource type, scope key): a project id, instance/<id>, domains/<name>."""
        resource_type, token = page.resource_type, page.token
        application_id = scope_key(page, resource_type)
        self.calls.append((resource_type, application_id, token, page_size))
        if application_id in self.missing:
            return None
        if token is not None and token == self.stuck_token:
            return ResourcePage(items=[], next_token=token)
        items = self.resources.get((resource_type, application_id), [])
        start = int(base64.b64decode(token)) if token else 0
        chunk = items[start : start + page_size]
        following = start + page_size
        next_token = base64.b64encode(str(following).encode()).decode()
        return ResourcePage(items=chunk, next_token=next_token if following < len(items) else None)
