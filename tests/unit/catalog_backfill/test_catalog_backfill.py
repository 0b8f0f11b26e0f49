from __future__ import annotations

import json
from typing import Any

import pytest

from contracts import CatalogBackfillRequested
from infra.local.response_url import ResponseUrl
from services.catalog_backfill.adapters import (
    ResponseNotSentError,
    is_allowed_response_url,
    send_response,
)
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


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        # A prefix test ("http://127.0.0.1") admitted these: other hosts, over plain HTTP.
        "http://127.0.0.1.attacker.example/custom-resource-response",
        "http://127.0.0.1@attacker.example/",
        "http://127.0.0.1:80@attacker.example/",
        "http://attacker.example/?next=http://127.0.0.1",
        "http://localhost.attacker.example/",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:notaport/",
        "ftp://127.0.0.1/",
        "https:///no-host",
        "HTTP://attacker.example/",
    ],
)
def test_response_urls_other_than_https_or_the_loopback_host_are_refused(url: str) -> None:
    # Unit tests have no sockets: a URL that got past the check would fail otherwise.
    with pytest.raises(ResponseNotSentError, match="refusing"):
        send_response(url, json.loads("{}"))


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?sig=1", True),
        ("https://any.example/answer", True),
        ("http://127.0.0.1:41234/custom-resource-response", True),
        ("http://127.0.0.1/", True),
        ("http://127.0.0.1.attacker.example/", False),
        ("http://[::1]:8080/", False),
    ],
)
def test_the_response_url_check_parses_the_host(url: str, allowed: bool) -> None:
    assert is_allowed_response_url(url) is allowed
