"""Import files read through plain boto3 S3 calls (answered by moto in the local cloud)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError


class S3ObjectSource:
    """``ObjectSource`` over S3: a key names one object, otherwise it is a prefix."""

    def __init__(self, region: str, client: Any | None = None) -> None:
        self._region = region
        self._client = client

    @property
    def client(self) -> Any:
        # Built on first use, not at construction, so it is created inside the mock.
        if self._client is None:
            self._client = boto3.client("s3", region_name=self._region)
        return self._client

    def list_files(self, bucket: str, key_or_prefix: str) -> list[tuple[str, int]]:
        try:
            if key_or_prefix and not key_or_prefix.endswith("/"):
                try:
                    head = self.client.head_object(Bucket=bucket, Key=key_or_prefix)
                    return [(key_or_prefix, int(head["ContentLength"]))]
                except ClientError as error:
                    if error.response["Error"]["Code"] not in {"404", "NoSuchKey", "NotFound"}:
                        raise
            files: list[tuple[str, int]] = []
            paginator = self.client.get_paginator("list_objects_v2")
            for listing in paginator.paginate(Bucket=bucket, Prefix=key_or_prefix):
                files.extend(
                    (item["Key"], int(item["Size"]))
                    for item in listing.get("Contents", [])
                    if not item["Key"].endswith("/")
                )
            return files
        except ClientError as error:
            if error.response["Error"]["Code"] == "NoSuchBucket":
                return []
            raise

    def read(self, bucket: str, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body
