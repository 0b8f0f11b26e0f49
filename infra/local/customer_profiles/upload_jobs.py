"""Upload (segment import) jobs, their pre-signed upload URL, and their run on the clock.

    CreateUploadJob -> CREATED --GetUploadJobPath, PUT the CSV--> StartUploadJob -> IN_PROGRESS
      --(stage_seconds later, at a tick)--> SUCCEEDED | PARTIALLY_SUCCEEDED | FAILED
    StopUploadJob: CREATED or IN_PROGRESS -> STOPPED (nothing applied)

The URL GetUploadJobPath returns points at :class:`UploadServer`, an HTTP server on
127.0.0.1 that answers a PUT as S3 answers a PUT to a pre-signed URL that signed SSE-C
headers: without them 403, with another key 403, with a key whose MD5 is wrong 400, after
``ValidUntil`` 403, over 1 GB 400; errors are S3's XML. So ``urllib`` or botocore's HTTP
PUT to it works exactly as against AWS.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from infra.local.api_emulator import IdSource
from infra.local.clock import VirtualClock

from .errors import BadRequestError, NotFoundError
from .profiles import field_value, updated_profile
from .service import CustomerProfilesService, Domain, page_of
from .upload_rows import FieldRule, FileError, RowError, field_rules, read_rows, row_update

MAX_FILE_BYTES = 1024**3  # "under 1 GB"
URL_LIFETIME = timedelta(hours=1)
DEFAULT_DATA_EXPIRY_DAYS = 14
TERMINAL = frozenset({"SUCCEEDED", "PARTIALLY_SUCCEEDED", "FAILED", "STOPPED"})
SSE_ALGORITHM = "x-amz-server-side-encryption-customer-algorithm"
SSE_KEY = "x-amz-server-side-encryption-customer-key"
SSE_KEY_MD5 = "x-amz-server-side-encryption-customer-key-MD5"
BAD_ALGORITHM = "The encryption request you specified is not valid."
BAD_KEY = "The secret key was invalid for the specified algorithm."


@dataclass
class UploadJob:
    id: str
    domain: str
    display_name: str
    fields: dict[str, Any]
    unique_key: str
    data_expiry: int
    rules: dict[str, FieldRule]
    created_at: datetime
    status: str = "CREATED"
    status_reason: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    summary: dict[str, int] | None = None
    client_token: str | None = None
    valid_until: datetime | None = None
    file: bytes | None = None
    row_errors: list[str] = field(default_factory=list)

    def item(self) -> dict[str, Any]:
        """UploadJobItem (ListUploadJobs)."""
        return {
            "JobId": self.id,
            "DisplayName": self.display_name,
            "Status": self.status,
            "StatusReason": self.status_reason,
            "CreatedAt": self.created_at,
            "CompletedAt": self.completed_at,
            "DataExpiry": self.data_expiry,
        }

    def response(self) -> dict[str, Any]:
        """GetUploadJobResponse."""
        return {
            **self.item(),
            "Fields": self.fields,
            "UniqueKey": self.unique_key,
            "ResultsSummary": None if self.summary is None else dict(self.summary),
        }


@dataclass(frozen=True)
class PutOutcome:
    status: int
    code: str = ""
    message: str = ""


class UploadJobs:
    def __init__(
        self,
        service: CustomerProfilesService,
        clock: VirtualClock,
        ids: IdSource,
        lock: threading.RLock,
        *,
        stage_seconds: float = 5.0,
    ) -> None:
        self._service = service
        self._clock = clock
        self._ids = ids
        self._lock = lock
        self._stage = timedelta(seconds=stage_seconds)
        self._server: UploadServer | None = None

    # ------------------------------------------------------------------ API

    def create(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self._service.domain(str(params["DomainName"]))
        fields = dict(params["Fields"])
        unique_key = str(params["UniqueKey"])
        rules = field_rules(fields, unique_key)
        job = UploadJob(
            id=self._ids.resource_id(),
            domain=domain.name,
            display_name=str(params["DisplayName"]),
            fields=fields,
            unique_key=unique_key,
            data_expiry=int(params.get("DataExpiry") or DEFAULT_DATA_EXPIRY_DAYS),
            rules=rules,
            created_at=self._clock.now(),
        )
        domain.upload_jobs[job.id] = job
        return {"JobId": job.id}

    def get(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return self._job(params).response()

    def list_jobs(self, params: Mapping[str, Any]) -> dict[str, Any]:
        domain = self._service.domain(str(params["DomainName"]))
        jobs = sorted(domain.upload_jobs.values(), key=lambda j: j.created_at, reverse=True)
        items = [job.item() for job in jobs]
        chunk, token = page_of(items, params.get("MaxResults"), params.get("NextToken"), 500)
        return {"Items": chunk, "NextToken": token}

    def path(self, params: Mapping[str, Any]) -> dict[str, Any]:
        job = self._job(params)
        if job.status != "CREATED":
            raise BadRequestError(f"Upload job {job.id} is {job.status}: it takes no file")
        if job.client_token is None:
            job.client_token = base64.b64encode(self._ids.token_bytes(32)).decode("ascii")
        job.valid_until = self._clock.now() + URL_LIFETIME
        expires = int(URL_LIFETIME.total_seconds())
        signature = hashlib.sha256(f"{job.id}:{job.client_token}".encode()).hexdigest()
        query = (
            f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires={expires}"
            f"&X-Amz-SignedHeaders=host%3B{SSE_ALGORITHM}%3B{SSE_KEY}%3B{SSE_KEY_MD5}"
            f"&X-Amz-Signature={signature}"
        )
        url = f"{self.server().base_url}/{job.domain}/{job.id}/upload.csv?{query}"
        return {"Url": url, "ClientToken": job.client_token, "ValidUntil": job.valid_until}

    def start(self, params: Mapping[str, Any]) -> dict[str, Any]:
        job = self._job(params)
        if job.status != "CREATED":
            raise BadRequestError(f"Upload job {job.id} is {job.status}: it cannot start")
        job.status = "IN_PROGRESS"
        job.started_at = self._clock.now()
        return {}

    def stop(self, params: Mapping[str, Any]) -> dict[str, Any]:
        job = self._job(params)
        if job.status in TERMINAL:
            raise BadRequestError(f"Upload job {job.id} is {job.status}: it cannot stop")
        job.status = "STOPPED"
        job.completed_at = self._clock.now()
        return {}

    def _job(self, params: Mapping[str, Any]) -> UploadJob:
        domain = self._service.domain(str(params["DomainName"]))
        job: UploadJob | None = domain.upload_jobs.get(str(params["JobId"]))
        if job is None:
            raise NotFoundError(f"Upload job {params['JobId']} not found")
        return job

    # ------------------------------------------------------------------ the clock

    def busy(self) -> bool:
        return any(job.status == "IN_PROGRESS" for job in self._all_jobs())

    def next_moment(self) -> datetime | None:
        """When the next started job ends."""
        moments = [
            job.started_at + self._stage
            for job in self._all_jobs()
            if job.status == "IN_PROGRESS" and job.started_at is not None
        ]
        return min(moments) if moments else None

    def tick(self) -> None:
        now = self._clock.now()
        for job in self._all_jobs():
            started = job.started_at
            if job.status == "IN_PROGRESS" and started and started + self._stage <= now:
                self._run(job)

    def _all_jobs(self) -> list[UploadJob]:
        return [job for d in self._service.domains.values() for job in d.upload_jobs.values()]

    def _run(self, job: UploadJob) -> None:
        domain = self._service.domain(job.domain)
        job.completed_at = self._clock.now()
        if job.file is None:
            self._fail(job, "no file was uploaded to the job's path")
            return
        created = updated = failed = 0
        try:
            rows = list(read_rows(job.file, job.rules))
        except FileError as error:
            self._fail(job, str(error))
            return
        unique = job.rules[job.unique_key]
        domain.search_keys[job.unique_key] = (unique.target,)
        for number, row in enumerate(rows, start=2):
            try:
                was_new = self._apply(domain, job, unique, row_update(row, job.rules))
            except RowError as error:
                failed += 1
                job.row_errors.append(f"line {number}: {error}")
                continue
            created, updated = created + was_new, updated + (not was_new)
        job.summary = {"CreatedRecords": created, "UpdatedRecords": updated}
        job.summary["FailedRecords"] = failed
        if failed and not created + updated:
            job.status, job.status_reason = "FAILED", "VALIDATION_FAILURE"
        else:
            job.status = "PARTIALLY_SUCCEEDED" if failed else "SUCCEEDED"

    def _apply(
        self, domain: Domain, job: UploadJob, unique: FieldRule, update: dict[str, Any]
    ) -> bool:
        key = field_value(update, unique.target)
        if not key:
            raise RowError(f"{unique.name}: the unique key is empty")
        existing = next(
            (p for p in domain.profiles.values() if field_value(p, unique.target) == key), None
        )
        if existing is None:
            profile_id = self._ids.resource_id()
            domain.profiles[profile_id] = updated_profile({"ProfileId": profile_id}, update)
        else:
            profile_id = str(existing["ProfileId"])
            domain.profiles[profile_id] = updated_profile(existing, update)
        self._service.keep_until(domain, profile_id, job.data_expiry)
        return existing is None

    def _fail(self, job: UploadJob, reason: str) -> None:
        job.status, job.status_reason = "FAILED", "VALIDATION_FAILURE"
        job.row_errors.append(reason)

    # ------------------------------------------------------------------ the upload URL

    def server(self) -> UploadServer:
        if self._server is None:
            self._server = UploadServer(self._receive)
        return self._server

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _receive(self, path: str, headers: Mapping[str, str], read: Callable[[], bytes]) -> Any:
        with self._lock:
            parts = urlsplit(path).path.strip("/").split("/")  # prefix/domain/job/upload.csv
            domain = self._service.domains.get(parts[1]) if len(parts) == 4 else None
            job: UploadJob | None = domain.upload_jobs.get(parts[2]) if domain else None
            if job is None or job.client_token is None or job.valid_until is None:
                return PutOutcome(404, "NoSuchKey", "The specified key does not exist.")
            outcome = _check_put(job.client_token, job.valid_until, self._clock.now(), headers)
            if outcome.status != 200:
                return outcome
            if job.status != "CREATED":
                return PutOutcome(403, "AccessDenied", "Access Denied")
        body = read()
        with self._lock:
            job.file = body
        return PutOutcome(200)


def _check_put(  # noqa: PLR0911 - one answer per S3 check
    token: str, valid_until: datetime, now: datetime, headers: Mapping[str, str]
) -> PutOutcome:
    if now > valid_until:
        return PutOutcome(403, "AccessDenied", "Request has expired")
    size = int(headers.get("content-length") or 0)
    if size > MAX_FILE_BYTES:
        return PutOutcome(400, "EntityTooLarge", "Your proposed upload exceeds the maximum")
    algorithm, key, md5 = (
        headers.get(name.lower()) for name in (SSE_ALGORITHM, SSE_KEY, SSE_KEY_MD5)
    )
    if algorithm is None or key is None or md5 is None:
        return PutOutcome(
            403,
            "SignatureDoesNotMatch",
            "There were headers present in the request which were not signed",
        )
    if algorithm != "AES256":
        return PutOutcome(
            400,
            "InvalidEncryptionAlgorithmError",
            "The encryption request you specified is not valid.",
        )
    try:
        key_bytes = base64.b64decode(key, validate=True)
    except ValueError:
        return PutOutcome(
            400, "InvalidArgument", "The secret key was invalid for the specified algorithm."
        )
    if len(key_bytes) != 32:
        return PutOutcome(
            400, "InvalidArgument", "The secret key was invalid for the specified algorithm."
        )
    expected_md5 = base64.b64encode(hashlib.md5(key_bytes).digest()).decode("ascii")  # noqa: S324
    if md5 != expected_md5:
        return PutOutcome(
            400,
            "InvalidArgument",
            "The calculated MD5 hash of the key did not match the hash that was provided.",
        )
    if key != token:
        return PutOutcome(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    return PutOutcome(200)


Receive = Callable[[str, Mapping[str, str], Callable[[], bytes]], PutOutcome]


class _PutHandler(BaseHTTPRequestHandler):
    server: _Server

    def do_PUT(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        length = int(headers.get("content-length") or 0)
        outcome = self.server.receive(self.path, headers, lambda: self.rfile.read(length))
        body = b""
        if outcome.status != 200:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{escape(outcome.code)}</Code>"
                f"<Message>{escape(outcome.message)}</Message></Error>"
            ).encode()
        self.send_response(outcome.status)
        if body:
            self.send_header("Content-Type", "application/xml")
        else:
            self.send_header("ETag", '"local-upload"')
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        """Silence the default access log on stderr."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receive: Receive


class UploadServer:
    """The upload jobs' pre-signed URLs, served on 127.0.0.1 (an ephemeral port)."""

    def __init__(self, receive: Receive) -> None:
        self._server = _Server(("127.0.0.1", 0), _PutHandler)
        self._server.receive = receive
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="customer-profiles-upload", daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/customer-profiles-upload"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
