"""A sample data lake shaped like Pinpoint's engagement events database, plus CRM tables.

`../shared/reference/events-database.md` describes the shape: event views (`email_send`,
`email_open`, `email_click`, `journey_send`, `session_start`) with the common columns, and
the customer's own tables beside them (`crm_contacts`, `subscriptions`, `system_logins`)
joined on the endpoint id. Data is generated with DuckDB from a seed, so every build is
identical and 10,000 endpoints take about a second. Addresses are clearly fake.
"""

# The generator's SQL is built from constants and integers, never from outside input.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

APPLICATION_ID = "de" * 16  # the lake's events name a project; imports go to the demo's own
# The campaigns and journey the events name, unless the caller names cataloged ones.
SAMPLE_CAMPAIGNS = tuple(f"c0ffee00c0ffee00c0ffee00c0ffee0{n}" for n in range(4))
SAMPLE_JOURNEYS = ("j0urney0j0urney0j0urney0j0urney",)
_RESOURCE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")  # what may be written into the SQL
PLANS = ("free", "silver", "gold", "platinum")
STATES = ("CA", "NY", "TX", "WA", "FL", "IL")


@dataclass(frozen=True)
class DataLakeSummary:
    root: str
    endpoints: int
    tables: dict[str, int] = field(default_factory=dict)


def endpoint_id(index: int, seed: int = 7) -> str:
    return hashlib.md5(f"{seed}-endpoint-{index}".encode(), usedforsecurity=False).hexdigest()


def endpoint_records(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """The endpoints as UpdateEndpointsBatch items (what the lake's ids refer to)."""
    return [
        {
            "Id": endpoint_id(index, seed),
            "ChannelType": "EMAIL",
            "Address": f"customer{index:05d}@example.com",
            "User": {"UserId": f"user-{index:05d}"},
            "Attributes": {"Source": ["demo"]},
        }
        for index in range(count)
    ]


def _pick(ids: Sequence[str], salt: int) -> str:
    """SQL choosing one of `ids` per endpoint (spread by the endpoint's hash)."""
    for resource_id in ids:
        if not _RESOURCE_ID.fullmatch(resource_id):
            raise ValueError(f"not a resource id: {resource_id!r}")
    quoted = ", ".join(f"'{resource_id}'" for resource_id in ids)
    return f"[{quoted}][1 + h(i, {salt}) % {len(ids)}]"


def _tables(
    now: str,
    seed: int,
    campaign_ids: Sequence[str] = SAMPLE_CAMPAIGNS,
    journey_ids: Sequence[str] = SAMPLE_JOURNEYS,
) -> dict[str, str]:
    # `h(i, k)` is a deterministic pseudo-random integer per endpoint and salt.
    common = (
        f"TIMESTAMP '{now}' - to_seconds(h(i, {{salt}}) % (30 * 86400)) AS event_timestamp, "
        f"TIMESTAMP '{now}' - to_seconds(h(i, {{salt}}) % (30 * 86400)) + INTERVAL 2 SECOND "
        "AS arrival_timestamp, "
        f"'{APPLICATION_ID}' AS application_id, endpoint_id, "
        "'123456789012' AS aws_account_id, "
        f"TIMESTAMP '{now}' - to_seconds(h(i, {{salt}}) % (30 * 86400)) AS ingest_timestamp"
    )

    def events(salt: int, extra: str, where: str) -> str:
        return f"SELECT {common.format(salt=salt)}, {extra} FROM endpoints WHERE {where}"

    campaign = _pick(campaign_ids, 5)
    return {
        "email_send": events(
            11,
            f"{campaign} AS pinpoint_campaign_id, 'msg-' || i AS message_id, "
            "'news@example.com' AS from_address, 'Monthly news' AS subject",
            "true",
        ),
        "email_open": events(
            13,
            f"{campaign} AS pinpoint_campaign_id, '198.51.100.' || (i % 200) AS ip_address, "
            "'Mozilla/5.0' AS user_agent",
            "h(i, 3) % 100 < 55",
        ),
        "email_click": events(
            17,
            f"{campaign} AS pinpoint_campaign_id, '198.51.100.' || (i % 200) AS ip_address, "
            "'Mozilla/5.0' AS user_agent, 'https://example.com/offer' AS link",
            "h(i, 3) % 100 < 25",
        ),
        "journey_send": events(
            19,
            f"{_pick(journey_ids, 21)} AS journey_id, 'run-1' AS journey_run_id, "
            "'SUCCESS' AS journey_send_status, 'send-email' AS journey_activity_id",
            "h(i, 4) % 100 < 40",
        ),
        "session_start": events(23, "'app' AS session_source", "h(i, 6) % 100 < 30"),
        "crm_contacts": (
            "SELECT 'contact-' || i AS id, endpoint_id, "
            f"'customer' || lpad(i::varchar, 5, '0') || '@example.com' AS email, "
            f"{list(PLANS)}[1 + h(i, 7) % 4] AS plan, "
            f"{list(STATES)}[1 + h(i, 8) % 6] AS state, "
            "round((h(i, 9) % 500000) / 100.0, 2) AS lifetime_value, "
            f"DATE '{now[:10]}' - (h(i, 10) % 1500)::integer AS signup_date "
            "FROM endpoints"
        ),
        "subscriptions": (
            "SELECT 'contact-' || i AS contact_id, "
            f"DATE '{now[:10]}' + (h(i, 12) % 120)::integer - 30 AS end_date, "
            "h(i, 14) % 3 = 0 AS auto_renew FROM endpoints"
        ),
        "system_logins": (
            "SELECT 'contact-' || i AS contact_id, "
            f"TIMESTAMP '{now}' - to_seconds(h(i, 16) % (200 * 86400)) AS login_time "
            "FROM endpoints WHERE h(i, 15) % 100 < 70"
        ),
    }


def build_data_lake(
    root: Path,
    *,
    endpoints: int = 10_000,
    seed: int = 7,
    now: datetime,
    campaign_ids: Sequence[str] = SAMPLE_CAMPAIGNS,
    journey_ids: Sequence[str] = SAMPLE_JOURNEYS,
) -> DataLakeSummary:
    """Write `<root>/<table>/part-0.parquet` for every table; returns row counts. The
    events name `campaign_ids` and `journey_ids` (the demo passes its cataloged ones)."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S")
    connection = duckdb.connect()
    try:
        connection.execute(
            f"CREATE MACRO h(i, salt) AS (hash(i * 1000003 + salt * 7919 + {int(seed)}) "
            "% 2147483647)::BIGINT"
        )
        connection.execute(
            f"CREATE TABLE endpoints AS SELECT i, md5('{int(seed)}-endpoint-' || i) "
            f"AS endpoint_id FROM range({int(endpoints)}) t(i)"
        )
        counts = {}
        for name, query in _tables(stamp, seed, campaign_ids, journey_ids).items():
            folder = root / name
            folder.mkdir(exist_ok=True)
            target = folder / "part-0.parquet"
            connection.execute(f"COPY ({query}) TO '{target}' (FORMAT PARQUET)")
            row = connection.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()
            counts[name] = int(row[0]) if row else 0
    finally:
        connection.close()
    return DataLakeSummary(root=str(root), endpoints=endpoints, tables=counts)
