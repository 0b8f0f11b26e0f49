"""importer settings, read from the environment by the service's bootstrap."""

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from contracts import DomainName
from services.common.settings import ServiceSettings, comma_separated
from services.common.targets.connect.imports import DEFAULT_PROFILE_KEY, PROFILE_KEY_PATTERN


class Settings(ServiceSettings):
    results_bucket: str = Field(alias="RESULTS_BUCKET_NAME", min_length=3)
    import_role_arn: str = Field(alias="IMPORT_ROLE_ARN", pattern=r"^arn:aws[a-z-]*:iam::")
    runs_table: str = Field(alias="IMPORT_RUNS_TABLE_NAME", min_length=3)
    # The runner's ledger: a result is imported only if the runner recorded producing it.
    query_runs_table: str | None = Field(default=None, alias="QUERY_RUNS_TABLE_NAME")
    # The Pinpoint projects runs may import into (the validator's MONITORED_PROJECT_IDS).
    monitored_project_ids: Annotated[tuple[str, ...], BeforeValidator(comma_separated)] = Field(
        default=(), alias="MONITORED_PROJECT_IDS"
    )
    import_timeout_seconds: int = Field(default=3600, alias="IMPORT_TIMEOUT_SECONDS", ge=60)
    max_jobs_per_poll: int = Field(default=25, alias="MAX_JOBS_PER_POLL", ge=1, le=1000)
    # Import jobs running at once per scope (Pinpoint's account, a Customer Profiles domain).
    max_concurrent_imports: int = Field(default=10, alias="MAX_CONCURRENT_IMPORTS", ge=1, le=100)
    # The importer's own queue: follow-ups of running jobs are sent to it (unset: only the
    # minute poll follows them).
    follow_up_queue_url: str | None = Field(default=None, alias="IMPORTER_QUEUE_URL")
    # Amazon Connect's Customer Profiles domain; unset or empty: the connect target is off.
    connect_domain: DomainName | None = Field(default=None, alias="CUSTOMER_PROFILES_DOMAIN_NAME")
    # The profile field a row's Id goes to (the upload's UniqueKey).
    connect_profile_key: str = Field(
        default=DEFAULT_PROFILE_KEY, alias="CONNECT_PROFILE_KEY", pattern=PROFILE_KEY_PATTERN
    )
    # How long uploaded profiles live, in days (Customer Profiles' default, 14, if unset).
    connect_data_expiry_days: int | None = Field(
        default=None, alias="CONNECT_DATA_EXPIRY_DAYS", ge=1, le=1098
    )

    @field_validator(
        "connect_domain", "connect_data_expiry_days", "follow_up_queue_url", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value
