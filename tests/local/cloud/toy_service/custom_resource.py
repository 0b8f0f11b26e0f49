"""A toy custom-resource function: answers CloudFormation with its return value."""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    properties = event["ResourceProperties"]
    return {
        "Status": "SUCCESS",
        "PhysicalResourceId": f"greeting-{properties['Name']}",
        "Data": {"Greeting": f"hello {properties['Name']}", "RequestType": event["RequestType"]},
    }
