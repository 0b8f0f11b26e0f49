"""Trace headers cross EventBridge into SQS, and emitted segments land in moto's X-Ray."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_xray_sdk.core import xray_recorder
from moto import mock_aws

from infra.local.xray import TraceHeaderForwarding, XRayCapture
from services.common.observability import tracer

REGION = "us-east-1"
UPSTREAM = "Root=1-6740a1b2-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def _queue_behind_rule(bus: str = "default") -> str:
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    url = sqs.create_queue(QueueName="target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="all", EventPattern=json.dumps({"source": ["test"]}), EventBusName=bus)
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url


def _received(url: str) -> list[dict[str, Any]]:
    messages = boto3.client("sqs", region_name=REGION).receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["AWSTraceHeader"]
    )
    return [dict(message) for message in messages.get("Messages", [])]


@pytest.mark.usefixtures("aws")
def test_put_events_trace_headers_reach_sqs_targets_per_entry() -> None:
    url = _queue_behind_rule()
    forwarding = TraceHeaderForwarding()
    forwarding.install()
    try:
        boto3.client("events", region_name=REGION).put_events(
            Entries=[
                {"Source": "test", "DetailType": "a", "Detail": "{}", "TraceHeader": UPSTREAM},
                {"Source": "test", "DetailType": "b", "Detail": "{}"},
            ]
        )
    finally:
        forwarding.uninstall()

    by_type = {json.loads(m["Body"])["detail-type"]: m for m in _received(url)}
    assert by_type["a"]["Attributes"]["AWSTraceHeader"] == UPSTREAM
    assert "AWSTraceHeader" not in by_type["b"].get("Attributes", {})


@pytest.mark.usefixtures("aws")
def test_more_than_ten_entries_are_still_refused() -> None:
    forwarding = TraceHeaderForwarding()
    forwarding.install()
    try:
        entries = [{"Source": "test", "DetailType": "a", "Detail": "{}"}] * 11
        with pytest.raises(Exception, match="failed to satisfy constraint"):
            boto3.client("events", region_name=REGION).put_events(Entries=entries)  # type: ignore[arg-type]
    finally:
        forwarding.uninstall()


@pytest.mark.usefixtures("aws")
def test_an_invocation_continues_the_upstream_trace_and_stores_its_segments() -> None:
    with (
        XRayCapture(region=REGION) as capture,
        capture.invocation("query-runner-fn", UPSTREAM) as traced,
    ):
        os.environ["_X_AMZN_TRACE_ID"] = traced.header  # noqa: TID251 - the runtime's job
        try:
            with tracer.provider.in_subsegment("## handler") as subsegment:
                tracer.put_annotation("run_id", "run-1")
                subsegment.put_annotation("step", "start")
        finally:
            del os.environ["_X_AMZN_TRACE_ID"]  # noqa: TID251

    trace_id = "1-6740a1b2-0123456789abcdef01234567"
    assert capture.trace_ids() == [trace_id]
    documents = capture.documents_of(trace_id)
    function = next(d for d in documents if d["name"] == "query-runner-fn")
    handler = next(d for d in documents if d["name"] == "## handler")
    assert function["parent_id"] == "53995c3f42cd8ad8"
    assert function["origin"] == "AWS::Lambda::Function"
    assert handler["parent_id"] == function["id"]
    assert handler["annotations"] == {"run_id": "run-1", "step": "start"}

    traces = boto3.client("xray", region_name=REGION).batch_get_traces(TraceIds=[trace_id])
    stored = {json.loads(s["Document"])["name"] for s in traces["Traces"][0]["Segments"]}
    assert stored == {"query-runner-fn", "## handler"}


@pytest.mark.usefixtures("aws")
def test_a_failing_invocation_is_a_fault_and_a_new_trace_without_upstream() -> None:
    with (
        XRayCapture(region=REGION) as capture,
        pytest.raises(RuntimeError, match="boom"),
        capture.invocation("fn", None),
    ):
        raise RuntimeError("boom")

    (document,) = capture.documents
    assert document["fault"] is True
    assert "parent_id" not in document
    assert document["trace_id"].startswith("1-")


@pytest.mark.usefixtures("aws")
def test_uninstall_restores_the_recorder_and_moto() -> None:
    emitter = xray_recorder.emitter
    tracing_was_disabled = tracer.disabled
    capture = XRayCapture(region=REGION)
    capture.install()
    assert tracer.disabled is False
    capture.uninstall()

    assert xray_recorder.emitter is emitter
    assert tracer.disabled is tracing_was_disabled
    url = _queue_behind_rule()
    boto3.client("events", region_name=REGION).put_events(
        Entries=[{"Source": "test", "DetailType": "a", "Detail": "{}", "TraceHeader": UPSTREAM}]
    )
    assert "AWSTraceHeader" not in _received(url)[0].get("Attributes", {})
