"""In-memory state of the emulated Pinpoint account: projects and what they hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infra.local.api_emulator import IdSource

from .endpoints import AttributeName

TERMINAL_JOB_STATES = frozenset({"COMPLETED", "FAILED"})

__all__ = ["IdSource", "ImportJob", "Project", "RowOutcome"]


@dataclass
class RowOutcome:
    """One parsed row waiting to be applied: where it came from and the item or error."""

    source: str
    line: int
    item: dict[str, Any] | None
    error: str | None


@dataclass
class ImportJob:
    id: str
    application_id: str
    definition: dict[str, Any]  # ImportJobResource, member form
    creation_date: str
    status: str
    stage_started_at: datetime
    total_pieces: int = 0
    completed_pieces: int = 0
    failed_pieces: int = 0
    total_processed: int = 0
    total_failures: int = 0
    failures: list[str] = field(default_factory=list)
    completion_date: str | None = None
    rows: list[RowOutcome] = field(default_factory=list)
    new_segment: bool = False  # DefineSegment created the segment (vs a new version)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_JOB_STATES

    def response(self) -> dict[str, Any]:
        """ImportJobResponse."""
        response: dict[str, Any] = {
            "ApplicationId": self.application_id,
            "CompletedPieces": self.completed_pieces,
            "CreationDate": self.creation_date,
            "Definition": dict(self.definition),
            "FailedPieces": self.failed_pieces,
            "Id": self.id,
            "JobStatus": self.status,
            "TotalFailures": self.total_failures,
            "TotalPieces": self.total_pieces,
            "TotalProcessed": self.total_processed,
            "Type": "IMPORT",
        }
        if self.failures:
            response["Failures"] = list(self.failures)
        if self.completion_date is not None:
            response["CompletionDate"] = self.completion_date
        return response


@dataclass
class Project:
    """One Pinpoint application (project) and everything in it."""

    application: dict[str, Any]  # ApplicationResponse
    campaigns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # id -> versions
    journeys: dict[str, dict[str, Any]] = field(default_factory=dict)
    segments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # id -> versions
    segment_members: dict[str, list[str]] = field(default_factory=dict)  # imported segments
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    import_jobs: dict[str, ImportJob] = field(default_factory=dict)
    attribute_names: set[AttributeName] = field(default_factory=set)

    @property
    def id(self) -> str:
        return str(self.application["Id"])
