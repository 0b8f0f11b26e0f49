"""Athena on DuckDB: the composition root that wires the pieces to moto and botocore.

Use inside moto's ``mock_aws()`` (S3, Glue and EventBridge calls go to moto)::

    with mock_aws(), AthenaEmulator(clock=clock, data_lake=Path("lake")) as athena:
        boto3.client("athena").start_query_execution(...)   # answered here
        clock.advance(1); athena.tick()                      # QUEUED → RUNNING
        clock.advance(1); athena.tick()                      # RUNNING → SUCCEEDED

Clients created before :meth:`install` are not reached (see ``infra.local.botocore_hook``).
"""

from __future__ import annotations

import tempfile
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
from infra.local.athena.lake import discover
from infra.local.athena.results import S3ResultWriter
from infra.local.athena.service import AthenaService
from infra.local.athena.tables import GlueTables, TableRef
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
        self._glue_tables: set[str] = set()
        self._tables: GlueTables | None = None
        self._cache: tempfile.TemporaryDirectory[str] | None = None
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
        self._cache = tempfile.TemporaryDirectory(prefix="local-athena-s3-")
        self._tables = GlueTables(
            self._clients["glue"], self._clients["s3"], Path(self._cache.name), self.catalog
        )
        self._service = AthenaService(
            clock=self.clock,
            engine=self._engine,
            catalog=self.catalog,
            workgroups=MotoWorkgroups(account_id=self.account_id, region=self.region),
            results=S3ResultWriter(self._clients["s3"]),
            publish=self._publish,
            bind_tables=self._bind_tables,
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
        if self._cache is not None:
            self._cache.cleanup()
            self._cache = None
        self._service = None
        self._tables = None

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
        """Crawl the lake folder: new folders become Glue tables, columns are re-read.

        Like a Glue crawler run: needed for a new table, not for new files of a table (a
        query reads the files its table's location holds when it runs)."""
        self._running()
        assert self._engine is not None  # noqa: S101 - set together with the service
        tables = discover(self.data_lake)
        columns = {table.name: self._engine.describe(table) for table in tables}
        self._glue_tables = sync_tables(
            self._clients["glue"], self.database, tables, columns, self._glue_tables
        )
        return sorted(columns)

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

    def _bind_tables(self, refs: frozenset[TableRef], database: str) -> int:
        """Bind each table the query reads to its files now; Athena bills their bytes."""
        assert self._engine is not None  # noqa: S101 - installed
        assert self._tables is not None  # noqa: S101 - installed
        scanned = 0
        for ref in sorted(refs, key=lambda r: (r.database or "", r.name)):
            source = self._tables.resolve(ref, database)
            self._engine.bind(source)
            scanned += source.size_bytes
        return scanned
