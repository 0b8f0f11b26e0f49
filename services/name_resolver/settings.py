"""name-resolver settings, read from the environment by the service's bootstrap."""

from typing import Annotated

from pydantic import BeforeValidator, Field

from contracts import PinpointId
from services.common.settings import ConnectCatalogSettings, comma_separated


class Settings(ConnectCatalogSettings):
    # Pinpoint is resolved when projects are monitored; Connect when its domain or instance
    # is set (the Connect reader needs the instance to know a campaign is ours).
    monitored_project_ids: Annotated[tuple[PinpointId, ...], BeforeValidator(comma_separated)] = (
        Field(default=(), alias="MONITORED_PROJECT_IDS")
    )
