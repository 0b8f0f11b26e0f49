"""query-validator settings, read from the environment by the service's bootstrap."""

from typing import Any, Self

from pydantic import Field, field_validator, model_validator

from contracts import DomainName, EngagementTarget, PinpointId
from services.common.settings import ServiceSettings, comma_separated
from services.query_validator.logic import Deployment, Targets, ValidationPolicy


class Settings(ServiceSettings):
    catalog: str = Field(default="AwsDataCatalog", alias="GLUE_CATALOG", min_length=1)
    database: str = Field(default="due_eventdb", alias="GLUE_DATABASE", min_length=1)
    # Databases queries may read; unset or empty means only GLUE_DATABASE (as the template).
    allowed_databases: tuple[str, ...] = Field(default=(), alias="ALLOWED_DATABASES")
    monitored_project_ids: tuple[PinpointId, ...] = Field(
        alias="MONITORED_PROJECT_IDS", min_length=1
    )
    # The import target of requests that name none; the first monitored project if unset.
    default_project_id: PinpointId | None = Field(default=None, alias="DEFAULT_PROJECT_ID")
    # Amazon Connect's Customer Profiles domain; unset or empty: the connect target is off.
    connect_domain: DomainName | None = Field(default=None, alias="CUSTOMER_PROFILES_DOMAIN_NAME")
    # Where rejected runs are recorded for the requester's tools; unset: not recorded.
    rejected_runs_table: str | None = Field(default=None, alias="REJECTED_RUNS_TABLE_NAME")
    # The target of requests that name none.
    default_target: EngagementTarget = Field(
        default=EngagementTarget.PINPOINT, alias="DEFAULT_TARGET"
    )

    @field_validator("allowed_databases", "monitored_project_ids", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return comma_separated(value)

    @field_validator("default_project_id", "connect_domain", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _default_is_monitored(self) -> Self:
        if (
            self.default_project_id is not None
            and self.default_project_id not in self.monitored_project_ids
        ):
            raise ValueError("DEFAULT_PROJECT_ID must be one of MONITORED_PROJECT_IDS")
        if self.default_target is EngagementTarget.CONNECT and self.connect_domain is None:
            raise ValueError("DEFAULT_TARGET connect needs CUSTOMER_PROFILES_DOMAIN_NAME")
        return self

    def deployment(self) -> Deployment:
        return Deployment(
            policy=ValidationPolicy(
                catalog=self.catalog,
                default_database=self.database,
                allowed_databases=frozenset(self.allowed_databases or (self.database,)),
            ),
            targets=Targets(
                monitored=self.monitored_project_ids,
                default=self.default_project_id,
                connect_domain=self.connect_domain,
                default_target=self.default_target,
            ),
        )
