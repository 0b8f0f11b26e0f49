"""Sending a custom resource's answer to CloudFormation's pre-signed ResponseURL."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

RESPONSE_TIMEOUT_SECONDS = 10


class ResponseNotSentError(RuntimeError):
    """CloudFormation's ResponseURL did not take the answer."""


def send_response(url: str, body: dict[str, Any]) -> None:
    """PUT the answer the way cfn-response does: JSON, with an empty content type."""
    if not url.startswith(("https://", "http://127.0.0.1")):
        raise ResponseNotSentError(
            f"refusing to send a response to {url.split('?', maxsplit=1)[0]}"
        )
    data = json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=data, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(data))}
    )
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_SECONDS) as response:  # noqa: S310
        if response.status >= 300:
            raise ResponseNotSentError(f"ResponseURL answered HTTP {response.status}")
