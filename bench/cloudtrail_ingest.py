"""Benchmark 1: the log-ingester reading CloudTrail log files (parse, filter, coalesce).

Three generated corpora of gzip'd CloudTrail log files, ~200 MB of JSON each (quick: ~5 MB),
split into files of unequal sizes so memory can be compared between a small and a large
one:

- ``none``: no Pinpoint record and no mention of Pinpoint (an account that does not use it);
- ``1pct``: 1% of records are Pinpoint's, and a few other records name Pinpoint (IAM trust
  policies, calls Pinpoint makes on the account's behalf), so the pre-filter's false
  positives are exercised;
- ``dense``: a quarter of the records are Pinpoint's and a further 5% are calls Pinpoint
  makes on the account's behalf.

Pinpoint's records mix handled writes on a pool of resources (so coalescing has work), writes
to an unmonitored project, failed calls and reads. Other services' records vary in shape and
size (0.7-4 KB, 1.6 KB on average; nested arrays, random tokens), so gzip shrinks them about
7x, as it does real ones.

Workloads, interleaved per corpus:

- ``ingest``: ``logic.ingest_log_file`` per file, as the handler calls it, minus publishing;
- ``naive``: gzip + ``json.load`` of the whole file, a loop comparing eventSource and
  eventName, and the same decision, coalescing and event building for the records that
  match (so both do the same work downstream of the reader);
- ``naive-nogc``: the same with the cyclic garbage collector paused. Loading a whole file
  builds a large graph of objects, and with the collector on most of the naive time goes to
  collections that free nothing; the second ratio shows what is left without them;
- ``gunzip``: decompression alone, the floor of any reader.

Both readers must find the same events; the run stops if they do not.

Targets are claims about the full sizes; a quick run prints its ratios without them.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import (
    Options,
    Ratio,
    Report,
    Timing,
    cost,
    interleaved,
    mib,
    peak_traced_bytes,
    say,
    speedup,
    without_gc,
)
from contracts import ChangeOrigin, ResourceChange
from services.common.targets.pinpoint.catalog import (
    HANDLED_OPERATIONS,
    PINPOINT_CATALOG,
    PINPOINT_EVENT_SOURCE,
)
from services.log_ingester.cloudtrail_reader import gunzip
from services.log_ingester.coalescing import coalesce
from services.log_ingester.logic import FileStatus, LogStream, ingest_log_file
from services.log_ingester.records import change_event, change_from_raw
from tests.fixtures.cloudtrail import (
    ACCOUNT_ID,
    APP_ID,
    OTHER_APP_ID,
    REGION,
    TRAIL_BUCKET,
    envelope,
    event_id_for,
    log_file_key,
    pinpoint_id,
    pinpoint_record,
)

NAME = "cloudtrail_ingest"
# Bump when the generator's output changes, so cached corpora are written anew.
GENERATOR_VERSION = 1
# Relative sizes of a corpus's files: the smallest against the largest shows whether memory
# follows the file's size.
FILE_SHARES = (1, 2, 3, 4, 6, 9)
MONITORED = (APP_ID,)
CORPUS_START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
MB = 1_000_000


@dataclass(frozen=True)
class Mix:
    """What a corpus holds, per record drawn."""

    name: str
    pinpoint: float  # share of records that are Pinpoint's
    mentions: float  # share of other services' records that name Pinpoint


MIXES = (
    Mix("none", 0.0, 0.0),
    Mix("1pct", 0.01, 0.002),
    Mix("dense", 0.25, 0.05),
)


@dataclass(frozen=True)
class LogFile:
    key: str
    path: Path
    raw_bytes: int  # uncompressed
    records: int


@dataclass(frozen=True)
class Corpus:
    mix: Mix
    files: tuple[LogFile, ...]

    @property
    def raw_bytes(self) -> int:
        return sum(f.raw_bytes for f in self.files)

    @property
    def gzip_bytes(self) -> int:
        return sum(f.path.stat().st_size for f in self.files)

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files)


# ---------------------------------------------------------------------- generation


def corpus(options: Options, mix: Mix, total_bytes: int) -> Corpus:
    """The corpus for `mix`, generated once and cached in the work dir by its parameters."""
    shares = sum(FILE_SHARES)
    sizes = [total_bytes * share // shares for share in FILE_SHARES]
    tag = hashlib.sha256(
        json.dumps([GENERATOR_VERSION, mix.name, mix.pinpoint, mix.mentions, sizes]).encode()
    ).hexdigest()[:12]
    folder = options.work_dir / f"cloudtrail-{mix.name}-{total_bytes // MB}mb-{tag}"
    manifest = folder / "manifest.json"
    if not manifest.exists():
        say(f"  generating {mix.name} corpus ({total_bytes / MB:.0f} MB) in {folder}")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        entries = []
        for index, size in enumerate(sizes):
            moment = CORPUS_START + timedelta(minutes=5 * index)
            key = log_file_key(moment, suffix=f"bench{mix.name}{index:02d}")
            path = folder / f"{index:02d}.json.gz"
            raw, records = _write_log_file(path, _records(mix, index, moment), size)
            entries.append({"key": key, "file": path.name, "raw_bytes": raw, "records": records})
        manifest.write_text(json.dumps(entries, indent=1))  # written last: the cache is whole
    files = tuple(
        LogFile(entry["key"], folder / entry["file"], entry["raw_bytes"], entry["records"])
        for entry in json.loads(manifest.read_text())
    )
    return Corpus(mix, files)


def _write_log_file(path: Path, records: Iterator[dict[str, Any]], size: int) -> tuple[int, int]:
    """Write records until `size` bytes of JSON; (bytes of JSON, records) written."""
    partial = path.with_suffix(".partial")
    raw = count = 0
    with partial.open("wb") as handle, gzip.GzipFile(fileobj=handle, mode="wb", mtime=0) as out:
        head = b'{"Records":['
        out.write(head)
        raw += len(head)
        batch: list[bytes] = []
        while raw < size:
            text = json.dumps(next(records), separators=(",", ":")).encode()
            batch.append(text if count == 0 else b"," + text)
            raw += len(batch[-1])
            count += 1
            if len(batch) >= 256:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch) + b"]}")
        raw += 2
    partial.rename(path)
    return raw, count


def _records(mix: Mix, file_index: int, start: datetime) -> Iterator[dict[str, Any]]:
    """An endless, deterministic stream of one file's records (five minutes of a trail)."""
    rng = random.Random(f"{GENERATOR_VERSION}:{mix.name}:{file_index}")  # noqa: S311 - data
    n = 0
    while True:
        moment = start + timedelta(seconds=min(n // 40, 299))
        seed = f"{mix.name}-{file_index}-{n}"
        draw = rng.random()
        if draw < mix.pinpoint:
            yield _pinpoint(rng, moment, seed)
        elif rng.random() < mix.mentions:
            yield _mentions_pinpoint(rng, moment, seed)
        else:
            yield _other(rng, moment, seed)
        n += 1


_CAMPAIGNS = [pinpoint_id(f"bench-campaign-{n}") for n in range(150)]
_JOURNEYS = [pinpoint_id(f"bench-journey-{n}") for n in range(60)]
_SEGMENTS = [pinpoint_id(f"bench-segment-{n}") for n in range(90)]
_WRITES = (
    ("UpdateCampaign", _CAMPAIGNS),
    ("UpdateCampaign", _CAMPAIGNS),
    ("CreateCampaign", _CAMPAIGNS),
    ("DeleteCampaign", _CAMPAIGNS),
    ("UpdateJourney", _JOURNEYS),
    ("UpdateJourneyState", _JOURNEYS),
    ("CreateSegment", _SEGMENTS),
    ("UpdateSegment", _SEGMENTS),
    ("CreateImportJob", _SEGMENTS),
)
_READS = ("GetCampaigns", "GetCampaign", "GetJourney", "GetSegments", "GetEndpoint", "GetApp")


def _pinpoint(rng: random.Random, moment: datetime, seed: str) -> dict[str, Any]:
    """Half handled writes; the rest reads, failed calls and another project's writes."""
    draw = rng.random()
    event_id = event_id_for(seed)
    if draw < 0.4:
        request = {"application-id": APP_ID}
        if rng.random() < 0.5:
            request["page-size"] = "100"
        record = envelope(
            PINPOINT_EVENT_SOURCE,
            rng.choice(_READS),
            moment,
            event_id=event_id,
            request_parameters=request,
            read_only=True,
        )
        return _vary(rng, record)
    operation, pool = rng.choice(_WRITES)
    app_id = OTHER_APP_ID if draw > 0.95 else APP_ID
    failed = 0.9 < draw <= 0.95
    record = pinpoint_record(
        operation,
        app_id,
        rng.choice(pool),
        moment,
        event_id=event_id,
        version=rng.randint(1, 40),
        state=rng.choice((None, "DRAFT", "ACTIVE", "PAUSED")) if "Journey" in operation else None,
        event_type=rng.choice((None, "_session.start", "purchase")),
        error_code="NotFoundException" if failed else None,
    )
    return _vary(rng, record)


def _mentions_pinpoint(rng: random.Random, moment: datetime, seed: str) -> dict[str, Any]:
    """Another service's record naming Pinpoint: a trust policy, or a call Pinpoint made."""
    if rng.random() < 0.2:
        role = f"pinpoint-{_word(rng)}-{rng.randrange(1000)}"
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": PINPOINT_EVENT_SOURCE},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        request = {"roleName": role, "assumeRolePolicyDocument": json.dumps(policy)}
        response = {"role": _role(rng, role, policy)}
        return envelope(
            "iam.amazonaws.com",
            "CreateRole",
            moment,
            event_id=event_id_for(seed),
            request_parameters=request,
            response_elements=response,
        )
    source, name = rng.choice((("s3.amazonaws.com", "GetObject"), ("kms.amazonaws.com", "Decrypt")))
    record = envelope(
        source,
        name,
        moment,
        event_id=event_id_for(seed),
        request_parameters=_request(rng, source, name),
        read_only=True,
    )
    record["userIdentity"] = {"type": "AWSService", "invokedBy": PINPOINT_EVENT_SOURCE}
    record["sourceIPAddress"] = PINPOINT_EVENT_SOURCE
    record["userAgent"] = PINPOINT_EVENT_SOURCE
    record["resources"] = _resources(rng, source)
    return record


_OTHERS = (
    ("ec2.amazonaws.com", "RunInstances", False),
    ("ec2.amazonaws.com", "DescribeInstances", True),
    ("ec2.amazonaws.com", "CreateTags", False),
    ("sts.amazonaws.com", "AssumeRole", False),
    ("kms.amazonaws.com", "Decrypt", True),
    ("kms.amazonaws.com", "GenerateDataKey", True),
    ("s3.amazonaws.com", "GetBucketAcl", True),
    ("s3.amazonaws.com", "PutBucketPolicy", False),
    ("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", False),
    ("dynamodb.amazonaws.com", "DescribeTable", True),
    ("logs.amazonaws.com", "CreateLogStream", False),
    ("iam.amazonaws.com", "CreateRole", False),
    # Other services with Pinpoint's operation names: the filter must look at eventSource.
    ("personalize.amazonaws.com", "CreateCampaign", False),
    ("evidently.amazonaws.com", "CreateSegment", False),
    ("connectcampaigns.amazonaws.com", "DeleteCampaign", False),
)


def _other(rng: random.Random, moment: datetime, seed: str) -> dict[str, Any]:
    source, name, read_only = rng.choice(_OTHERS)
    record = envelope(
        source,
        name,
        moment,
        event_id=event_id_for(seed),
        request_parameters=_request(rng, source, name),
        response_elements=None if read_only else _response(rng, source, name),
        read_only=read_only,
    )
    if source in {"kms.amazonaws.com", "s3.amazonaws.com", "dynamodb.amazonaws.com"}:
        record["resources"] = _resources(rng, source)
    return _vary(rng, record)


def _vary(rng: random.Random, record: dict[str, Any]) -> dict[str, Any]:
    """Who called from where: the parts of the envelope that differ from call to call."""
    record["sourceIPAddress"] = f"198.51.100.{rng.randrange(1, 255)}"
    if rng.random() < 0.3:
        record["userAgent"] = rng.choice(
            (
                "console.amazonaws.com",
                "aws-cli/2.17.0 md/awscrt#0.20.11 ua/2.0 os/linux#6.1 md/arch#x86_64",
                "aws-sdk-java/2.25.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9",
                "terraform/1.9.0 (+https://www.terraform.io) terraform-provider-aws/5.60.0",
            )
        )
    identity = record["userIdentity"]
    identity["principalId"] = f"AROA{_token(rng, 12).upper()}:{_word(rng)}-{rng.randrange(99)}"
    identity["accessKeyId"] = f"ASIA{_token(rng, 12).upper()}"
    return record


_WORDS = (
    "orders", "billing", "reports", "ingest", "web", "api", "batch", "etl", "auth", "search",
    "mobile", "events", "archive", "metrics", "audit", "cache", "mailer", "sync",
)  # fmt: skip


def _word(rng: random.Random) -> str:
    return rng.choice(_WORDS)


def _token(rng: random.Random, size: int) -> str:
    return base64.b32encode(rng.randbytes(size)).decode()[:size].lower()


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT_ID}:{resource}"


def _tags(rng: random.Random) -> list[dict[str, str]]:
    keys = ("Name", "team", "env", "cost-center", "owner", "app")
    return [
        {"key": key, "value": f"{_word(rng)}-{rng.randrange(1000)}"}
        for key in rng.sample(keys, rng.randint(0, len(keys)))
    ]


def _request(rng: random.Random, source: str, name: str) -> dict[str, Any]:  # noqa: PLR0911
    """requestParameters shaped like the service's own."""
    if name == "RunInstances":
        count = rng.randint(1, 3)
        return {
            "instancesSet": {
                "items": [{"imageId": f"ami-{_token(rng, 17)}", "minCount": 1, "maxCount": count}]
            },
            "instanceType": rng.choice(("t3.micro", "m6i.large", "c7g.xlarge")),
            "blockDeviceMapping": {
                "items": [
                    {
                        "deviceName": "/dev/xvda",
                        "ebs": {"volumeSize": rng.choice((8, 20, 100)), "volumeType": "gp3"},
                    }
                ]
            },
            "subnetId": f"subnet-{_token(rng, 17)}",
            "tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": _tags(rng)}]},
            "clientToken": event_id_for(_token(rng, 8)),
        }
    if name == "DescribeInstances":
        ids = [{"instanceId": f"i-{_token(rng, 17)}"} for _ in range(rng.randint(0, 6))]
        return {"instancesSet": {"items": ids}, "filterSet": {}}
    if name == "CreateTags":
        return {
            "resourcesSet": {"items": [{"resourceId": f"i-{_token(rng, 17)}"}]},
            "tagSet": {"items": _tags(rng)},
        }
    if name == "AssumeRole":
        return {
            "roleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/{_word(rng)}-{rng.randrange(50)}",
            "roleSessionName": f"{_word(rng)}-{_token(rng, 10)}",
            "durationSeconds": 3600,
        }
    if source == "kms.amazonaws.com":
        return {
            "keyId": _arn("kms", f"key/{event_id_for(_word(rng))}"),
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "encryptionContext": {
                "aws:s3:arn": f"arn:aws:s3:::{_word(rng)}-data/{_token(rng, 20)}"
            },
        }
    if source == "s3.amazonaws.com":
        bucket = f"{_word(rng)}-{ACCOUNT_ID}"
        request: dict[str, Any] = {"bucketName": bucket, "Host": f"{bucket}.s3.amazonaws.com"}
        if name == "GetObject":
            request["key"] = f"imports/{_token(rng, 16)}/part-{rng.randrange(100):05d}.csv"
        if name == "PutBucketPolicy":
            request["bucketPolicy"] = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": _word(rng),
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
                        "Action": ["s3:GetObject", "s3:PutObject"],
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    }
                ],
            }
        return request
    if source == "lambda.amazonaws.com":
        return {
            "functionName": f"{_word(rng)}-{_word(rng)}",
            "memorySize": rng.choice((128, 256, 1024)),
            "timeout": rng.choice((3, 30, 900)),
            "environment": {},
            "layers": [_arn("lambda", f"layer:{_word(rng)}:{rng.randrange(20)}")],
        }
    if source == "dynamodb.amazonaws.com":
        return {"tableName": f"{_word(rng)}-{_word(rng)}"}
    if source == "logs.amazonaws.com":
        return {
            "logGroupName": f"/aws/lambda/{_word(rng)}-{_word(rng)}",
            "logStreamName": f"2026/11/22/[$LATEST]{_token(rng, 32)}",
        }
    return {
        "name": f"{_word(rng)}-{rng.randrange(10_000)}",
        "description": " ".join(_word(rng) for _ in range(rng.randint(0, 30))),
        "clientToken": event_id_for(_token(rng, 8)),
    }


