"""Answer botocore operations in process: the shared plumbing of the local emulators.

How it works: a handler is registered for ``before-send.<service-id>``, the last event
botocore emits before it would put a request on the wire. Whatever the handler returns
is treated exactly like an HTTP response from AWS: botocore parses it with the service's
protocol parser, raises modeled exceptions (``client.exceptions.NotFoundException``), and
runs its retry handler, so a 429 or a 5xx from an emulator is retried like a real one.
(A ``before-call`` answer would skip the retry handler, which is why it is not used.)

Exclusive answers: botocore *emits* ``before-send`` to every handler and then takes the
first answer, so moto's catch-all stubber would still run each request (a CreateApp
would create a second app in moto). When a handler answers, the request is therefore
"claimed": its host is rewritten to ``<service>.<region>.local-emulator.invalid``, which
no moto URL pattern matches, so moto leaves it alone. Each retry is a fresh request.

Because the handler sees the serialized HTTP request, :func:`decode_request` turns it back
into the operation's parameters and :func:`encode_response` / :func:`encode_error` turn a
result into the wire response, both driven by the botocore service model (``json`` and
``rest-json`` protocols). The encoder is strict: a key or a type the output shape does not
declare raises ``ShapeMismatchError``, so an emulator cannot drift from the real shapes.

Installation reaches every client created *after* :func:`install_operation_handler`: the
handler is appended to ``botocore.handlers.BUILTIN_HANDLERS`` (copied into each new
session, which is how moto's own stubber gets in) and registered on boto3's default
session if one already exists. Handlers registered on ``before-send.<service>`` run before
moto's catch-all ``before-send`` stubber; returning ``None`` falls through to moto.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import boto3
import botocore.session
from botocore import handlers as botocore_handlers
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

OperationHandler = Callable[[OperationModel, AWSPreparedRequest], AWSResponse | None]
"""Answers one request (return a response) or declines it (return ``None``)."""

Uninstall = Callable[[], None]

_service_models: dict[str, ServiceModel] = {}
_service_models_lock = threading.Lock()


class ShapeMismatchError(ValueError):
    """A value does not fit the botocore shape it is encoded into (an emulator bug)."""


def service_model(service_name: str) -> ServiceModel:
    """The botocore service model, loaded once per process (loading costs ~100 ms)."""
    with _service_models_lock:
        if service_name not in _service_models:
            session = botocore.session.get_session()
            _service_models[service_name] = session.get_service_model(service_name)
        return _service_models[service_name]


# --------------------------------------------------------------------------- install


def install_operation_handler(service_name: str, handler: OperationHandler) -> Uninstall:
    """Route every request of ``service_name`` through ``handler``; returns the uninstaller.

    Clients created before the call are not reached (botocore copies a session's handlers
    into each client). After uninstalling, clients that still hold the handler fall
    through to moto / the network, so uninstall is clean for old clients too.
    """
    model = service_model(service_name)
    event_name = f"before-send.{model.service_id.hyphenize()}"
    unique_id = f"local-emulator-{service_name}-{id(handler)}"
    active = True

    def on_before_send(
        request: AWSPreparedRequest, event_name: str, **_: Any
    ) -> AWSResponse | None:
        if not active:
            return None
        operation_name = event_name.rsplit(".", 1)[-1]
        response = handler(model.operation_model(operation_name), request)
        if response is not None:
            _claim(request)
        return response

    builtin_entry = (event_name, on_before_send)
    botocore_handlers.BUILTIN_HANDLERS.append(builtin_entry)
    default_session = boto3.DEFAULT_SESSION
    if default_session is not None:
        default_session._session.register(
            event_name,
            on_before_send,  # type: ignore[arg-type]  # botocore-stubs types handlers as -> None
            unique_id=unique_id,
        )

    def uninstall() -> None:
        nonlocal active
        active = False
        if builtin_entry in botocore_handlers.BUILTIN_HANDLERS:
            botocore_handlers.BUILTIN_HANDLERS.remove(builtin_entry)
        if default_session is not None:
            default_session._session.unregister(event_name, unique_id=unique_id)

    return uninstall


CLAIMED_DOMAIN = "local-emulator.invalid"


def _claim(request: AWSPreparedRequest) -> None:
    """Make an answered request invisible to moto's stubber, which botocore calls next."""
    url = urlsplit(request.url)
    host = (url.hostname or "").removesuffix(".amazonaws.com").removesuffix(f".{CLAIMED_DOMAIN}")
    request.url = urlunsplit(url._replace(netloc=f"{host}.{CLAIMED_DOMAIN}"))


# --------------------------------------------------------------------------- decode


@dataclass(frozen=True)
class DecodedRequest:
    """A request turned back into parameters, plus its wire form for audit logs."""

    params: dict[str, Any]
    """Operation parameters keyed by member name, as the caller passed them."""
    path_params: dict[str, str] = field(default_factory=dict)
    """URI labels by wire name (``application-id``), rest protocols only."""
    query_params: dict[str, Any] = field(default_factory=dict)
    """Query string members by wire name."""
    body: Any = None
    """The JSON body as sent (wire names), or ``None``."""
    user_agent: str = ""


