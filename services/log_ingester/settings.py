"""log-ingester settings, read from the environment by the service's bootstrap."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from contracts import PinpointId
from services.common.settings import ServiceSettings


def _comma_separated(value: Any) -> Any:
    """ "a, b,,a" -> ("a", "b"): blanks dropped, order kept, repeats once."""
    if isinstance(value, str):
        return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    return value


class Settings(ServiceSettings):
    # The first id is the default import target (the template's PinpointProjectId); every
    # listed project is cataloged.
    monitored_project_ids: Annotated[tuple[PinpointId, ...], BeforeValidator(_comma_separated)] = (
        Field(alias="MONITORED_PROJECT_IDS", min_length=1)
    )
    # Items per Pinpoint list call in a backfill: one page per invocation.
    backfill_page_size: int = Field(default=100, alias="BACKFILL_PAGE_SIZE", ge=1, le=1000)

    @property
    def default_project_id(self) -> str:
        return self.monitored_project_ids[0]
