"""`query submit --local`: a user's own query, end to end, on the local cloud over their lake.

The local cloud is the template's system on one machine (infra/local): the request is
published on its bus and the same services validate it, run it on Athena-over-DuckDB
against the user's folders (one folder per table), check the rows and import them into
the emulated Pinpoint project (or Connect domain). What the run did is read back from the
run ledgers, as `runs show` reads a deployed stack's. Nothing leaves the machine.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import boto3

from cli.runs import run_status
from cli.service_logs import services_log_to
from cli.stack import StackOutputs
from contracts import SegmentQueryRequested, put_events_entry
from infra.local import LocalCloud


def run_locally(request: SegmentQueryRequested, lake: Path) -> dict[str, Any]:
    """The run's status after the local cloud has done everything it can with it.

    Adds `dead_letters` when a message ended in a DLQ (`service_log` then keeps the logs).
    """
    work = Path(tempfile.mkdtemp(prefix="pinpoint-lake-local-"))
    log_path = work / "services.log"
    run_id = str(request.data.run_id)
    keep = False  # the logs are kept only when they explain a dead letter
    try:
        with services_log_to(log_path), LocalCloud(data_lake=lake) as cloud:
            cloud.run_until_idle()
            bus = str(cloud.outputs["EventBusName"])
            boto3.client("events").put_events(
                Entries=[put_events_entry(request, event_bus_name=bus)]
            )
            cloud.run_until_idle(max_rounds=400)
            outputs = StackOutputs({key: str(value) for key, value in cloud.outputs.items()})
            status = run_status(boto3.session.Session(), outputs, run_id)
            dead = {name: len(items) for name, items in cloud.dead_letters().items() if items}
        if dead:
            status["dead_letters"] = dead
            status["service_log"] = str(log_path)
            keep = True
        return status
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