def _response(rng: random.Random, source: str, name: str) -> dict[str, Any] | None:
    """responseElements: what the call returned, sometimes sizeable, sometimes nothing."""
    if name == "RunInstances":
        return {
            "requestId": event_id_for(_token(rng, 8)),
            "reservationId": f"r-{_token(rng, 17)}",
            "ownerId": ACCOUNT_ID,
            "instancesSet": {
                "items": [
                    {
                        "instanceId": f"i-{_token(rng, 17)}",
                        "imageId": f"ami-{_token(rng, 17)}",
                        "instanceState": {"code": 0, "name": "pending"},
                        "privateDnsName": f"ip-10-0-{rng.randrange(255)}-{rng.randrange(255)}.ec2",
                        "privateIpAddress": f"10.0.{rng.randrange(255)}.{rng.randrange(255)}",
                        "networkInterfaceSet": {
                            "items": [
                                {
                                    "networkInterfaceId": f"eni-{_token(rng, 17)}",
                                    "macAddress": ":".join(
                                        f"{rng.randrange(256):02x}" for _ in range(6)
                                    ),
                                    "groupSet": {"items": [{"groupId": f"sg-{_token(rng, 17)}"}]},
                                }
                            ]
                        },
                        "tagSet": {"items": _tags(rng)},
                    }
                    for _ in range(rng.randint(1, 3))
                ]
            },
        }
    if name == "AssumeRole":
        return {
            "credentials": {
                "accessKeyId": f"ASIA{_token(rng, 16).upper()}",
                "sessionToken": base64.b64encode(rng.randbytes(rng.randint(300, 600))).decode(),
                "expiration": "Nov 22, 2026, 10:00:00 AM",
            },
            "assumedRoleUser": {
                "assumedRoleId": f"AROA{_token(rng, 16).upper()}:{_word(rng)}",
                "arn": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{_word(rng)}/{_word(rng)}",
            },
        }
    if source == "iam.amazonaws.com":
        role = f"{_word(rng)}-{rng.randrange(1000)}"
        return {"role": _role(rng, role, {"Version": "2012-10-17", "Statement": []})}
    if source == "lambda.amazonaws.com":
        return {
            "functionName": f"{_word(rng)}-{_word(rng)}",
            "functionArn": _arn("lambda", f"function:{_word(rng)}"),
            "runtime": "python3.12",
            "role": f"arn:aws:iam::{ACCOUNT_ID}:role/{_word(rng)}",
            "handler": "app.handler",
            "codeSize": rng.randrange(10**7),
            "codeSha256": base64.b64encode(rng.randbytes(32)).decode(),
            "version": "$LATEST",
            "environment": {},
            "tracingConfig": {"mode": "Active"},
            "revisionId": event_id_for(_token(rng, 8)),
            "state": "Active",
            "lastUpdateStatus": "InProgress",
            "architectures": ["arm64"],
            "ephemeralStorage": {"size": 512},
        }
    if rng.random() < 0.5:
        return None
    return {"requestId": event_id_for(_token(rng, 8)), "return": True}


