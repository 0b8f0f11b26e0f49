"""The run ledger: how a segmentation run's steps are recorded, shared by runner and importer.

Both services keep one DynamoDB item per run (keyed by `run_id`, with a `by-status` index
on status and deadline), move it between statuses with conditional writes so that two
deliveries never both act, and store the X-Ray trace header the run started in, so a later
invocation (Athena's state change, the import poll) publishes the run's events in the same
trace. This module is that one adapter: one status vocabulary, one time format, one
conditional move; each service maps its own record to attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from contracts import Event, ImportOutcome

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

STATUS_INDEX = "by-status"
TRACE_ATTRIBUTE = "trace_header"
Item = dict[str, "AttributeValueTypeDef"]


class RunStatus(StrEnum):
    """Where a run's step is, and, once it ended, how: the one vocabulary of both ledgers."""

    # Open
    SUBMITTING = "SUBMITTING"  # importer: claimed, its import job being created
    WAITING = "WAITING"  # importer: checked and written, waiting for a free import slot
    RUNNING = "RUNNING"
    ENDING = "ENDING"  # importer: the ending decided and stored, not yet published
    # Ended
    SUCCEEDED = "SUCCEEDED"  # runner: the query's result is ready
    COMPLETE = "COMPLETE"
    PARTIAL = "PARTIAL"
    DRY_RUN = "DRY_RUN"
    NOTHING_TO_IMPORT = "NOTHING_TO_IMPORT"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"

    @property
    def ended(self) -> bool:
        return self not in _OPEN

    @classmethod
    def of_outcome(cls, outcome: ImportOutcome) -> RunStatus:
        """The status of an import that ended with `outcome` (the contract's word)."""
        return cls[outcome.name]


_OPEN = frozenset({RunStatus.SUBMITTING, RunStatus.WAITING, RunStatus.RUNNING, RunStatus.ENDING})


class Publish(Protocol):
    """`EventPublisher.publish`: a run's later events carry the trace the run started in."""

    def __call__(
        self, events: Sequence[Event], /, *, trace_header: str | None = None
    ) -> object: ...


def stamp(moment: datetime) -> str:
    """One fixed format (UTC, microseconds), so the index orders times as text the way they
    order in time."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def moment(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def text(item: Mapping[str, Any], name: str) -> str | None:
    value = item.get(name)
    return str(value["S"]) if value else None


def trace_attribute(header: str | None) -> Item:
    return {TRACE_ATTRIBUTE: {"S": header}} if header else {}


class DynamoRunLedger:
    """One run table: read a run, record a new one, move one from status to status."""

    def __init__(self, client: Callable[[], DynamoDBClient], table: str) -> None:
        self._client = client
        self._table = table

    def get(self, run_id: str) -> dict[str, Any] | None:
        response = self._client().get_item(
            TableName=self._table, Key={"run_id": {"S": run_id}}, ConsistentRead=True
        )
        item = response.get("Item")
        return dict(item) if item else None

    def put_new(self, item: Item) -> bool:
        """Record a run unless it is recorded already; False if it was."""
        try:
            self._client().put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(run_id)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def move(
        self,
        run_id: str,
        current: RunStatus,
        target: RunStatus,
        attributes: Mapping[str, AttributeValueTypeDef] | None = None,
        *,
        expect: Mapping[str, AttributeValueTypeDef] | None = None,
    ) -> bool:
        """`current` -> `target`, setting `attributes` too; False if the run was not in
        `current` (another delivery moved it first) or an attribute of `expect` differs."""
        names = {"#status": "status"}
        values: dict[str, AttributeValueTypeDef] = {
            ":target": {"S": target.value},
            ":current": {"S": current.value},
        }
        assignments = ["#status = :target"]
        for n, (name, value) in enumerate(sorted((attributes or {}).items())):
            names[f"#a{n}"] = name
            values[f":a{n}"] = value
            assignments.append(f"#a{n} = :a{n}")
        conditions = ["#status = :current"]
        for n, (name, value) in enumerate(sorted((expect or {}).items())):
            names[f"#e{n}"] = name
            values[f":e{n}"] = value
            conditions.append(f"#e{n} = :e{n}")
        try:
            self._client().update_item(
                TableName=self._table,
                Key={"run_id": {"S": run_id}},
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression=" AND ".join(conditions),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def in_status(
        self, status: RunStatus, *, limit: int | None = None, due_before: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Runs in `status`, earliest deadline first (at most `limit`; with `due_before`,
        only those whose deadline has passed)."""
        condition = "#status = :status"
        values: dict[str, AttributeValueTypeDef] = {":status": {"S": status.value}}
        if due_before is not None:
            condition += " AND deadline < :due"
            values[":due"] = {"S": stamp(due_before)}
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": STATUS_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": True,
        }
        items: list[dict[str, Any]] = []
        while limit is None or len(items) < limit:
            if limit is not None:
                arguments["Limit"] = limit - len(items)
            response = self._client().query(**arguments)
            items += [dict(item) for item in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            arguments["ExclusiveStartKey"] = last
        return items if limit is None else items[:limit]
