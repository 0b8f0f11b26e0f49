"""A run's X-Ray traces as a tree: services, durations, errors.

Every service annotates the subsegment of each record it handles with `run_id`, and the
trace header travels through PutEvents and the queues, so one run is one trace spanning
validator -> runner -> importer -> notifier. On AWS, X-Ray's filter expression finds the
traces; moto's X-Ray does not evaluate filter expressions, so for the local cloud the
summaries of the time window are read and the run is picked out by its annotations.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

BATCH_GET_LIMIT = 5  # BatchGetTraces takes at most 5 trace ids


@dataclass
class TraceNode:
    name: str
    node_id: str
    start: float
    end: float
    origin: str | None = None
    error: bool = False
    fault: bool = False
    annotations: dict[str, Any] = field(default_factory=dict)
    children: list[TraceNode] = field(default_factory=list)

    @property
    def duration_ms(self) -> float:
        return max(0.0, (self.end - self.start) * 1000)

    def walk(self) -> Iterator[TraceNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "origin": self.origin,
            "duration_ms": round(self.duration_ms, 2),
            "error": self.error,
            "fault": self.fault,
            "annotations": self.annotations,
            "children": [child.to_dict() for child in self.children],
        }


@dataclass
class RunTrace:
    trace_id: str
    roots: list[TraceNode]

    def services(self) -> list[str]:
        return [node.name for root in self.roots for node in root.walk() if node.origin]

    def to_dict(self) -> dict[str, Any]:
        return {"trace_id": self.trace_id, "roots": [root.to_dict() for root in self.roots]}


def _node(document: dict[str, Any]) -> TraceNode:
    node = TraceNode(
        name=str(document.get("name", "?")),
        node_id=str(document.get("id", "")),
        start=float(document.get("start_time", 0.0)),
        end=float(document.get("end_time", document.get("start_time", 0.0))),
        origin=document.get("origin"),
        error=bool(document.get("error")),
        fault=bool(document.get("fault")),
        annotations=dict(document.get("annotations") or {}),
    )
    node.children = [_node(child) for child in document.get("subsegments") or []]
    node.children.sort(key=lambda child: child.start)
    return node


def build_tree(trace_id: str, documents: Iterable[dict[str, Any]]) -> RunTrace:
    """Link segment documents by parent_id (subsegments are nested in their documents).

    Documents sharing an id (the SDK's facade segment and the function segment the Lambda
    service writes) are merged: the one with an origin names the node, the other's
    subsegments hang below it.
    """
    nodes: dict[str, TraceNode] = {}
    parents: dict[str, str] = {}
    for document in documents:
        node = _node(document)
        existing = nodes.get(node.node_id)
        if existing is None:
            nodes[node.node_id] = node
        else:
            keep, other = (
                (node, existing) if node.origin and not existing.origin else (existing, node)
            )
            keep.children.extend(other.children)
            keep.annotations.update(other.annotations)
            keep.fault = keep.fault or other.fault
            keep.error = keep.error or other.error
            nodes[node.node_id] = keep
        if document.get("parent_id"):
            parents[node.node_id] = str(document["parent_id"])
    children_ids = {child.node_id for node in nodes.values() for child in node.walk()}
    roots = []
    for node_id, node in nodes.items():
        parent = _find(nodes, parents.get(node_id))
        if parent is not None and parent is not node:
            parent.children.append(node)
            parent.children.sort(key=lambda child: child.start)
        elif node_id not in children_ids or parents.get(node_id) is None:
            roots.append(node)
    roots.sort(key=lambda root: root.start)
    return RunTrace(trace_id=trace_id, roots=roots)


def _find(nodes: dict[str, TraceNode], node_id: str | None) -> TraceNode | None:
    if node_id is None:
        return None
    if node_id in nodes:
        return nodes[node_id]
    for node in nodes.values():
        for descendant in node.walk():
            if descendant.node_id == node_id:
                return descendant
    return None


def _mentions_run(documents: Iterable[dict[str, Any]], run_id: str) -> bool:
    def visit(document: dict[str, Any]) -> bool:
        annotations = document.get("annotations") or {}
        if run_id in (annotations.get("run_id"), annotations.get("correlation_id")):
            return True
        return any(visit(child) for child in document.get("subsegments") or [])

    return any(visit(document) for document in documents)


def _other_run(node: TraceNode, run_id: str) -> bool:
    marked = node.annotations.get("run_id") or node.annotations.get("correlation_id")
    return bool(marked) and marked != run_id


def prune_to_run(trace: RunTrace, run_id: str) -> RunTrace:
    """Drop the branches of records that belong to other runs (a batch can mix runs)."""

    def prune(node: TraceNode) -> TraceNode:
        kept = [prune(child) for child in node.children if not _other_run(child, run_id)]
        return TraceNode(
            name=node.name,
            node_id=node.node_id,
            start=node.start,
            end=node.end,
            origin=node.origin,
            error=node.error,
            fault=node.fault,
            annotations=node.annotations,
            children=kept,
        )

    return RunTrace(trace.trace_id, [prune(root) for root in trace.roots])


def run_traces(
    xray: Any, run_id: str, *, start: datetime, end: datetime, server_side_filter: bool = True
) -> list[RunTrace]:
    """The traces of one run, oldest first."""
    arguments: dict[str, Any] = {"StartTime": start, "EndTime": end}
    if server_side_filter:
        arguments["FilterExpression"] = f'annotation.run_id = "{run_id}"'
    trace_ids: list[str] = []
    for page in xray.get_paginator("get_trace_summaries").paginate(**arguments):
        trace_ids.extend(summary["Id"] for summary in page.get("TraceSummaries", []))
    traces = []
    for index in range(0, len(trace_ids), BATCH_GET_LIMIT):
        response = xray.batch_get_traces(TraceIds=trace_ids[index : index + BATCH_GET_LIMIT])
        for trace in response.get("Traces", []):
            documents = [json.loads(segment["Document"]) for segment in trace.get("Segments", [])]
            if _mentions_run(documents, run_id):
                traces.append(prune_to_run(build_tree(trace["Id"], documents), run_id))
    traces.sort(key=lambda trace: min((root.start for root in trace.roots), default=0.0))
    return traces


def render(trace: RunTrace) -> str:
    """The tree as indented lines: name, duration, and a mark for errors and faults."""
    lines = [f"trace {trace.trace_id}"]

    def visit(node: TraceNode, depth: int) -> None:
        flags = " FAULT" if node.fault else (" ERROR" if node.error else "")
        label = node.annotations.get("detail_type")
        suffix = f"  [{label}]" if label else ""
        lines.append(f"{'  ' * depth}├─ {node.name}  {node.duration_ms:.1f} ms{flags}{suffix}")
        for child in node.children:
            visit(child, depth + 1)

    for root in trace.roots:
        visit(root, 1)
    return "\n".join(lines)