def _role(rng: random.Random, name: str, policy: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": "/",
        "roleName": name,
        "roleId": f"AROA{_token(rng, 16).upper()}",
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}",
        "createDate": "Nov 22, 2026, 9:00:00 AM",
        "assumeRolePolicyDocument": json.dumps(policy),
    }


def _resources(rng: random.Random, source: str) -> list[dict[str, str]]:
    kind = {"kms.amazonaws.com": "AWS::KMS::Key", "s3.amazonaws.com": "AWS::S3::Object"}.get(
        source, "AWS::DynamoDB::Table"
    )
    return [
        {
            "accountId": ACCOUNT_ID,
            "type": kind,
            "ARN": _arn(source.split(".", maxsplit=1)[0], _token(rng, 24)),
        }
    ]


# ---------------------------------------------------------------------- workloads


class _LocalFiles:
    """The log-ingester's LogFiles port over files on disk."""

    def __init__(self, files: tuple[LogFile, ...]) -> None:
        self._paths = {f.key: f.path for f in files}

    def open(self, bucket: str, key: str) -> LogStream | None:
        path = self._paths.get(key)
        return None if path is None else path.open("rb")


@dataclass(frozen=True)
class Outcome:
    """What a reader found in a corpus: compared between readers, never timed."""

    records: int
    event_ids: tuple[str, ...]


