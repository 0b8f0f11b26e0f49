"""name-resolver settings, read from the environment by the service's bootstrap."""

from __future__ import annotations

from services.common.settings import ServiceSettings


class Settings(ServiceSettings):
    pass
