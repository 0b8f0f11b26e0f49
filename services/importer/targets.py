"""The importer's import-target port and its two adapters, chosen per run by its target.

The logic (`services.importer.logic`) checks rows, claims the run and follows its job the
same way whatever the target; what differs is here:

- `PinpointImportTarget`: one Pinpoint import job over `imports/<run>/endpoints.csv`
  (CreateImportJob with RegisterEndpoints, DefineSegment or SegmentId; found again by its
  file on resume).
- `ConnectImportTarget`: one Customer Profiles upload job over `imports/<run>/profiles.csv`:
  CreateUploadJob (Fields and UniqueKey from the column mapping), GetUploadJobPath, the
  file PUT with SSE-C, StartUploadJob. On resume the job is found by its display name (one
  per run) and finished from where it stopped: a job still CREATED gets its file and its
  start. With `segment_name`, every row also sets the profile attribute
  `pinpoint_lake.segment.<name>` to the run id, and once the job succeeded a CLASSIC segment
  definition of that name selects the profiles holding it.

Pure: the boto3 calls are behind `PinpointImports` / `ConnectUploads` (services.importer.
adapters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from services.common.targets.connect.imports import (
    SEGMENT_MARKER_FIELD,
    UploadJobSpec,
    UploadJobView,
    connect_imports,
    segment_groups,
    upload_display_name,
    upload_fields,
)
from services.common.targets.imports import ImportVocabulary
from services.common.targets.pinpoint.imports import (
    PINPOINT_IMPORTS,
    ImportJobSpec,
    ImportJobView,
    is_resource_id,
)
from services.importer.rows import Sink

if TYPE_CHECKING:
    from contracts import RunRequest
    from services.importer.logic import ImportRecord


class TargetBusyError(Exception):
    """The target could not be asked this time (throttled, unavailable): ask again later."""


class TargetFullError(TargetBusyError):
    """The target refuses a new job for capacity (Pinpoint's limit of concurrent import
    jobs, Customer Profiles' throttling): the run waits for a slot instead of failing."""


PINPOINT_SLOTS = "pinpoint"  # Pinpoint counts concurrent import jobs per account


class JobView(Protocol):
    """A target's job as the logic reads it."""

    @property
    def job_id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def finished(self) -> bool: ...
    @property
    def succeeded(self) -> bool: ...
    @property
    def partial(self) -> bool: ...
    @property
    def failures(self) -> tuple[str, ...]: ...
    @property
    def segment_id(self) -> str | None: ...
    @property
    def failure_summary(self) -> str: ...
    def completed_fields(self, failure_sample: tuple[str, ...]) -> dict[str, Any]: ...
    def failed_fields(self, failure_sample: tuple[str, ...]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class SegmentRef:
    """The segment a finished run defined or refreshed."""

    segment_id: str | None = None  # Pinpoint
    segment_definition_name: str | None = None  # Connect


class ImportTarget(Protocol):
    """One target's import flow: the file, the job, its outcome, its segment."""

    @property
    def vocabulary(self) -> ImportVocabulary: ...
    @property
    def file_name(self) -> str: ...
    @property
    def job_label(self) -> str:
        """How reasons name the job, after the target's name ("import job")."""
        ...

    def shaped(self, sink: Sink, record: ImportRecord) -> Sink:
        """The sink the checked rows are written through (columns the target adds)."""
        ...

    def file_name_for(self, *, json_file: bool) -> str:
        """The import file's name; `json_file` for a sync that clears on Pinpoint."""
        ...

    def sync_marker(self, request: RunRequest) -> tuple[str, str] | None:
        """The column (name, value) a sync run's rows carry for its segment, if any."""
        ...

    def slot_scope(self, record: ImportRecord) -> str:
        """What the target counts concurrent jobs over: runs of one scope share its slots."""
        ...

    def submit(self, record: ImportRecord, *, resumed: bool) -> str:
        """Start the run's job (on resume, the one already made if any); its id. Raises
        ImportRefusedError when the target will not take it, TargetFullError when it has
        no room for another job now."""
        ...

    def get(self, record: ImportRecord) -> JobView | None:
        """None when the job is gone; raises JobLookupError when it cannot be read."""
        ...

    def segment(self, record: ImportRecord, job: JobView) -> SegmentRef:
        """The segment of a succeeded job (defined now if the target defines it after the
        job); raises TargetBusyError to be asked again, ImportRefusedError when refused."""
        ...


# ---------------------------------------------------------------------------- Pinpoint


class PinpointImports(Protocol):
    def create(self, application_id: str, spec: ImportJobSpec) -> str:
        """The new job's id; raises ImportRefusedError when Pinpoint will not take it,
        TargetFullError when it runs as many import jobs as it allows."""
        ...

    def find(self, application_id: str, s3_url: str) -> str | None:
        """The id of a job already importing `s3_url`, if any."""
        ...

    def get(self, application_id: str, job_id: str) -> ImportJobView | None:
        """None when the job does not exist; raises JobLookupError when it cannot be read."""
        ...


@dataclass(frozen=True)
class PinpointImportTarget:
    pinpoint: PinpointImports
    role_arn: str
    vocabulary: ImportVocabulary = PINPOINT_IMPORTS
    file_name: str = "endpoints.csv"
    job_label: str = "import job"

    def shaped(self, sink: Sink, record: ImportRecord) -> Sink:
        return sink

    def file_name_for(self, *, json_file: bool) -> str:
        return "endpoints.json" if json_file else self.file_name

    def sync_marker(self, request: RunRequest) -> tuple[str, str] | None:
        return None  # the import job itself defines or refreshes the segment

    def slot_scope(self, record: ImportRecord) -> str:
        return PINPOINT_SLOTS

    def submit(self, record: ImportRecord, *, resumed: bool) -> str:
        job_id = self.pinpoint.find(record.application_id, record.import_file) if resumed else None
        if job_id is not None:
            return job_id
        request = record.cause.data.request
        segment_name, segment_id = request.segment_name, request.segment_id
        known = None if record.sync is None else record.sync.segment_id
        if segment_name is not None and known is not None:
            # The saved segment's imported segment exists: refresh it, never define another.
            segment_name, segment_id = None, known
        spec = ImportJobSpec(
            s3_url=record.import_file,
            role_arn=self.role_arn,
            segment_name=segment_name,
            segment_id=segment_id,
            format="JSON" if record.import_file.endswith(".json") else "CSV",
        )
        return self.pinpoint.create(record.application_id, spec)

    def get(self, record: ImportRecord) -> JobView | None:
        return self.pinpoint.get(record.application_id, record.import_job_id or "")

    def segment(self, record: ImportRecord, job: JobView) -> SegmentRef:
        # Pinpoint defines (or refreshes) the segment within the import job itself.
        defined = job.segment_id if is_resource_id(job.segment_id) else None
        return SegmentRef(segment_id=defined or record.cause.data.request.segment_id)


# ---------------------------------------------------------------------------- Connect


class ConnectUploads(Protocol):
    def find(self, domain: str, display_name: str) -> UploadJobView | None:
        """The newest upload job named `display_name`, if any."""
        ...

    def create(self, domain: str, spec: UploadJobSpec) -> str:
        """The new job's id; raises ImportRefusedError when Customer Profiles refuses it,
        TargetFullError when it is throttled."""
        ...

    def upload(self, domain: str, job_id: str, import_file: str) -> None:
        """PUT the file at `import_file` (S3) to the job's path, streamed, with SSE-C."""
        ...

    def start(self, domain: str, job_id: str) -> None: ...

    def get(self, domain: str, job_id: str) -> UploadJobView | None:
        """None when the job does not exist; raises JobLookupError when it cannot be read."""
        ...

    def define_segment(
        self, domain: str, name: str, display_name: str, groups: Mapping[str, Any]
    ) -> None:
        """Create the segment definition (one that exists already counts as made)."""
        ...


@dataclass(frozen=True)
class ConnectImportTarget:
    uploads: ConnectUploads
    vocabulary: ImportVocabulary
    data_expiry_days: int | None = None
    file_name: str = "profiles.csv"
    job_label: str = "upload job"

    @classmethod
    def for_profile_key(
        cls, uploads: ConnectUploads, profile_key: str, data_expiry_days: int | None = None
    ) -> ConnectImportTarget:
        return cls(uploads, connect_imports(profile_key), data_expiry_days)

    def shaped(self, sink: Sink, record: ImportRecord) -> Sink:
        segment_name = record.cause.data.request.segment_name
        if segment_name is None:
            return sink
        return MarkedSink(sink, SEGMENT_MARKER_FIELD, record.run_id)

    def file_name_for(self, *, json_file: bool) -> str:
        return self.file_name  # an empty value clears: the CSV file says it all

    def sync_marker(self, request: RunRequest) -> tuple[str, str] | None:
        # A saved segment's members carry its sync key, which every run keeps: unchanged
        # members stay in the segment without being sent, leavers are cleared of it.
        if request.segment_name is None or request.sync_key is None:
            return None
        return SEGMENT_MARKER_FIELD, request.sync_key

    def slot_scope(self, record: ImportRecord) -> str:
        # Customer Profiles publishes no concurrency quota; the importer keeps one per domain.
        return f"connect:{_domain(record)}"

    def submit(self, record: ImportRecord, *, resumed: bool) -> str:
        domain = _domain(record)
        display_name = upload_display_name(record.run_id)
        job = self.uploads.find(domain, display_name) if resumed else None
        if job is None:
            fields, unique_key = upload_fields(
                self.vocabulary,
                record.columns,
                segment_name=record.cause.data.request.segment_name,
            )
            spec = UploadJobSpec(display_name, fields, unique_key, self.data_expiry_days)
            job = UploadJobView(self.uploads.create(domain, spec), "CREATED")
        if job.status == "CREATED":
            self.uploads.upload(domain, job.job_id, record.import_file)
            self.uploads.start(domain, job.job_id)
        return job.job_id

    def get(self, record: ImportRecord) -> JobView | None:
        return self.uploads.get(_domain(record), record.import_job_id or "")

    def segment(self, record: ImportRecord, job: JobView) -> SegmentRef:
        name = record.cause.data.request.segment_name
        if name is None:
            return SegmentRef()
        request = record.cause.data.request
        marked = record.run_id if record.sync is None else request.sync_key or record.run_id
        groups = segment_groups(name, marked)
        self.uploads.define_segment(_domain(record), name, name, groups)
        return SegmentRef(segment_definition_name=name)


def _domain(record: ImportRecord) -> str:
    return record.cause.data.domain_name or ""


class MarkedSink:
    """Appends one column to every record written: its name to the header, `value` to each
    row. Every record the row checks write is one line (a value with a line break is
    refused), so each newline ends a record."""

    def __init__(self, sink: Sink, name: str, value: str) -> None:
        self._sink = sink
        self._header = f",{name}\n".encode()
        self._row = f',"{value}"\n'.encode()
        self._in_header = True

    def write(self, data: bytes | memoryview, /) -> int:
        chunk = bytes(data)
        if self._in_header:
            head, newline, chunk = chunk.partition(b"\n")
            if newline:
                self._in_header = False
                self._sink.write(head + self._header)
            else:
                self._sink.write(head)
                return len(data)
        if chunk:
            self._sink.write(chunk.replace(b"\n", self._row))
        return len(data)