def ingest(files: tuple[LogFile, ...]) -> Outcome:
    """The log-ingester's own path, file by file."""
    local = _LocalFiles(files)
    records = 0
    event_ids: list[str] = []
    for log in files:
        ingested = ingest_log_file(
            local, TRAIL_BUCKET, log.key, MONITORED, catalog=PINPOINT_CATALOG
        )
        if ingested.status is not FileStatus.READ:
            raise RuntimeError(f"{log.path}: {ingested.status} ({ingested.report.corrupt})")
        records += ingested.report.records
        event_ids.extend(event.metadata.event_id for event in ingested.events)
    return Outcome(records, tuple(event_ids))


def naive(files: tuple[LogFile, ...]) -> Outcome:
    """Load each whole file, compare two fields per record, decide the matches alike."""
    watched = frozenset(MONITORED)
    records = 0
    event_ids: list[str] = []
    for log in files:
        with gzip.open(log.path, "rb") as handle:
            document = json.load(handle)
        changes: list[ResourceChange] = []
        for index, record in enumerate(document["Records"]):
            if (
                record.get("eventSource") == PINPOINT_EVENT_SOURCE
                and record.get("eventName") in HANDLED_OPERATIONS
            ):
                outcome = change_from_raw(
                    record, watched, ChangeOrigin.CLOUDTRAIL_FILE, index, catalog=PINPOINT_CATALOG
                )
                if isinstance(outcome, ResourceChange):
                    changes.append(outcome)
        records += len(document["Records"])
        event_ids.extend(
            change_event(change, None).metadata.event_id for change in coalesce(changes)
        )
    return Outcome(records, tuple(event_ids))


