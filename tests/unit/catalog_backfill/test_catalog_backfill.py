from __future__ import annotations

import json
from typing import Any

import pytest

from contracts import CatalogBackfillRequested
from infra.local.response_url import ResponseUrl
from services.catalog_backfill.adapters import ResponseNotSentError, send_response
from services.catalog_backfill.logic import backfill_request, handle_request

PROJECT = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


def request(request_type: str, projects: str = PROJECT, old: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "RequestType": request_type,
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/lake/1",
        "RequestId": f"{request_type}-1",
        "LogicalResourceId": "CatalogBackfill",
        "ResponseURL": "https://example.invalid/response",
        "ResourceProperties": {"ServiceToken": "arn", "MonitoredProjectIds": projects},
    }
    if old is not None:
        body["OldResourceProperties"] = {"MonitoredProjectIds": old}
        body["PhysicalResourceId"] = "CatalogBackfill-catalog-backfill"
    return body


def test_create_requests_a_backfill_of_the_monitored_projects() -> None:
    event = backfill_request(request("Create", f"{PROJECT}, {OTHER}"))
    assert isinstance(event, CatalogBackfillRequested)
    assert event.data.application_ids == [PROJECT, OTHER]
    assert event.data.requested_by == "deployment"


def test_a_retried_request_publishes_the_same_event_id() -> None:
    first = backfill_request(request("Create"))
    second = backfill_request(request("Create"))
    assert first is not None
    assert second is not None
    assert first.event_id == second.event_id


def test_update_backfills_only_when_the_projects_change() -> None:
    assert backfill_request(request("Update", PROJECT, old=PROJECT)) is None
    changed = backfill_request(request("Update", f"{PROJECT},{OTHER}", old=PROJECT))
    assert changed is not None


def test_delete_publishes_nothing_and_succeeds() -> None:
    published: list[Any] = []
    answer = handle_request(request("Delete"), published.extend)
    assert published == []
    assert answer.status == "SUCCESS"


def test_a_publish_failure_is_a_failed_answer_with_the_reason() -> None:
    def refuse(events: Any) -> None:
        raise RuntimeError("bus is gone")

    answer = handle_request(request("Create"), refuse)
    body = answer.body(request("Create"))
    assert body["Status"] == "FAILED"
    assert "bus is gone" in body["Reason"]
    assert body["RequestId"] == "Create-1"


@pytest.mark.loopback
def test_the_answer_is_put_to_the_response_url() -> None:
    with ResponseUrl() as receiver:
        send_response(receiver.url, {"Status": "SUCCESS"})
        assert receiver.response() == {"Status": "SUCCESS"}


def test_only_https_response_urls_are_used() -> None:
    with pytest.raises(ResponseNotSentError):
        send_response("file:///etc/passwd", json.loads("{}"))
