"""Where the query-validator keeps the runs it rejected (DynamoDB, the RejectedRunsTable).

A rejected run reaches neither run ledger, so its rejection is recorded here for the
requester's tools (`pinpoint-lake runs show`, `query submit --wait`): the run id, when,
the reasons (codes and messages, as on the SegmentQueryRejected event) and what the
request named (target, sync key, requested_by), never the query. The put is conditional
on the run id being new: a redelivery, or a later request reusing the run id, keeps the
first rejection, so the record does not change once written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import ClientError

from contracts import SegmentQueryRejected
from services.common.run_ledger import stamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

KEPT_FOR = timedelta(days=90)  # the table's TTL attribute, expires_at, ends the record


class RejectedRuns(Protocol):
    def record(self, rejected: SegmentQueryRejected, now: datetime) -> None: ...


class DynamoRejectedRuns:
    def __init__(self, client: Callable[[], DynamoDBClient], table: str) -> None:
        self._client = client
        self._table = table

    def record(self, rejected: SegmentQueryRejected, now: datetime) -> None:
        run = rejected.data
        item: dict[str, AttributeValueTypeDef] = {
            "run_id": {"S": run.run_id},
            "status": {"S": "REJECTED"},
            "rejected_at": {"S": stamp(now)},
            "expires_at": {"N": str(int((now + KEPT_FOR).timestamp()))},
            "reasons": {
                "S": json.dumps([reason.model_dump(mode="json") for reason in run.reasons])
            },
        }
        request = run.request
        if request is not None:
            named = {
                "target": request.target.value if request.target else None,
                "requested_by": request.requested_by,
                "sync_key": getattr(request, "sync_key", None),  # when the contract has it
            }
            item.update({name: {"S": str(value)} for name, value in named.items() if value})
        try:
            self._client().put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(run_id)",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