def decompress(files: tuple[LogFile, ...]) -> int:
    """The floor: gunzip every file in the reader's chunks, keeping nothing."""
    total = 0
    for log in files:
        with log.path.open("rb") as handle:
            for piece in gunzip(handle):
                total += len(piece)
    return total


# ---------------------------------------------------------------------- run


def run(options: Options) -> Report:
    report = Report(NAME)
    total = options.scaled(200 * MB, 5 * MB)
    corpora = [corpus(options, mix, total) for mix in MIXES]
    for each in corpora:
        _measure(options, report, each)
    return report


def _measure(options: Options, report: Report, each: Corpus) -> None:
    mix, files = each.mix, each.files
    say(
        f" corpus {mix.name}: {len(files)} files, {each.records:,} records, "
        f"{each.raw_bytes / MB:.1f} MB JSON ({each.gzip_bytes / MB:.1f} MB gzip)"
    )
    workloads: dict[str, Callable[[], object]] = {
        f"ingest[{mix.name}]": lambda: ingest(files),
        f"naive[{mix.name}]": lambda: naive(files),
        f"naive-nogc[{mix.name}]": without_gc(lambda: naive(files)),
        f"gunzip[{mix.name}]": lambda: decompress(files),
    }
    timings = interleaved(workloads, repeat=options.repeat)
    candidate, baseline, tuned, floor = timings.values()
    found, expected = candidate.result, baseline.result
    if (
        found != expected
        or tuned.result != expected
        or found.records != each.records
        or floor.result != each.raw_bytes
    ):
        raise RuntimeError(f"{mix.name}: the readers disagree on what the corpus holds")
    for timing in timings.values():
        report.figure(_throughput(timing, each))
    report.figure(f"{mix.name}: {len(found.event_ids):,} events from {each.records:,} records")

    pinpoint_free = mix.pinpoint == 0
    claims = not options.quick  # at 5 MB a file fits a chunk and json.load has no large heap
    report.ratio(speedup(NAME, candidate, baseline, target=_naive_target(mix) if claims else None))
    report.ratio(speedup(NAME, candidate, tuned))  # the collector's share of the naive cost
    report.ratio(cost(NAME, candidate, floor, target=2.0 if pinpoint_free and claims else None))

    small, large = min(files, key=lambda f: f.raw_bytes), max(files, key=lambda f: f.raw_bytes)
    peaks = {log: _ingest_peak(log) for log in (small, large)}
    for log, peak in peaks.items():
        report.figure(
            f"{mix.name}: ingest peak memory {mib(peak)} on a {log.raw_bytes / MB:.1f} MB file"
        )
    report.ratio(
        Ratio(
            NAME,
            f"peak memory[{mix.name}] on {large.raw_bytes / MB:.0f} MB",
            f"on {small.raw_bytes / MB:.0f} MB",
            peaks[large] / peaks[small],
            target=1.5 if claims else None,
            at_most=True,
        )
    )
    if pinpoint_free:  # what loading the whole file costs, for contrast
        naive_peak = peak_traced_bytes(lambda: naive((small,)))
        report.figure(
            f"{mix.name}: naive peak memory {mib(naive_peak)} on a "
            f"{small.raw_bytes / MB:.1f} MB file"
        )


def _ingest_peak(log: LogFile) -> int:
    return peak_traced_bytes(lambda: ingest((log,)))


def _naive_target(mix: Mix) -> float | None:
    if mix.pinpoint == 0:
        return 5.0
    if mix.pinpoint >= 0.1:
        return 1.5
    return None


def _throughput(timing: Timing, each: Corpus) -> str:
    seconds = timing.median
    return (
        f"{timing.label}: {seconds:.2f} s, {each.raw_bytes / MB / seconds:,.0f} MB/s, "
        f"{each.records / seconds:,.0f} records/s"
    )
