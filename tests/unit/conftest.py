"""Unit tests talk to nothing: every socket is blocked (pytest-socket), so a client that
escaped its fake or moto fails loudly instead of reaching a real endpoint. A test marked
`loopback` (a real local HTTP server, say) may reach 127.0.0.1 and nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import aws_xray_sdk.core  # noqa: F401 - see below
import pytest
from pytest_socket import disable_socket, enable_socket, socket_allow_hosts

# The X-Ray SDK creates its UDP emitter's socket (unconnected; nothing is sent) when it is
# first imported: imported here, before any test blocks sockets, so no test depends on
# another having imported it first.


@pytest.fixture(autouse=True)
def _no_network(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("loopback"):
        socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    else:
        disable_socket(allow_unix_socket=True)
    yield
    enable_socket()
