"""log-ingester settings, read from the environment by the service's bootstrap."""

from typing import Annotated, Self

from pydantic import BeforeValidator, Field, model_validator

from contracts import PinpointId
from services.common.settings import ConnectCatalogSettings, comma_separated


class Settings(ConnectCatalogSettings):
    # The first id is the default import target (the template's PinpointProjectId); every
    # listed project is cataloged. Empty: the Pinpoint target is off.
    monitored_project_ids: Annotated[tuple[PinpointId, ...], BeforeValidator(comma_separated)] = (
        Field(default=(), alias="MONITORED_PROJECT_IDS")
    )
    # Items per Pinpoint list call in a backfill: one page per invocation.
    backfill_page_size: int = Field(default=100, alias="BACKFILL_PAGE_SIZE", ge=1, le=1000)

    @model_validator(mode="after")
    def _a_target_is_active(self) -> Self:
        if not self.monitored_project_ids and not self.connect_active:
            raise ValueError(
                "no target to catalog: set MONITORED_PROJECT_IDS (Pinpoint) or "
                "CUSTOMER_PROFILES_DOMAIN_NAME / CONNECT_INSTANCE_ID (Amazon Connect)"
            )
        return self

    @property
    def default_project_id(self) -> str | None:
        return self.monitored_project_ids[0] if self.monitored_project_ids else None
