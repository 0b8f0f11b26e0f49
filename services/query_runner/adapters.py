"""Athena and DynamoDB behind the query-runner's ports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from contracts import SegmentQueryValidated
from services.common.run_traces import RunTraceHeaders
from services.query_runner.logic import Execution, QueryPlacement, RunRecord, RunStatus

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_dynamodb import DynamoDBClient

STATUS_INDEX = "by-status"


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


class DynamoRunLedger:
    """Runs keyed by run id; a status/deadline index finds the ones still running too long."""

    def __init__(self, client: Callable[[], DynamoDBClient], table: str) -> None:
        self._client = client
        self._table = table
        self.traces = RunTraceHeaders()

    def get(self, run_id: str) -> RunRecord | None:
        item = (
            self._client()
            .get_item(TableName=self._table, Key={"run_id": {"S": run_id}}, ConsistentRead=True)
            .get("Item")
        )
        return self._remember(item) if item else None

    def _remember(self, item: Any) -> RunRecord:
        self.traces.remember(item)
        return _record(item)

    def save_started(self, record: RunRecord) -> None:
        try:
            self._client().put_item(
                TableName=self._table,
                Item={
                    "run_id": {"S": record.run_id},
                    "query_execution_id": {"S": record.query_execution_id},
                    "status": {"S": record.status.value},
                    "deadline": {"S": record.deadline.isoformat()},
                    "validated": {"S": record.validated.model_dump_json()},
                    **self.traces.attribute(),
                },
                ConditionExpression="attribute_not_exists(run_id)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def mark_ended(self, run_id: str, status: RunStatus) -> bool:
        try:
            self._client().update_item(
                TableName=self._table,
                Key={"run_id": {"S": run_id}},
                UpdateExpression="SET #status = :ended",
                ConditionExpression="#status = :running",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":ended": {"S": status.value},
                    ":running": {"S": RunStatus.RUNNING.value},
                },
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def overdue(self, now: datetime) -> list[RunRecord]:
        paginator = self._client().get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            IndexName=STATUS_INDEX,
            KeyConditionExpression="#status = :running AND deadline < :now",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":running": {"S": RunStatus.RUNNING.value},
                ":now": {"S": now.isoformat()},
            },
        )
        return [self._remember(item) for page in pages for item in page.get("Items", [])]


def _record(item: Any) -> RunRecord:
    return RunRecord(
        run_id=item["run_id"]["S"],
        query_execution_id=item["query_execution_id"]["S"],
        status=RunStatus(item["status"]["S"]),
        deadline=datetime.fromisoformat(item["deadline"]["S"]),
        validated=SegmentQueryValidated.model_validate_json(item["validated"]["S"]),
    )
