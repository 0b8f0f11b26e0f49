"""Athena and DynamoDB behind the query-runner's ports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts import RunRequest, SegmentQueryValidated
from services.common.run_ledger import (
    TRACE_ATTRIBUTE,
    DynamoRunLedger,
    RunStatus,
    moment,
    stamp,
    text,
    trace_attribute,
)
from services.query_runner.logic import Execution, QueryPlacement, RunRecord

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_dynamodb import DynamoDBClient


class AthenaApi:
    def __init__(self, client: Callable[[], AthenaClient]) -> None:
        self._client = client

    def start(self, query: str, token: str, placement: QueryPlacement, output: str) -> str:
        response = self._client().start_query_execution(
            QueryString=query,
            ClientRequestToken=token,
            QueryExecutionContext={"Catalog": placement.catalog, "Database": placement.database},
            ResultConfiguration={"OutputLocation": output},
            WorkGroup=placement.workgroup,
        )
        return response["QueryExecutionId"]

    def describe(self, query_execution_id: str) -> Execution | None:
        try:
            response = self._client().get_query_execution(QueryExecutionId=query_execution_id)
        except ClientError as error:
            if error.response["Error"]["Code"] == "InvalidRequestException":
                return None  # not an execution of this account and region
            raise
        execution = response["QueryExecution"]
        status = execution.get("Status", {})
        athena_error = status.get("AthenaError", {})
        statistics = execution.get("Statistics", {})
        return Execution(
            query_execution_id=execution.get("QueryExecutionId", query_execution_id),
            state=status.get("State", "UNKNOWN"),
            query=execution.get("Query", ""),
            output_location=execution.get("ResultConfiguration", {}).get("OutputLocation"),
            reason=status.get("StateChangeReason"),
            error_category=athena_error.get("ErrorCategory"),
            error_type=athena_error.get("ErrorType"),
            retryable=athena_error.get("Retryable"),
            data_scanned_bytes=statistics.get("DataScannedInBytes", 0),
            engine_execution_time_ms=statistics.get("EngineExecutionTimeInMillis", 0),
        )

    def stop(self, query_execution_id: str) -> None:
        self._client().stop_query_execution(QueryExecutionId=query_execution_id)


class QueryRunLedger:
    """The runner's runs in the shared run ledger: a RUNNING item per started query, its
    deadline indexed so the overdue ones are found."""

    def __init__(self, client: Callable[[], DynamoDBClient], table: str) -> None:
        self._ledger = DynamoRunLedger(client, table)

    def get(self, run_id: str) -> RunRecord | None:
        item = self._ledger.get(run_id)
        return _record(item) if item else None

    def save_started(self, record: RunRecord) -> None:
        self._ledger.put_new(
            {
                "run_id": {"S": record.run_id},
                "query_execution_id": {"S": record.query_execution_id},
                "status": {"S": record.status.value},
                "deadline": {"S": stamp(record.deadline)},
                "validated": {"S": record.validated.model_dump_json()},
                **trace_attribute(record.trace_header),
                **schedule_attributes(record.validated.data.request),
            }
        )

    def mark_ended(self, run_id: str, status: RunStatus) -> bool:
        return self._ledger.move(run_id, RunStatus.RUNNING, status)

    def overdue(self, now: datetime) -> list[RunRecord]:
        return [_record(item) for item in self._ledger.in_status(RunStatus.RUNNING, due_before=now)]


SCHEDULE_INDEX = "by-schedule"


def schedule_attributes(request: RunRequest) -> dict[str, Any]:
    """The keys of the by-schedule index, for a run a schedule fired (none otherwise)."""
    if request.schedule_arn is None or request.scheduled_time is None:
        return {}
    return {
        "schedule_arn": {"S": request.schedule_arn},
        "scheduled_at": {"S": stamp(request.scheduled_time)},
    }


def _record(item: Any) -> RunRecord:
    return RunRecord(
        run_id=item["run_id"]["S"],
        query_execution_id=item["query_execution_id"]["S"],
        status=RunStatus(item["status"]["S"]),
        deadline=moment(item["deadline"]["S"]),
        validated=SegmentQueryValidated.model_validate_json(item["validated"]["S"]),
        trace_header=text(item, TRACE_ATTRIBUTE),
    )
