"""The event flow as a Mermaid diagram, generated from the template and the contracts.

Consumers come from the template (each rule -> queue -> function), producers from the
contract models (`SOURCE = "pinpoint-lake.<service>"`), so the picture cannot drift from
what is deployed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts import PROJECT_EVENTS
from infra.local.template.loader import load_template

DEFAULT_TEMPLATE = Path(__file__).resolve().parents[1] / "infra" / "template.yaml"
_AWS_SOURCES = {
    "aws.s3": "S3",
    "aws.pinpoint": "CloudTrail API calls",
    "aws.athena": "Athena",
}


@dataclass(frozen=True)
class Edge:
    producer: str
    event: str
    consumer: str


def _getatt_target(value: Any) -> str | None:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else str(target).split(".")[0])
    return None


def _services_by_queue(resources: dict[str, Any]) -> dict[str, str]:
    """Queue logical id -> the service its function runs, from SAM SQS events or from
    `AWS::Lambda::EventSourceMapping` resources (what the template declares)."""
    names: dict[str, str] = {}
    services = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.get("Properties", {})
        variables = properties.get("Environment", {}).get("Variables", {})
        name = names[logical_id] = str(variables.get("POWERTOOLS_SERVICE_NAME", "?"))
        for source in (properties.get("Events") or {}).values():
            queue = _getatt_target((source.get("Properties") or {}).get("Queue"))
            if source.get("Type") == "SQS" and queue:
                services[queue] = name
    for resource in resources.values():
        if resource.get("Type") != "AWS::Lambda::EventSourceMapping":
            continue
        properties = resource.get("Properties", {})
        queue = _getatt_target(properties.get("EventSourceArn"))
        function = properties.get("FunctionName")
        function_id = function.get("Ref") if isinstance(function, dict) else None
        if queue and function_id in names:
            services[queue] = names[function_id]
    return services


def _producer_of(detail_type: str) -> str:
    for model in PROJECT_EVENTS:
        if detail_type == model.DETAIL_TYPE:
            return model.SOURCE.removeprefix("pinpoint-lake.")
    return "users"


def edges(template_path: Path = DEFAULT_TEMPLATE) -> list[Edge]:
    resources = load_template(template_path).get("Resources", {})
    services = _services_by_queue(resources)
    found: list[Edge] = []
    for resource in resources.values():
        if resource.get("Type") != "AWS::Events::Rule":
            continue
        properties = resource.get("Properties", {})
        consumers = [
            services[queue]
            for target in properties.get("Targets", [])
            if (queue := _getatt_target(target.get("Arn"))) in services
        ]
        pattern = properties.get("EventPattern") or {}
        if "ScheduleExpression" in properties:
            pairs = [("schedule", str(properties["ScheduleExpression"]))]
        elif sources := [s for s in pattern.get("source", []) if str(s) in _AWS_SOURCES]:
            pairs = [(_AWS_SOURCES[s], t) for s in sources for t in pattern.get("detail-type", [])]
        else:
            pairs = [(_producer_of(t), t) for t in pattern.get("detail-type", [])]
        found.extend(Edge(p, event, c) for p, event in pairs for c in consumers)
    consumed = {edge.event for edge in found}
    for model in PROJECT_EVENTS:
        if model.DETAIL_TYPE not in consumed:
            producer = model.SOURCE.removeprefix("pinpoint-lake.")
            found.append(Edge(producer, model.DETAIL_TYPE, "subscribers"))
    return sorted(set(found), key=lambda edge: (edge.producer, edge.event, edge.consumer))


def _node_id(name: str) -> str:
    return "".join(character if character.isalnum() else "_" for character in name)


def mermaid(found: Iterable[Edge]) -> str:
    lines = ["flowchart LR"]
    names: set[str] = set()
    for edge in found:
        names.update((edge.producer, edge.consumer))
        label = edge.event.replace('"', "'")
        lines.append(f'  {_node_id(edge.producer)} -- "{label}" --> {_node_id(edge.consumer)}')
    lines[1:1] = [f'  {_node_id(name)}["{name}"]' for name in sorted(names)]
    return "\n".join(lines)
