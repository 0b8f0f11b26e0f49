"""No customer data in logs: the whole demo at DEBUG, then every log line searched.

Customer data is what the data lake holds and what a query returns: endpoint ids, email
addresses, user ids, plans, lifetime values. The demo seeds all of them, imports them into
Pinpoint (one query imports addresses, plans and values), rejects and fails runs. Services
may log run ids, counts, codes and AWS resource names, never a row or an attribute value.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from cli.demo.run import run_demo
from services.common.observability import logger as service_logger

pytestmark = pytest.mark.system

# The SDKs' own wire logging (request bodies at DEBUG) is not the services' logging and is
# off in Lambda; everything else, the local runtime's handler tracebacks included, is read.
_WIRE_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "moto", "werkzeug")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(_WIRE_LOGGERS):
            self.lines.append(self.format(record))


@pytest.fixture
def every_log_line_at_debug() -> Iterator[_Collect]:
    collect = _Collect()
    collect.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    saved = (root.level, service_logger.log_level)
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    service_logger.setLevel(logging.DEBUG)
    try:
        yield collect
    finally:
        root.removeHandler(collect)
        root.setLevel(saved[0])
        service_logger.setLevel(saved[1])


def _customer_values(lake: Path) -> set[str]:
    """Every distinctive value the demo's lake holds about a customer."""
    contacts = lake / "crm_contacts" / "part-0.parquet"
    relation = duckdb.sql(
        f"SELECT id, endpoint_id, email, plan, lifetime_value FROM read_parquet('{contacts}')"  # noqa: S608 - a test's own path
    )
    assert relation is not None  # a SELECT always has a result relation
    rows = relation.fetchall()
    values: set[str] = set()
    for contact_id, endpoint_id, email, plan, lifetime_value in rows:
        values |= {contact_id, endpoint_id, email, str(lifetime_value), plan.upper()}
    return values


def test_a_debug_run_of_the_demo_logs_no_customer_data(
    tmp_path: Path, every_log_line_at_debug: _Collect
) -> None:
    out = io.StringIO()
    assert run_demo(json_output=True, endpoints=300, keep=str(tmp_path), out=out) == 0
    report = json.loads(out.getvalue())
    assert any(run["outcome"] == "complete" for run in report["runs"])

    service_lines = (tmp_path / "services.log").read_text(encoding="utf-8").splitlines()
    lines = service_lines + every_log_line_at_debug.lines
    assert any('"level":"DEBUG"' in line or "DEBUG" in line for line in lines), (
        "debug logging did not reach the services"
    )
    values = _customer_values(tmp_path / "lake")
    assert len(values) > 1000

    text = "\n".join(lines)
    # Tokens, so that a value is found only as a whole word (an id is not a substring hit).
    tokens = set(re.findall(r"[\w.@+-]+", text))
    leaked = sorted(values & tokens)
    assert not leaked, f"{len(leaked)} customer values in the logs, e.g. {leaked[:5]}"
