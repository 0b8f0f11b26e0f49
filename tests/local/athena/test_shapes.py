"""Every answer fits Athena's botocore output shape: members, types, required members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import botocore.session
import pytest
from botocore.model import Shape

from infra.local.athena import AthenaEmulator
from infra.local.athena.api import AthenaApi
from infra.local.clock import VirtualClock
from tests.local.athena.conftest import OUTPUT

_MODEL = botocore.session.get_session().get_service_model("athena")

_SCALARS: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "long": int,
    "double": (int, float),
    "float": (int, float),
    "timestamp": datetime,
    "blob": bytes,
}


def assert_fits(shape: Shape, value: Any, path: str = "$") -> None:
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), f"{path}: expected an object"
        members = shape.members  # type: ignore[attr-defined]
        unknown = set(value) - set(members)
        assert not unknown, f"{path}: {shape.name} has no member {sorted(unknown)}"
        missing = set(shape.required_members) - set(value)
        assert not missing, f"{path}: {shape.name} misses required {sorted(missing)}"
        for name, item in value.items():
            assert_fits(members[name], item, f"{path}.{name}")
    elif kind == "list":
        assert isinstance(value, list), f"{path}: expected a list"
        for i, item in enumerate(value):
            assert_fits(shape.member, item, f"{path}[{i}]")  # type: ignore[attr-defined]
    elif kind == "map":
        assert isinstance(value, dict), f"{path}: expected a map"
        for key, item in value.items():
            assert_fits(shape.value, item, f"{path}.{key}")  # type: ignore[attr-defined]
    else:
        expected = _SCALARS[kind]
        assert isinstance(value, expected), f"{path}: {value!r} is not a {kind}"
        assert not (kind in {"integer", "long"} and isinstance(value, bool)), path
        enum = shape.enum if kind == "string" else []  # type: ignore[attr-defined]
        assert not enum or value in enum, f"{path}: {value!r} not in {enum}"


@pytest.fixture
def api(emulator: AthenaEmulator, clock: VirtualClock) -> AthenaApi:
    assert emulator._service is not None
    return AthenaApi(emulator._service, clock)


def _check(operation: str, output: dict[str, Any]) -> None:
    shape = _MODEL.operation_model(operation).output_shape
    assert shape is not None
    assert_fits(shape, output)


def test_every_operation_answers_in_its_output_shape(
    api: AthenaApi, emulator: AthenaEmulator, clock: VirtualClock
) -> None:
    request: dict[str, Any] = {"QueryExecutionContext": {"Database": "due_eventdb"}}
    request["ResultConfiguration"] = {"OutputLocation": OUTPUT}
    started = api.start_query_execution({"QueryString": "SELECT * FROM email_click", **request})
    failing = api.start_query_execution({"QueryString": "SELECT nope FROM email_click", **request})
    cancelled = api.start_query_execution({"QueryString": "SELECT 1", **request})
    _check("StartQueryExecution", started)
    ids = [started["QueryExecutionId"], failing["QueryExecutionId"], cancelled["QueryExecutionId"]]

    _check("GetQueryExecution", api.get_query_execution({"QueryExecutionId": ids[0]}))  # QUEUED
    emulator.tick()
    _check("GetQueryExecution", api.get_query_execution({"QueryExecutionId": ids[0]}))  # RUNNING
    _check("StopQueryExecution", api.stop_query_execution({"QueryExecutionId": ids[2]}))
    clock.advance(1)
    emulator.tick()
    for query_id in ids:  # SUCCEEDED, FAILED, CANCELLED
        _check("GetQueryExecution", api.get_query_execution({"QueryExecutionId": query_id}))

    first = api.get_query_results({"QueryExecutionId": ids[0], "MaxResults": 2})
    _check("GetQueryResults", first)
    following = {"QueryExecutionId": ids[0], "NextToken": first["NextToken"]}
    _check("GetQueryResults", api.get_query_results(following))
    _check(
        "BatchGetQueryExecution",
        api.batch_get_query_execution({"QueryExecutionIds": [*ids, "unknown"]}),
    )
    _check("ListQueryExecutions", api.list_query_executions({"MaxResults": 1}))


def test_wire_answers_parse_into_the_modeled_error(athena: Any) -> None:
    with pytest.raises(athena.exceptions.InvalidRequestException) as raised:
        athena.get_query_execution(QueryExecutionId="missing")
    response = raised.value.response
    assert response["Error"] == {
        "Code": "InvalidRequestException",
        "Message": "QueryExecution missing was not found",
    }
    assert response["AthenaErrorCode"] == "INVALID_INPUT"
