"""A toy Lambda handler for the local-cloud tests.

It writes what it saw (event, context, environment) to the probe bucket, then behaves as
each record's `detail.behaviour` asks: "ok", "fail" (reported in batchItemFailures) or
"raise" (the whole batch fails). Writing to S3 keeps the test honest: the handler talks to
the local cloud with plain boto3, like a real function.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

SEEN_ENVIRONMENT = (
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_REGION",
    "EVENT_BUS_NAME",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "PROBE_BUCKET",
    "_X_AMZN_TRACE_ID",
)


def _behaviour(record: dict[str, Any]) -> str:
    try:
        body = json.loads(record["body"])
    except ValueError:
        return "ok"
    detail = body.get("detail") if isinstance(body, dict) else None
    return str((detail or {}).get("behaviour", "ok")) if isinstance(detail, dict) else "ok"


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    environment = os.environ  # noqa: TID251 - this module plays a deployed function
    probe = {
        "event": event,
        "environment": {name: environment.get(name) for name in SEEN_ENVIRONMENT},
        "context": {
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "aws_request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis(),
        },
    }
    boto3.client("s3").put_object(
        Bucket=environment["PROBE_BUCKET"],
        Key=f"invocations/{context.aws_request_id}.json",
        Body=json.dumps(probe).encode(),
    )
    records = event.get("Records", [])
    if any(_behaviour(record) == "raise" for record in records):
        raise RuntimeError("toy handler asked to raise")
    return {
        "batchItemFailures": [
            {"itemIdentifier": record["messageId"]}
            for record in records
            if _behaviour(record) == "fail"
        ]
    }
