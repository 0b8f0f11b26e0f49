"""Endpoint import jobs: CreateImportJob and the job's progress on the virtual clock.

A job moves one stage each ``stage_seconds`` of virtual time, checked by :meth:`tick`:

    CREATED -> INITIALIZING -> PROCESSING -> COMPLETING -> COMPLETED
                                  |
                                  +-> FAILING -> FAILED   (no file, too big, bad header)

Files are read when the job enters PROCESSING; the rows are applied to the endpoints (and
the imported segment) when it leaves PROCESSING, so a caller polling GetImportJob sees the
data only once the job reports COMPLETING/COMPLETED, as with the real service.

Decisions (documented where the AWS documentation is vague):
- More than ``max_concurrent_jobs`` (10) unfinished jobs in the account: CreateImportJob
  answers 429 TooManyRequestsException, which botocore retries.
- Missing files, a job over 1 GB, compressed or non-UTF-8 files, or an invalid CSV header
  fail the job (FAILED with a message in Failures). Bad rows only count as failures.
- DefineSegment + SegmentName creates the IMPORT segment when the job is created (its id is
  in the CreateImportJob response, so it can be looked up at once) and fills it when the
  rows are applied; SegmentId makes a new version of that imported segment instead.
- RegisterEndpoints false: endpoints are validated and go into the segment only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from infra.local.clock import VirtualClock

from .endpoints import channel_counts
from .errors import BadRequestError, NotFoundError, PinpointError, TooManyRequestsError
from .import_rows import InvalidHeaderError, RowError, csv_items, json_items
from .paging import page
from .service import NOT_FOUND, PinpointService
from .state import IdSource, ImportJob, Project, RowOutcome


@dataclass(frozen=True)
class ImportLimits:
    max_concurrent_jobs: int = 10
    max_job_bytes: int = 1024**3  # 1 GB per import job
    max_failure_samples: int = 100


class ImportFailedError(Exception):
    """The job cannot go on; the message becomes its Failures entry."""


class ObjectSource(Protocol):
    """Where import files come from (S3 in the local cloud)."""

    def list_files(self, bucket: str, key_or_prefix: str) -> list[tuple[str, int]]:
        """(key, size) of the object ``key_or_prefix`` or of every object under it."""
        ...

    def read(self, bucket: str, key: str) -> bytes: ...


_EXTENSIONS = {"CSV": ".csv", "JSON": ".json"}
_STAGE_AFTER = {
    "CREATED": "INITIALIZING",
    "INITIALIZING": "PROCESSING",
    "PROCESSING": "COMPLETING",
    "COMPLETING": "COMPLETED",
    "FAILING": "FAILED",
}


class ImportJobRunner:
    def __init__(
        self,
        service: PinpointService,
        clock: VirtualClock,
        source: ObjectSource,
        ids: IdSource,
        *,
        stage_seconds: float = 5.0,
        limits: ImportLimits | None = None,
    ) -> None:
        self._service = service
        self._clock = clock
        self._source = source
        self._ids = ids
        self._stage = timedelta(seconds=stage_seconds)
        self.limits = limits or ImportLimits()

    # ------------------------------------------------------------------ API

    def create(self, application_id: str, request: Mapping[str, Any]) -> dict[str, Any]:
        project = self._service.project(application_id)
        definition = self._definition(project, request)
        running = sum(1 for job in self._jobs() if not job.terminal)
        if running >= self.limits.max_concurrent_jobs:
            raise TooManyRequestsError(
                f"Exceeded the limit of {self.limits.max_concurrent_jobs} concurrent import jobs"
            )
        job = ImportJob(
            id=self._ids.resource_id(),
            application_id=application_id,
            definition=definition,
            creation_date=self._service.now(),
            status="CREATED",
            stage_started_at=self._clock.now(),
        )
        if definition.get("DefineSegment") and not definition.get("SegmentId"):
            segment = self._service.create_import_segment(
                application_id, definition.get("SegmentName"), self._import_definition(job, [])
            )
            definition["SegmentId"] = segment["Id"]
            job.new_segment = True
        project.import_jobs[job.id] = job
        return job.response()

    def get(self, application_id: str, job_id: str) -> dict[str, Any]:
        job = self._service.project(application_id).import_jobs.get(job_id)
        if job is None:
            raise NotFoundError(NOT_FOUND)
        return job.response()

    def list_jobs(
        self,
        application_id: str,
        page_size: str | None,
        token: str | None,
        segment_id: str | None = None,
    ) -> dict[str, Any]:
        jobs = [
            job.response()
            for job in reversed(self._service.project(application_id).import_jobs.values())
            if segment_id is None or job.definition.get("SegmentId") == segment_id
        ]
        chunk, next_token = page(jobs, page_size, token)
        response: dict[str, Any] = {"Item": chunk}
        if next_token is not None:
            response["NextToken"] = next_token
        return response

    # ------------------------------------------------------------------ clock

    def busy(self) -> bool:
        return any(not job.terminal for job in self._jobs())

    def next_moment(self) -> datetime | None:
        """When the next unfinished job moves to its next stage."""
        moments = [job.stage_started_at + self._stage for job in self._jobs() if not job.terminal]
        return min(moments) if moments else None

    def tick(self) -> None:
        """Move every job through the stages whose time has come."""
        now = self._clock.now()
        for job in list(self._jobs()):
            while not job.terminal and now - job.stage_started_at >= self._stage:
                job.stage_started_at += self._stage
                self._advance(job)

    def _advance(self, job: ImportJob) -> None:
        next_status = _STAGE_AFTER[job.status]
        if next_status == "PROCESSING":
            try:
                self._read_files(job)
            except ImportFailedError as error:
                job.failures = [str(error)]
                next_status = "FAILING"
        elif next_status == "COMPLETING":
            self._apply_rows(job)
        elif next_status in {"COMPLETED", "FAILED"}:
            job.completion_date = self._service.now()
        job.status = next_status

    # ------------------------------------------------------------------ stages

    def _read_files(self, job: ImportJob) -> None:
        bucket, key = _split_s3_url(job.definition["S3Url"])
        fmt = job.definition["Format"]
        files = [
            (name, size)
            for name, size in self._source.list_files(bucket, key)
            if name == key or name.lower().endswith(_EXTENSIONS[fmt].lower())
        ]
        if not files:
            raise ImportFailedError(f"No {fmt} files found at {job.definition['S3Url']}")
        total_bytes = sum(size for _, size in files)
        if total_bytes > self.limits.max_job_bytes:
            raise ImportFailedError(
                f"The files at {job.definition['S3Url']} are {total_bytes} bytes; an import "
                f"job can import at most {self.limits.max_job_bytes} bytes"
            )
        job.total_pieces = len(files)
        for name, _ in files:
            try:
                job.rows.extend(self._parse_file(bucket, name, fmt))
            except ImportFailedError:
                job.failed_pieces += 1
                raise

    def _parse_file(self, bucket: str, key: str, fmt: str) -> list[RowOutcome]:
        data = self._source.read(bucket, key)
        if data[:2] == b"\x1f\x8b":
            raise ImportFailedError(f"s3://{bucket}/{key}: compressed files are not supported")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFailedError(f"s3://{bucket}/{key}: the file is not UTF-8") from None
        parse = csv_items if fmt == "CSV" else json_items
        try:
            return [
                RowOutcome(key, line, None, str(entry))
                if isinstance(entry, RowError)
                else RowOutcome(key, line, entry, None)
                for line, entry in parse(text)
            ]
        except InvalidHeaderError as error:
            raise ImportFailedError(f"s3://{bucket}/{key}: {error}") from None

    def _apply_rows(self, job: ImportJob) -> None:
        project = self._service.projects.get(job.application_id)
        if project is None:
            return
        register = bool(job.definition.get("RegisterEndpoints"))
        members: dict[str, dict[str, Any]] = {}
        for row in job.rows:
            job.total_processed += 1
            error = row.error
            if row.item is not None:
                try:
                    endpoint = self._import_endpoint(project, row.item, register)
                    members[endpoint["Id"]] = endpoint
                except PinpointError as failure:
                    error = failure.message
            if error is not None:
                job.total_failures += 1
                if len(job.failures) < self.limits.max_failure_samples:
                    job.failures.append(f"{row.source} line {row.line}: {error}")
        job.rows = []
        job.completed_pieces = job.total_pieces - job.failed_pieces
        segment_id = job.definition.get("SegmentId")
        if segment_id:
            self._service.import_segment_contents(
                job.application_id,
                segment_id,
                self._import_definition(job, list(members.values())),
                list(members),
                new_version=not job.new_segment,
            )

    def _import_endpoint(
        self, project: Project, item: Mapping[str, Any], register: bool
    ) -> dict[str, Any]:
        endpoint_id = item.get("Id") or self._service.new_endpoint_id()
        return self._service.put_endpoint(
            project, endpoint_id, item, register=register, require_address_for_new=True
        )

    # ------------------------------------------------------------------ helpers

    def _definition(self, project: Project, request: Mapping[str, Any]) -> dict[str, Any]:
        if request.get("Format") not in _EXTENSIONS:
            raise BadRequestError(f"Invalid Format: {request.get('Format')}; use CSV or JSON")
        _split_s3_url(request["S3Url"])
        segment_id = request.get("SegmentId")
        if segment_id:
            versions = project.segments.get(segment_id)
            if versions is None:
                raise NotFoundError(NOT_FOUND)
            if versions[-1]["SegmentType"] != "IMPORT":
                raise BadRequestError(
                    f"Segment {segment_id} is not an imported segment; only imported segments "
                    "can be updated by an import job"
                )
        return {k: v for k, v in request.items() if v is not None}

    def _import_definition(self, job: ImportJob, endpoints: list[dict[str, Any]]) -> dict[str, Any]:
        """The segment's ImportDefinition (SegmentImportResource) after this job."""
        definition = job.definition
        return {
            "ChannelCounts": channel_counts(endpoints),
            "ExternalId": definition.get("ExternalId", ""),
            "Format": definition["Format"],
            "RoleArn": definition["RoleArn"],
            "S3Url": definition["S3Url"],
            "Size": len(endpoints),
        }

    def _jobs(self) -> list[ImportJob]:
        projects = self._service.projects.values()
        return [job for project in projects for job in project.import_jobs.values()]


def _split_s3_url(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise BadRequestError(f"Invalid S3Url {url}: it must start with s3://")
    bucket, _, key = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise BadRequestError(f"Invalid S3Url {url}: no bucket")
    return bucket, key
