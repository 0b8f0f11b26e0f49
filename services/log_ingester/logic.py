"""log-ingester: a target's writes seen by CloudTrail become PinpointResourceChanged.

Three inputs, one output; a module per use case:

1. **A CloudTrail log file** (S3 "Object Created"), here. Only keys with ``/CloudTrail/``
   that end in ``.json.gz`` are log files; digests and anything else are skipped and
   counted. The file is streamed (``cloudtrail_reader``, pre-filtered on the active targets'
   eventSources): memory holds one chunk and the resource changes found, never the file.
   Each record is read by ``records``, and the records of one resource become one change
   (``coalescing``).
2. **An "AWS API Call via CloudTrail" event**, here: one record, seconds after the call.
3. **CatalogBackfillRequested**: the resources the target lists now (``backfill``).

What the target's records and bodies mean is the target's catalog adapter's to say
(``services.common.targets``); the ingester's bootstrap picks it.

**Corrupt files.** A file that is not gzip, not JSON, or has no ``Records`` list will never
read better, so retrying it would only loop until the DLQ: it is reported (status CORRUPT,
with the reason) and acknowledged, after publishing the records read before the damage.
A file that no longer exists (MISSING) is acknowledged the same way. Errors of the source
itself (S3 throttling, a dropped connection) are not caught here: they fail the message and
SQS delivers it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from contracts import ChangeOrigin, CloudTrailRecord, PinpointResourceChanged, ResourceChange
from services.common.targets.catalog import CloudTrailCatalog, Reject, Rejection, Skip
from services.log_ingester.cloudtrail_reader import (
    CloudTrailLogReader,
    CorruptLogFileError,
    Readable,
)
from services.log_ingester.coalescing import Coalescer
from services.log_ingester.records import change_event, change_from_raw, change_from_record

MAX_SAMPLES = 10  # rejections kept per file for the log; the counts cover them all


@dataclass
class IngestReport:
    """Counts of one file or event, for metrics and the log."""

    records: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    samples: list[Rejection] = field(default_factory=list)
    changes: int = 0
    coalesced: int = 0  # records folded into another record's change
    corrupt: str | None = None  # why the file could not be read to its end

    def skip(self, reason: Skip, count: int = 1) -> None:
        if count:
            self.skipped[reason.value] += count

    def reject(self, rejection: Rejection) -> None:
        self.rejected[rejection.reason.value] += 1
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(rejection)


class FileStatus(StrEnum):
    READ = "read"
    NOT_A_LOG_FILE = "not_a_log_file"
    MISSING = "missing"
    CORRUPT = "corrupt"


@dataclass(frozen=True)
class Ingested:
    events: list[PinpointResourceChanged]
    report: IngestReport
    status: FileStatus = FileStatus.READ


# ---------------------------------------------------------------------- ports


class LogStream(Readable, Protocol):
    def close(self) -> None: ...


class LogFiles(Protocol):
    """Opens a CloudTrail log file for streaming; None when the object does not exist."""

    def open(self, bucket: str, key: str) -> LogStream | None: ...


class LogReader(Protocol):
    """Builds the streaming reader of one file, pre-filtering on `must_contain`."""

    def __call__(
        self, source: Readable, /, *, must_contain: str | Sequence[str] | None
    ) -> CloudTrailLogReader: ...


# ---------------------------------------------------------------------- inputs


def is_log_file(key: str) -> bool:
    """CloudTrail log files, not digests (`CloudTrail-Digest/`) nor anything else."""
    return "/CloudTrail/" in f"/{key}" and key.endswith(".json.gz")


def ingest_log_file(
    files: LogFiles,
    bucket: str,
    key: str,
    monitored: Sequence[str],
    *,
    catalog: CloudTrailCatalog,
    causation_id: str | None = None,
    reader: LogReader = CloudTrailLogReader,
) -> Ingested:
    """The changes in one CloudTrail log file (`key` already URL-decoded).

    Memory holds the reader's chunk and one change per resource written in the file's five
    minutes (coalesced as they are found), never the file.
    """
    report = IngestReport()
    if not is_log_file(key):
        return Ingested([], report, FileStatus.NOT_A_LOG_FILE)
    stream = files.open(bucket, key)
    if stream is None:
        return Ingested([], report, FileStatus.MISSING)
    watched = frozenset(monitored)
    changes = Coalescer()
    records = reader(stream, must_contain=sorted(catalog.event_sources))
    try:
        for item in records:
            if item.data is None:
                report.reject(Rejection(Reject(item.problem or Reject.INVALID_JSON), item.index))
                continue
            outcome = change_from_raw(
                item.data, watched, ChangeOrigin.CLOUDTRAIL_FILE, item.index, catalog=catalog
            )
            _tally(outcome, report, changes)
    except CorruptLogFileError as error:
        report.corrupt = str(error)
    finally:
        stream.close()
    report.records = records.records_seen
    report.skip(Skip.OTHER_SERVICE, records.records_filtered)
    merged = changes.merged()
    report.changes = len(merged)
    report.coalesced = changes.appended - len(merged)
    status = FileStatus.CORRUPT if report.corrupt else FileStatus.READ
    return Ingested([change_event(c, causation_id) for c in merged], report, status)


def ingest_api_call(
    record: CloudTrailRecord,
    monitored: Sequence[str],
    *,
    catalog: CloudTrailCatalog,
    causation_id: str | None = None,
) -> Ingested:
    """The change one "AWS API Call via CloudTrail" event reports, if any."""
    report = IngestReport(records=1)
    changes: list[ResourceChange] = []
    outcome = change_from_record(
        record, frozenset(monitored), ChangeOrigin.CLOUDTRAIL_EVENT, catalog=catalog
    )
    _tally(outcome, report, changes)
    report.changes = len(changes)
    return Ingested([change_event(c, causation_id) for c in changes], report)


def report_unreadable_api_call(
    detail: Mapping[str, Any], monitored: Sequence[str], *, catalog: CloudTrailCatalog
) -> IngestReport | None:
    """Why an API-call event whose record broke the contract is no change: skip or rejection.

    Such a record is bad data that no retry can mend, so it is counted like a bad record of
    a file instead of being dead-lettered. None if the record reads as a change after all
    (the contract error lies elsewhere): the event is then left to fail.
    """
    outcome = change_from_raw(
        detail, frozenset(monitored), ChangeOrigin.CLOUDTRAIL_EVENT, catalog=catalog
    )
    if isinstance(outcome, ResourceChange):
        return None
    report = IngestReport(records=1)
    _tally(outcome, report, [])
    return report


class _Changes(Protocol):
    def append(self, change: ResourceChange, /) -> None: ...


def _tally(
    outcome: ResourceChange | Skip | Rejection, report: IngestReport, changes: _Changes
) -> None:
    if isinstance(outcome, Skip):
        report.skip(outcome)
    elif isinstance(outcome, Rejection):
        report.reject(outcome)
    else:
        changes.append(outcome)
