"""The botocore face of the emulator: Athena operations in, Athena shapes out.

Requests arrive through the shared botocore hook already validated against the service
model; responses are encoded strictly against the output shapes, and
:class:`AthenaRequestError` becomes an ``InvalidRequestException`` (HTTP 400, with
``AthenaErrorCode``) that botocore raises as the modeled ``ClientError``.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.model import OperationModel

from infra.local.athena import shapes
from infra.local.athena.errors import AthenaRequestError
from infra.local.athena.service import AthenaService
from infra.local.botocore_hook import decode_request, encode_error, encode_response
from infra.local.clock import VirtualClock

MAX_RESULTS_PAGE = 1000
MAX_LIST_PAGE = 50
MAX_BATCH_IDS = 50

Operation = Callable[[dict[str, Any]], dict[str, Any]]


class AthenaApi:
    def __init__(self, service: AthenaService, clock: VirtualClock) -> None:
        self._service = service
        self._clock = clock
        self.operations: dict[str, Operation] = {
            "StartQueryExecution": self.start_query_execution,
            "GetQueryExecution": self.get_query_execution,
            "GetQueryResults": self.get_query_results,
            "StopQueryExecution": self.stop_query_execution,
            "BatchGetQueryExecution": self.batch_get_query_execution,
            "ListQueryExecutions": self.list_query_executions,
        }

    def handle(self, operation: OperationModel, request: AWSPreparedRequest) -> AWSResponse | None:
        """The botocore hook's entry point; other operations fall through to moto."""
        answer = self.operations.get(operation.name)
        if answer is None:
            return None
        request_id = str(uuid.uuid4())
        params = decode_request(operation, request).params
        try:
            output = answer(params)
        except AthenaRequestError as error:
            extra = {"AthenaErrorCode": error.athena_error_code} if error.athena_error_code else {}
            return encode_error(
                operation,
                status=error.status,
                code=error.code,
                message=error.message,
                request_id=request_id,
                extra=extra,
            )
        return encode_response(operation, output, request_id=request_id)

    # ------------------------------------------------------------------ operations

    def start_query_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        context = params.get("QueryExecutionContext") or {}
        result_configuration = params.get("ResultConfiguration") or {}
        query_execution_id = self._service.start(
            params["QueryString"],
            client_request_token=params.get("ClientRequestToken"),
            catalog=context.get("Catalog"),
            database=context.get("Database"),
            output_location=result_configuration.get("OutputLocation"),
            workgroup=params.get("WorkGroup"),
        )
        return {"QueryExecutionId": query_execution_id}

    def get_query_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        execution = self._service.get(params["QueryExecutionId"])
        return {"QueryExecution": shapes.query_execution(execution, self._clock.now())}

    def get_query_results(self, params: dict[str, Any]) -> dict[str, Any]:
        query_execution_id = params["QueryExecutionId"]
        limit = params.get("MaxResults", MAX_RESULTS_PAGE)
        if limit > MAX_RESULTS_PAGE:
            raise AthenaRequestError(
                f"1 validation error detected: Value '{limit}' at 'maxResults' failed to satisfy"
                f" constraint: Member must have value less than or equal to {MAX_RESULTS_PAGE}"
            )
        offset = _decode_token(params.get("NextToken"), scope=query_execution_id)
        page = self._service.page(query_execution_id, offset, limit)
        output: dict[str, Any] = {
            "UpdateCount": 0,
            "ResultSet": {
                "Rows": [shapes.result_row(row) for row in page.rows],
                "ResultSetMetadata": {
                    "ColumnInfo": [shapes.column_info(column) for column in page.columns]
                },
            },
        }
        if page.next_offset is not None:
            output["NextToken"] = _encode_token(query_execution_id, page.next_offset)
        return output

    def stop_query_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        self._service.stop(params["QueryExecutionId"])
        return {}

    def batch_get_query_execution(self, params: dict[str, Any]) -> dict[str, Any]:
        ids: list[str] = params["QueryExecutionIds"]
        if len(ids) > MAX_BATCH_IDS:
            raise AthenaRequestError(
                f"1 validation error detected: Value at 'queryExecutionIds' failed to satisfy"
                f" constraint: Member must have length less than or equal to {MAX_BATCH_IDS}"
            )
        now = self._clock.now()
        found, missing = [], []
        for query_execution_id in ids:
            execution = self._service.find(query_execution_id)
            if execution is None:
                missing.append(
                    {
                        "QueryExecutionId": query_execution_id,
                        "ErrorCode": "INVALID_INPUT",
                        "ErrorMessage": f"QueryExecution {query_execution_id} was not found",
                    }
                )
            else:
                found.append(shapes.query_execution(execution, now))
        return {"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}

    def list_query_executions(self, params: dict[str, Any]) -> dict[str, Any]:
        limit = params.get("MaxResults", MAX_LIST_PAGE)
        if limit > MAX_LIST_PAGE:
            raise AthenaRequestError(
                f"1 validation error detected: Value '{limit}' at 'maxResults' failed to satisfy"
                f" constraint: Member must have value less than or equal to {MAX_LIST_PAGE}"
            )
        workgroup = params.get("WorkGroup")
        ids = self._service.list_ids(workgroup)
        offset = _decode_token(params.get("NextToken"), scope=f"list:{workgroup or ''}")
        output: dict[str, Any] = {"QueryExecutionIds": ids[offset : offset + limit]}
        if offset + limit < len(ids):
            output["NextToken"] = _encode_token(f"list:{workgroup or ''}", offset + limit)
        return output


def _encode_token(scope: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{scope}|{offset}".encode()).decode("ascii")


def _decode_token(token: str | None, *, scope: str) -> int:
    """Offsets hide in opaque tokens bound to one query (or listing), like Athena's."""
    if not token:
        return 0
    try:
        token_scope, _, offset = base64.urlsafe_b64decode(token).decode().rpartition("|")
        if token_scope == scope and offset.isdigit():
            return int(offset)
    except (binascii.Error, UnicodeDecodeError):
        pass
    raise AthenaRequestError("The NextToken is invalid or has expired.")
