"""query-runner settings, read from the environment by the service's bootstrap."""

from typing import Annotated

from pydantic import BeforeValidator, Field

from services.common.settings import ServiceSettings, comma_separated


class Settings(ServiceSettings):
    results_bucket: str = Field(alias="RESULTS_BUCKET_NAME", min_length=3)
    workgroup: str = Field(alias="ATHENA_WORKGROUP", min_length=1)
    catalog: str = Field(default="AwsDataCatalog", alias="GLUE_CATALOG", min_length=1)
    database: str = Field(default="due_eventdb", alias="GLUE_DATABASE", min_length=1)
    # Databases queries may read (as the validator's); unset or empty: only GLUE_DATABASE.
    allowed_databases: Annotated[tuple[str, ...], BeforeValidator(comma_separated)] = Field(
        default=(), alias="ALLOWED_DATABASES"
    )
    runs_table: str = Field(alias="QUERY_RUNS_TABLE_NAME", min_length=3)
    query_timeout_seconds: int = Field(default=1800, alias="QUERY_TIMEOUT_SECONDS", ge=60)
