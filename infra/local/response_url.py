"""A one-shot HTTP endpoint on localhost that receives a custom resource's response.

CloudFormation hands a custom resource's function a pre-signed S3 URL and waits for the
function to PUT its answer there. Locally the URL points at this receiver instead, so the
function sends a real HTTP PUT (as it would on AWS) and nothing leaves the machine.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


class _Receiver(BaseHTTPRequestHandler):
    server: _ResponseServer

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.bodies.append(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        """Silence the default access log on stderr."""


class _ResponseServer(ThreadingHTTPServer):
    bodies: list[bytes]


class ResponseUrl:
    """``with ResponseUrl() as url: ...; url.response()`` -> the JSON body PUT to it, if any."""

    def __init__(self) -> None:
        self._server = _ResponseServer(("127.0.0.1", 0), _Receiver)
        self._server.bodies = []
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/custom-resource-response"

    def response(self) -> Any | None:
        if not self._server.bodies:
            return None
        return json.loads(self._server.bodies[-1])

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
