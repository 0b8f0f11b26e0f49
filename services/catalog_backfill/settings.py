"""catalog-backfill settings, read once from the environment."""

from __future__ import annotations

from functools import cache

from services.common.settings import ServiceSettings, load_settings


class Settings(ServiceSettings):
    pass


@cache
def get_settings() -> Settings:
    return load_settings(Settings)
