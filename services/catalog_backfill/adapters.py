"""Sending a custom resource's answer to CloudFormation's pre-signed ResponseURL."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any

RESPONSE_TIMEOUT_SECONDS = 10
# The local cloud's receiver (`infra.local.response_url`) listens here over plain HTTP.
LOOPBACK_HOST = "127.0.0.1"


class ResponseNotSentError(RuntimeError):
    """CloudFormation's ResponseURL did not take the answer."""


def is_allowed_response_url(url: str) -> bool:
    """HTTPS to any host (CloudFormation's pre-signed S3 URL), or HTTP to the loopback
    host exactly (the local cloud). The URL is parsed, so "http://127.0.0.1.attacker.example/"
    or "http://127.0.0.1@attacker.example/" are what they are: other hosts."""
    try:
        parts = urllib.parse.urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return False
    if parts.scheme == "https":
        return bool(hostname)
    return parts.scheme == "http" and hostname == LOOPBACK_HOST


def send_response(url: str, body: dict[str, Any]) -> None:
    """PUT the answer the way cfn-response does: JSON, with an empty content type."""
    if not is_allowed_response_url(url):
        raise ResponseNotSentError(
            f"refusing to send a response to {url.split('?', maxsplit=1)[0]}"
        )
    data = json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - scheme and host checked above
        url, data=data, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(data))}
    )
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS) as response:  # noqa: S310
        if response.status >= 300:
            raise ResponseNotSentError(f"ResponseURL answered HTTP {response.status}")
