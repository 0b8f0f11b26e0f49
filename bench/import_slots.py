"""Benchmark 7: import slots and follow-up latency, in the local cloud's virtual time.

Both figures are virtual seconds (the local cloud's clock: schedules, SQS visibility and
delays, batching windows, Athena's and Pinpoint's jobs), so they measure how the system
waits, not how fast this machine is; each ratio is against a baseline of the same run.

(a) Burst: 25 small runs (quick: 12) requested at once. The drain time runs from the
requests to the last `EndpointImportCompleted` reaching a subscriber; the ideal is
ceil(runs / 10) import-job durations (Pinpoint runs 10 import jobs at once), the job
duration being what the emulator records for the burst's jobs.

(b) Follow-up: one small run; its overhead is the time from `SegmentQueryRequested` to
`EndpointImportCompleted` beyond Athena's and the import job's own time. The baseline is
the same run with the follow-ups off (IMPORTER_QUEUE_URL unset: only the minute poll).
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from bench.cloud_tools import services_log_to
from bench.harness import Options, Ratio, Report
from contracts import SegmentQueryRequested, put_events_entry
from infra.local import LocalCloud

NAME = "import_slots"
MOST_JOBS = 10
QUERY = (
    'select endpoint_id as "Id", \'EMAIL\' as "ChannelType", email as "Address", '
    "plan as \"Attributes.Plan\" from crm_customers where plan = '{plan}'"
)
MAX_ROUNDS = 1000
POLL_WAIT_STEPS, POLL_WAIT_STEP_SECONDS = 30, 5.0


def run(options: Options) -> Report:
    report = Report(NAME)
    runs = options.scaled(25, 12)
    lake = _lake(options.work_dir / NAME)
    log = options.work_dir / f"{NAME}-services.log"
    with services_log_to(log):
        drain, job_seconds = _burst(lake, runs)
        followed = _overhead(lake, follow_ups=True)
        polled = _overhead(lake, follow_ups=False)
    ideal = math.ceil(runs / MOST_JOBS) * job_seconds
    report.figure(
        f"burst of {runs} runs: drained in {drain:.1f} virtual s; ideal "
        f"ceil({runs}/{MOST_JOBS}) x {job_seconds:.1f} s job = {ideal:.1f} s"
    )
    report.figure(
        f"follow-up overhead of a small run: {followed:.1f} virtual s "
        f"(minute poll only: {polled:.1f} s)"
    )
    report.ratio(Ratio(NAME, "burst drain", "ideal", drain / ideal, target=1.5, at_most=True))
    report.ratio(
        Ratio(NAME, "overhead, minute poll only", "overhead, follow-ups", polled / followed)
    )
    return report


def _lake(root: Path) -> Path:
    table = root / "crm_customers"
    table.mkdir(parents=True, exist_ok=True)
    lines = ["endpoint_id,plan,email"]
    lines += [f"{index:032x},plan{index % 5},user{index}@example.com" for index in range(1, 21)]
    (table / "part-0.csv").write_text("\n".join(lines) + "\n")
    return root


def _request(cloud: LocalCloud, run_ids: list[str]) -> None:
    entries = [
        put_events_entry(
            SegmentQueryRequested.from_user(QUERY.format(plan=f"plan{n % 5}"), run_id=run_id),
            event_bus_name=cloud.outputs["EventBusName"],
        )
        for n, run_id in enumerate(run_ids)
    ]
    events = boto3.client("events")
    for start in range(0, len(entries), 10):
        events.put_events(Entries=entries[start : start + 10])


def _received(cloud: LocalCloud, queue_url: str) -> list[tuple[float, dict[str, Any]]]:
    """(virtual SentTimestamp in seconds, event) of everything the subscriber got."""
    sqs, seen = boto3.client("sqs"), []
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["SentTimestamp"]
    ).get("Messages", []):
        for message in messages:
            millis = int(message["Attributes"]["SentTimestamp"])
            seen.append((millis / 1000, json.loads(message["Body"])))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return seen


def _job_seconds(cloud: LocalCloud, job_id: str) -> float:
    job = boto3.client("pinpoint").get_import_job(
        ApplicationId=cloud.outputs["PinpointProjectId"], JobId=job_id
    )["ImportJobResponse"]
    ended = datetime.fromisoformat(job["CompletionDate"])
    return (ended - datetime.fromisoformat(job["CreationDate"])).total_seconds()


def _burst(lake: Path, runs: int) -> tuple[float, float]:
    with LocalCloud(data_lake=lake) as cloud:
        cloud.run_until_idle()
        watch = cloud.subscribe("burst")
        started = cloud.clock.now().timestamp()
        _request(cloud, [f"burst-{n:02}" for n in range(runs)])
        cloud.run_until_idle(max_rounds=MAX_ROUNDS)
        completed = [
            (at, event)
            for at, event in _received(cloud, watch.queue_url)
            if event["detail-type"] == "EndpointImportCompleted"
        ]
        if len(completed) != runs:
            raise RuntimeError(f"{len(completed)} of {runs} burst runs completed")
        jobs = [
            _job_seconds(cloud, event["detail"]["data"]["import_job_id"]) for _, event in completed
        ]
        return max(at for at, _ in completed) - started, sorted(jobs)[len(jobs) // 2]


def _overhead(lake: Path, *, follow_ups: bool) -> float:
    with LocalCloud(data_lake=lake) as cloud:
        if not follow_ups:
            for name, spec in list(cloud.runtime.functions.items()):
                if "IMPORTER_QUEUE_URL" in spec.environment:
                    environment = dict(spec.environment)
                    environment.pop("IMPORTER_QUEUE_URL")
                    cloud.runtime.functions[name] = dataclasses.replace(
                        spec, environment=environment
                    )
            cloud.runtime.cold_start()
        cloud.run_until_idle()
        watch = cloud.subscribe("latency")
        _request(cloud, ["latency"])
        cloud.run_until_idle(max_rounds=MAX_ROUNDS)
        received = _received(cloud, watch.queue_url)
        # Without follow-ups nothing waits once the job ended: the minute poll will end
        # the run, so the clock is moved on until it has.
        for _ in range(POLL_WAIT_STEPS):
            if any(event["detail-type"] == "EndpointImportCompleted" for _, event in received):
                break
            cloud.advance(POLL_WAIT_STEP_SECONDS)
            cloud.run_until_idle(max_rounds=MAX_ROUNDS)
            received += _received(cloud, watch.queue_url)
        seen = {event["detail-type"]: (at, event) for at, event in reversed(received)}
        requested, _ = seen["SegmentQueryRequested"]
        completed, ending = seen["EndpointImportCompleted"]
        _, succeeded = seen["SegmentQuerySucceeded"]
        status = boto3.client("athena").get_query_execution(
            QueryExecutionId=succeeded["detail"]["data"]["query_execution_id"]
        )["QueryExecution"]["Status"]
        athena = (status["CompletionDateTime"] - status["SubmissionDateTime"]).total_seconds()
        job = _job_seconds(cloud, ending["detail"]["data"]["import_job_id"])
        return float(completed - requested - athena - job)
