"""The settings base: the one reader of the process environment.

Each service declares its own `Settings(ServiceSettings)` with fields aliased to environment
variable names; its bootstrap reads it once per built service (`Settings.from_environment()`),
on the function's first invocation.

Settings modules do without `from __future__ import annotations`, as the contract models
do (`contracts._base`): pydantic would evaluate each annotation from its text when the
class is defined, on every cold start.
"""

import os
from collections.abc import Mapping
from typing import Any, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from contracts import ConnectInstanceId, DomainName

SettingsT = TypeVar("SettingsT", bound="ServiceSettings")


class SettingsError(RuntimeError):
    """The environment lacks or mis-sets a variable; the message names each one."""


class ServiceSettings(BaseModel):
    # Built on first use, as the contract models are: the bases are never read themselves.
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    service_name: str = Field(alias="POWERTOOLS_SERVICE_NAME", min_length=1)
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)
    aws_region: str = Field(default="us-east-1", alias="AWS_REGION", min_length=1)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings in the process environment (or `environ`); raises SettingsError."""
        return load_settings(cls, environ)


def comma_separated(value: Any) -> Any:
    """ "a, b,,a" -> ("a", "b"): blanks dropped, order kept, repeats once (a list variable,
    as the template joins CommaDelimitedList parameters)."""
    if isinstance(value, str):
        return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    return value


def load_settings(model: type[SettingsT], environ: Mapping[str, str] | None = None) -> SettingsT:
    """Read `model` from the environment (or `environ`), with an error naming every variable."""
    source = os.environ if environ is None else environ
    try:
        return model.model_validate(dict(source))
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            variable = ".".join(str(part) for part in item["loc"])
            problems.append(f"{variable}: {item['msg']}")
        raise SettingsError(
            f"{model.__name__} cannot be read from the environment: " + "; ".join(problems)
        ) from None


class ConnectCatalogSettings(ServiceSettings):
    """The Amazon Connect scope a catalog service watches (the template's
    CustomerProfilesDomainName and ConnectInstanceId); unset or empty: that part is off."""

    customer_profiles_domain_name: DomainName | None = Field(
        default=None, alias="CUSTOMER_PROFILES_DOMAIN_NAME"
    )
    connect_instance_id: ConnectInstanceId | None = Field(default=None, alias="CONNECT_INSTANCE_ID")

    @field_validator("customer_profiles_domain_name", "connect_instance_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def connect_active(self) -> bool:
        return (
            self.customer_profiles_domain_name is not None or self.connect_instance_id is not None
        )
