"""importer settings, read from the environment by the service's bootstrap."""

from __future__ import annotations

from pydantic import Field

from services.common.settings import ServiceSettings


class Settings(ServiceSettings):
    results_bucket: str = Field(alias="RESULTS_BUCKET_NAME", min_length=3)
    import_role_arn: str = Field(alias="IMPORT_ROLE_ARN", pattern=r"^arn:aws[a-z-]*:iam::")
    runs_table: str = Field(alias="IMPORT_RUNS_TABLE_NAME", min_length=3)
    import_timeout_seconds: int = Field(default=3600, alias="IMPORT_TIMEOUT_SECONDS", ge=60)
    max_jobs_per_poll: int = Field(default=25, alias="MAX_JOBS_PER_POLL", ge=1, le=1000)
