"""Result files in S3, streamed: ``<id>.csv`` and the ``<id>.csv.metadata`` beside it.

Rows are written to a spooled temporary file (memory up to 1 MiB, then disk) and uploaded
with ``upload_fileobj``, so memory stays flat whatever the row count.

The ``.metadata`` file is binary in real Athena (a serialized result-set description that
only Athena's own readers use). Here it is a small JSON placeholder with the column names
and Athena types, documented as such; consumers must treat it as opaque.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError

from infra.local.athena.column_types import athena_type
from infra.local.athena.csv_format import csv_line, csv_row
from infra.local.athena.engine import ResultColumn
from infra.local.athena.errors import (
    BUCKET_NOT_FOUND,
    RESULT_WRITE_FAILED,
    SYSTEM,
    QueryFailedError,
    QueryFailure,
    user_error,
)

_SPOOL_BYTES = 1024 * 1024


class S3Client(Protocol):
    def upload_fileobj(self, *args: Any, **kwargs: Any) -> None: ...

    def put_object(self, **kwargs: Any) -> Any: ...


def split_s3_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    return parts.netloc, parts.path.lstrip("/")


class S3ResultWriter:
    def __init__(self, s3: S3Client) -> None:
        self._s3 = s3

    def write(
        self,
        location: str,
        columns: Sequence[ResultColumn],
        batches: Iterable[Sequence[Sequence[Any]]],
    ) -> None:
        """Write the CSV and its metadata file; raises ``QueryFailedError`` like Athena."""
        bucket, key = split_s3_uri(location)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES, mode="w+b") as spool:
            spool.write(csv_line(column.name for column in columns).encode("utf-8"))
            for batch in batches:
                spool.write("".join(csv_row(row) for row in batch).encode("utf-8"))
            spool.seek(0)
            self._upload(bucket, key, spool)
        metadata = {
            "placeholder": "local Athena; real Athena writes a binary file here",
            "columns": [
                {"name": column.name, "type": athena_type(column.duckdb_type).name}
                for column in columns
            ],
        }
        self._s3.put_object(
            Bucket=bucket,
            Key=f"{key}.metadata",
            Body=json.dumps(metadata).encode("utf-8"),
            ContentType="application/octet-stream",
        )

    def _upload(self, bucket: str, key: str, body: Any) -> None:
        try:
            self._s3.upload_fileobj(
                body, bucket, key, ExtraArgs={"ContentType": "application/octet-stream"}
            )
        except (ClientError, S3UploadFailedError) as error:
            # The managed transfer wraps ClientError in S3UploadFailedError: match on text.
            if "NoSuchBucket" in str(error):
                raise user_error(
                    BUCKET_NOT_FOUND,
                    "S3_BUCKET_NOT_FOUND",
                    f"Unable to verify/create output bucket {bucket}",
                ) from error
            failure = QueryFailure(SYSTEM, RESULT_WRITE_FAILED, f"Failed to write results: {error}")
            raise QueryFailedError(failure) from error