def decode_request(operation: OperationModel, request: AWSPreparedRequest) -> DecodedRequest:
    """Parse a prepared ``json`` or ``rest-json`` request into the operation's parameters."""
    protocol = operation.metadata["protocol"]
    body = _json_body(request)
    raw_agent = request.headers.get("User-Agent", b"")
    user_agent = raw_agent.decode() if isinstance(raw_agent, bytes) else str(raw_agent)
    input_shape = operation.input_shape
    if input_shape is None:
        return DecodedRequest(params={}, body=body, user_agent=user_agent)
    if protocol == "json":
        json_params: dict[str, Any] = _from_wire(input_shape, body or {})
        return DecodedRequest(params=json_params, body=body, user_agent=user_agent)
    if protocol != "rest-json":
        raise NotImplementedError(f"protocol {protocol!r} is not supported by the local hook")

    url = urlsplit(request.url)
    path_params = _match_uri(operation.http["requestUri"], url.path)
    query = parse_qs(url.query, keep_blank_values=True)
    params: dict[str, Any] = {}
    query_params: dict[str, Any] = {}
    payload_name = input_shape.serialization.get("payload")
    for name, member in input_shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri" and wire_name in path_params:
            params[name] = _from_text(member, path_params[wire_name])
        elif location == "querystring" and wire_name in query:
            values = query[wire_name]
            raw: Any = values if member.type_name == "list" else values[-1]
            query_params[wire_name] = raw
            params[name] = _from_text(member, raw)
        elif location == "header" and wire_name in request.headers:
            params[name] = _from_text(member, str(request.headers[wire_name]))
        elif name == payload_name and body is not None:
            params[name] = _from_wire(member, body)
        elif location is None and payload_name is None and isinstance(body, dict):
            wire_key = member.serialization.get("name", name)
            if wire_key in body:
                params[name] = _from_wire(member, body[wire_key])
    return DecodedRequest(
        params=params,
        path_params=path_params,
        query_params=query_params,
        body=body,
        user_agent=user_agent,
    )


def _json_body(request: AWSPreparedRequest) -> Any:
    raw: Any = request.body
    if raw is None:
        return None
    if hasattr(raw, "read"):  # a stream: read it without consuming it
        position = raw.tell()
        data = raw.read()
        raw.seek(position)
        raw = data
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if not raw:
        return None
    return json.loads(raw)


def _match_uri(request_uri: str, path: str) -> dict[str, str]:
    template = request_uri.split("?", 1)[0]
    pattern = ""
    position = 0
    for label in re.finditer(r"\{([^}]+)\}", template):
        pattern += re.escape(template[position : label.start()])
        name = label.group(1)
        group = f"g{len(pattern)}"
        pattern += f"(?P<{group}>.+)" if name.endswith("+") else f"(?P<{group}>[^/]+)"
        position = label.end()
    pattern += re.escape(template[position:])
    match = re.fullmatch(pattern, path)
    if match is None:
        raise ValueError(f"path {path!r} does not match {template!r}")
    names = [label.rstrip("+") for label in re.findall(r"\{([^}]+)\}", template)]
    return {name: unquote(value) for name, value in zip(names, match.groups(), strict=True)}


def _from_text(shape: Shape, raw: Any) -> Any:
    """A URI, query or header value (text) converted to the member's type."""
    if shape.type_name == "list":
        items = raw if isinstance(raw, list) else [raw]
        return [_from_text(shape.member, item) for item in items]  # type: ignore[attr-defined]
    if shape.type_name in {"integer", "long"}:
        return int(raw)
    if shape.type_name in {"double", "float"}:
        return float(raw)
    if shape.type_name == "boolean":
        return str(raw).lower() == "true"
    if shape.type_name == "timestamp":
        return _parse_timestamp(raw)
    return raw


def _from_wire(shape: Shape, value: Any) -> Any:  # noqa: PLR0911 - one return per type
    """A JSON value (wire names) converted to botocore's parameter form (member names)."""
    if value is None:
        return None
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        assert isinstance(shape, StructureShape)  # noqa: S101 - narrows for mypy
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            wire_name = member.serialization.get("name", name)
            if wire_name in value:
                out[name] = _from_wire(member, value[wire_name])
        return out
    if kind == "list" and isinstance(value, list):
        return [_from_wire(shape.member, item) for item in value]  # type: ignore[attr-defined]
    if kind == "map" and isinstance(value, dict):
        return {key: _from_wire(shape.value, item) for key, item in value.items()}  # type: ignore[attr-defined]
    if kind == "timestamp":
        return _parse_timestamp(value)
    if kind == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return value


def _parse_timestamp(value: Any) -> datetime:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    text = str(value)
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --------------------------------------------------------------------------- encode


