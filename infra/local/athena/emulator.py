"""Athena on DuckDB: the composition root that wires the pieces to moto and botocore.

Use inside moto's ``mock_aws()`` (S3, Glue and EventBridge calls go to moto)::

    with mock_aws(), AthenaEmulator(clock=clock, data_lake=Path("lake")) as athena:
        boto3.client("athena").start_query_execution(...)   # answered here
        clock.advance(1); athena.tick()                      # QUEUED → RUNNING
        clock.advance(1); athena.tick()                      # RUNNING → SUCCEEDED

Clients created before :meth:`install` are not reached (see ``infra.local.botocore_hook``).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any, Self

import boto3
import botocore.loaders
import botocore.session

from infra.local.athena.api import AthenaApi
from infra.local.athena.engine import DuckDbEngine
from infra.local.athena.events import put_events_entry
from infra.local.athena.executions import QueryExecution, Transition
from infra.local.athena.faults import AthenaFaults
from infra.local.athena.glue import sync_tables
from infra.local.athena.lake import LakeTable, discover
from infra.local.athena.results import S3ResultWriter
from infra.local.athena.service import AthenaService
from infra.local.athena.workgroups import MotoWorkgroups
from infra.local.botocore_hook import Uninstall, install_operation_handler
from infra.local.clock import VirtualClock

# botocore re-reads service models from disk for every new session (~0.1 s per client);
# sharing one loader keeps emulator installs fast without sharing credentials or handlers.
_LOADER = botocore.loaders.create_loader()


def _session(region: str) -> boto3.session.Session:
    core = botocore.session.Session()
    core.register_component("data_loader", _LOADER)
    return boto3.session.Session(botocore_session=core, region_name=region)


class EventPublishError(RuntimeError):
    """EventBridge refused a state-change event (an emulator wiring problem)."""


class AthenaEmulator:
    def __init__(
        self,
        *,
        clock: VirtualClock,
        data_lake: Path | None = None,
        database: str = "due_eventdb",
        catalog: str = "AwsDataCatalog",
        region: str = "us-east-1",
        account_id: str = "123456789012",
    ) -> None:
        self.clock = clock
        self.data_lake = data_lake
        self.database = database
        self.catalog = catalog
        self.region = region
        self.account_id = account_id
        self.faults = AthenaFaults()
        self._tables: dict[str, LakeTable] = {}
        self._glue_tables: set[str] = set()
        self._engine: DuckDbEngine | None = None
        self._service: AthenaService | None = None
        self._uninstall: Uninstall | None = None
        self._clients: dict[str, Any] = {}

    # ------------------------------------------------------------------ lifecycle

    def install(self) -> Self:
        if self._uninstall is not None:
            return self
        session = _session(self.region)
        self._clients = {
            "s3": session.client("s3"),
            "glue": session.client("glue"),
            "events": session.client("events"),
        }
        self._engine = DuckDbEngine(catalog=self.catalog, database=self.database)
        self._service = AthenaService(
            clock=self.clock,
            engine=self._engine,
            catalog=self.catalog,
            workgroups=MotoWorkgroups(account_id=self.account_id, region=self.region),
            results=S3ResultWriter(self._clients["s3"]),
            publish=self._publish,
            bytes_scanned=self._bytes_scanned,
            faults=self.faults,
        )
        self.refresh()
        api = AthenaApi(self._service, self.clock)
        self._uninstall = install_operation_handler("athena", api.handle)
        return self

    def uninstall(self) -> None:
        if self._uninstall is not None:
            self._uninstall()
            self._uninstall = None
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        self._service = None

    def __enter__(self) -> Self:
        return self.install()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.uninstall()

    # ------------------------------------------------------------------ runtime hooks

    def tick(self) -> list[Transition]:
        """Move every live query one step on the virtual clock; returns the changes."""
        return self._running().tick()

    def busy(self) -> bool:
        """True while some query is QUEUED/RUNNING and not held by a ``stick`` fault."""
        return self._service is not None and self._service.busy()

    def refresh(self) -> list[str]:
        """Re-scan the lake: new folders/files become (or update) views and Glue tables."""
        self._running()
        assert self._engine is not None  # noqa: S101 - set together with the service
        tables = discover(self.data_lake)
        columns = self._engine.register(tables)
        self._glue_tables = sync_tables(
            self._clients["glue"], self.database, tables, columns, self._glue_tables
        )
        self._tables = {table.name: table for table in tables}
        return sorted(self._tables)

    def executions(self) -> list[QueryExecution]:
        """Every query seen, in submission order (for tests and diagnostics)."""
        return self._running().executions()

    # ------------------------------------------------------------------ internals

    def _running(self) -> AthenaService:
        if self._service is None:
            raise RuntimeError("AthenaEmulator is not installed: call install() first")
        return self._service

    def _publish(self, transition: Transition) -> None:
        response = self._clients["events"].put_events(Entries=[put_events_entry(transition)])
        if response.get("FailedEntryCount"):
            raise EventPublishError(f"state change not published: {response['Entries']}")

    def _bytes_scanned(self, table_names: frozenset[str]) -> int:
        """Athena bills the bytes of the files read: here, every file of each table read."""
        return sum(self._tables[name].size_bytes for name in table_names if name in self._tables)
