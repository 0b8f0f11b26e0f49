"""notifier decisions: one readable SNS message for every run that ended.

A run ends with exactly one of: SegmentQueryRejected, SegmentQueryFailed,
EndpointImportCompleted (complete, partial, nothing to import, dry run) or
EndpointImportFailed. Messages carry counts and reasons, never row values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contracts import (
    EndpointImportCompleted,
    EndpointImportFailed,
    Event,
    ImportCounts,
    ImportOutcome,
    QueryFailureState,
    SegmentQueryFailed,
    SegmentQueryRejected,
)

TERMINAL_EVENTS = (
    SegmentQueryRejected,
    SegmentQueryFailed,
    EndpointImportCompleted,
    EndpointImportFailed,
)
MAX_SUBJECT = 100  # SNS's limit for email subjects
QUERY_PREVIEW = 500

_QUERY_ENDINGS = {
    QueryFailureState.FAILED: ("query_failed", "query failed in Athena"),
    QueryFailureState.CANCELLED: ("query_cancelled", "query was cancelled"),
    QueryFailureState.TIMED_OUT: ("query_timed_out", "query ran past its time limit"),
}


@dataclass(frozen=True)
class Notification:
    run_id: str
    outcome: str
    subject: str
    body: dict[str, Any]

    @property
    def attributes(self) -> dict[str, str]:
        """SNS message attributes subscribers filter on."""
        return {"outcome": self.outcome, "run_id": self.run_id}


def shorten(text: str, limit: int = QUERY_PREVIEW) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def subject_line(run_id: str, summary: str) -> str:
    """An SNS-safe subject: printable ASCII, one line, at most 100 characters."""
    text = f"pinpoint-lake run {run_id}: {summary}"
    ascii_only = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return ascii_only[:MAX_SUBJECT]


def notification_for(event: Event) -> Notification:
    if isinstance(event, SegmentQueryRejected):
        data = event.data
        reasons = [reason.model_dump() for reason in data.reasons]
        query = data.request.query if data.request else None
        return _build(
            data.run_id,
            "rejected",
            f"query rejected ({len(reasons)} reason{'s' if len(reasons) != 1 else ''})",
            query,
            reasons=reasons,
        )
    if isinstance(event, SegmentQueryFailed):
        failed = event.data
        outcome, summary = _QUERY_ENDINGS[failed.state]
        return _build(
            failed.run_id,
            outcome,
            summary,
            failed.request.query,
            reason=failed.reason,
            query_execution_id=failed.query_execution_id,
        )
    if isinstance(event, EndpointImportCompleted):
        done = event.data
        counts = done.counts.model_dump(exclude_none=True) | {
            "endpoints_imported": done.endpoints_imported,
            "pinpoint_failures": done.pinpoint_failures,
        }
        summaries = {
            ImportOutcome.COMPLETE: f"{done.endpoints_imported} endpoints updated",
            ImportOutcome.PARTIAL: (
                f"{done.endpoints_imported} endpoints updated, "
                f"{done.pinpoint_failures} failed in Pinpoint"
            ),
            ImportOutcome.NOTHING_TO_IMPORT: "query returned no rows to import",
            ImportOutcome.DRY_RUN: f"dry run, {done.counts.rows_to_import} rows would be imported",
        }
        if done.request.sync_key is not None:
            summaries = _sync_summaries(done.counts, summaries)
        if done.counts.rows_rejected:
            summaries = {
                k: f"{v}, {done.counts.rows_rejected} rows rejected" for k, v in summaries.items()
            }
        return _build(
            done.run_id,
            done.outcome.value,
            summaries[done.outcome],
            done.request.query,
            counts=counts,
            rejection_sample=[r.model_dump() for r in done.rejection_sample],
            pinpoint_failure_sample=done.pinpoint_failure_sample,
            import_job_id=done.import_job_id,
            segment_id=done.segment_id,
        )
    if isinstance(event, EndpointImportFailed):
        failed_import = event.data
        return _build(
            failed_import.run_id,
            "import_failed",
            "import into Pinpoint failed",
            failed_import.request.query,
            reason=failed_import.reason,
            counts=failed_import.counts.model_dump(exclude_none=True),
            import_job_id=failed_import.import_job_id,
        )
    raise TypeError(f"{type(event).__name__} does not end a run")


def _sync_summaries(
    counts: ImportCounts, summaries: dict[ImportOutcome, str]
) -> dict[ImportOutcome, str]:
    """A sync says what it compared: sent, unchanged and cleared since the last sync."""
    split = (
        f"{counts.rows_sent or 0} sent, {counts.rows_unchanged or 0} unchanged, "
        f"{counts.rows_cleared or 0} cleared"
    )
    return {
        outcome: (
            f"nothing changed since the last sync ({split})"
            if outcome is ImportOutcome.NOTHING_TO_IMPORT and counts.rows_in_result
            else f"{summary} ({split})"
        )
        for outcome, summary in summaries.items()
    }


def _build(
    run_id: str, outcome: str, summary: str, query: str | None, **details: Any
) -> Notification:
    body = {
        "run_id": run_id,
        "outcome": outcome,
        "summary": summary,
        "query": shorten(query) if query else None,
        **{key: value for key, value in details.items() if value is not None},
    }
    return Notification(run_id, outcome, subject_line(run_id, summary), body)