class _RawBody(BytesIO):
    """What botocore expects from ``AWSResponse.raw``: bytes behind a ``stream()``."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        contents = self.read()
        while contents:
            yield contents
            contents = self.read()


def to_wire(shape: Shape, value: Any, path: str = "$") -> Any:
    """Encode a value (member names, Python types) into JSON wire form, strictly."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, Mapping):
            raise ShapeMismatchError(f"{path}: {shape.name} needs an object, got {value!r}")
        members = shape.members  # type: ignore[attr-defined]
        unknown = sorted(set(value) - set(members))
        if unknown:
            raise ShapeMismatchError(f"{path}: {shape.name} has no member(s) {unknown}")
        return {
            members[name].serialization.get("name", name): to_wire(
                members[name], item, f"{path}.{name}"
            )
            for name, item in value.items()
            if item is not None
        }
    if kind == "list":
        if not isinstance(value, list | tuple):
            raise ShapeMismatchError(f"{path}: {shape.name} needs a list, got {value!r}")
        return [to_wire(shape.member, item, f"{path}[]") for item in value]  # type: ignore[attr-defined]
    if kind == "map":
        if not isinstance(value, Mapping):
            raise ShapeMismatchError(f"{path}: {shape.name} needs a map, got {value!r}")
        return {str(k): to_wire(shape.value, v, f"{path}.{k}") for k, v in value.items()}  # type: ignore[attr-defined]
    return _scalar_to_wire(shape, value, path)


def _scalar_to_wire(shape: Shape, value: Any, path: str) -> Any:
    kind = shape.type_name
    checks: dict[str, Callable[[Any], bool]] = {
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "timestamp": lambda v: isinstance(v, datetime),
        "blob": lambda v: isinstance(v, bytes | bytearray),
    }
    check = checks.get(kind)
    if check is None or not check(value):
        raise ShapeMismatchError(f"{path}: {kind} {shape.name} cannot hold {value!r}")
    if kind == "timestamp":
        moment = value.astimezone(UTC)
        if shape.serialization.get("timestampFormat") == "iso8601":
            return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return moment.timestamp()
    if kind == "blob":
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def encode_response(
    operation: OperationModel,
    output: Mapping[str, Any],
    *,
    request_id: str,
    status: int | None = None,
) -> AWSResponse:
    """The HTTP response AWS would send for ``output`` (member names, Python types)."""
    protocol = operation.metadata["protocol"]
    output_shape = operation.output_shape
    headers = {"x-amzn-RequestId": request_id}
    status = status or int(operation.http.get("responseCode", 200))
    body: Any = {}
    if output_shape is not None and protocol == "json":
        body = to_wire(output_shape, output)
    elif output_shape is not None and protocol == "rest-json":
        assert isinstance(output_shape, StructureShape)  # noqa: S101 - narrows for mypy
        unknown = sorted(set(output) - set(output_shape.members))
        if unknown:
            raise ShapeMismatchError(f"{output_shape.name} has no member(s) {unknown}")
        payload_name = output_shape.serialization.get("payload")
        body_members: dict[str, Any] = {}
        for name, member in output_shape.members.items():
            if output.get(name) is None:
                continue
            location = member.serialization.get("location")
            if name == payload_name:
                body = to_wire(member, output[name], f"$.{name}")
            elif location == "header":
                headers[member.serialization.get("name", name)] = str(output[name])
            elif location == "statusCode":
                status = int(output[name])
            elif payload_name is None:
                body_members[name] = output[name]
        if payload_name is None:
            body = to_wire(output_shape, body_members)
    elif output_shape is not None:
        raise NotImplementedError(f"protocol {protocol!r} is not supported by the local hook")
    return _response(operation, status, headers, body)


def encode_error(
    operation: OperationModel,
    *,
    status: int,
    code: str,
    message: str,
    request_id: str,
    extra: Mapping[str, Any] | None = None,
) -> AWSResponse:
    """An error response that botocore parses into ``client.exceptions.<code>``."""
    headers = {"x-amzn-RequestId": request_id}
    body: dict[str, Any] = {"Message": message, **(extra or {})}
    if operation.metadata["protocol"] == "json":
        body["__type"] = code
    else:
        headers["x-amzn-ErrorType"] = code
    return _response(operation, status, headers, body)


def _response(
    operation: OperationModel, status: int, headers: dict[str, str], body: Any
) -> AWSResponse:
    json_version = operation.metadata.get("jsonVersion", "1.1")
    content_type = (
        f"application/x-amz-json-{json_version}"
        if operation.metadata["protocol"] == "json"
        else "application/json"
    )
    raw = json.dumps(body).encode("utf-8")
    http_headers = HTTPHeaders()
    for name, value in {**headers, "Content-Type": content_type}.items():
        http_headers[name] = value
    http_headers["Content-Length"] = str(len(raw))
    url = f"https://{operation.metadata.get('endpointPrefix', 'local')}.local/"
    return AWSResponse(url, status, http_headers, _RawBody(raw))
