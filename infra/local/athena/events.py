"""The "Athena Query State Change" event, as Athena puts it on the default bus."""

from __future__ import annotations

import json
from typing import Any

from infra.local.athena.executions import State, Transition

SOURCE = "aws.athena"
DETAIL_TYPE = "Athena Query State Change"


def state_change_detail(transition: Transition) -> dict[str, Any]:
    """The event's ``detail``. Athena sends the sequence number as a string of digits.

    The first notice (QUEUED) has no previous state, so ``previousState`` is left out;
    ``athenaError`` only comes with FAILED.
    """
    detail: dict[str, Any] = {"versionId": "0", "currentState": str(transition.current)}
    if transition.previous is not None:
        detail["previousState"] = str(transition.previous)
    detail.update(
        {
            "statementType": transition.statement_type,
            "queryExecutionId": transition.query_execution_id,
            "workgroupName": transition.workgroup,
            "sequenceNumber": str(transition.sequence_number),
        }
    )
    if transition.current is State.FAILED and transition.failure is not None:
        detail["athenaError"] = {
            "errorCategory": transition.failure.category,
            "errorType": transition.failure.error_type,
            "errorMessage": transition.failure.message,
            "retryable": transition.failure.retryable,
        }
    return detail


def put_events_entry(transition: Transition) -> dict[str, Any]:
    """One ``PutEvents`` entry for the default bus."""
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": json.dumps(state_change_detail(transition)),
        "Resources": [],
        "Time": transition.at,
        "EventBusName": "default",
    }
