"""catalog-backfill settings, read from the environment by the service's bootstrap."""

from services.common.settings import ServiceSettings


class Settings(ServiceSettings):
    pass
