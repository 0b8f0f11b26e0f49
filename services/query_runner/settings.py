"""query-runner settings, read from the environment by the service's bootstrap."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import ServiceSettings


class Settings(ServiceSettings):
    results_bucket: str = Field(alias="RESULTS_BUCKET_NAME", min_length=3)
    workgroup: str = Field(alias="ATHENA_WORKGROUP", min_length=1)
    catalog: str = Field(default="AwsDataCatalog", alias="GLUE_CATALOG", min_length=1)
    database: str = Field(default="due_eventdb", alias="GLUE_DATABASE", min_length=1)
    runs_table: str = Field(alias="QUERY_RUNS_TABLE_NAME", min_length=3)
    query_timeout_seconds: int = Field(default=1800, alias="QUERY_TIMEOUT_SECONDS", ge=60)
