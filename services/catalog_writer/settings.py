"""catalog-writer settings, read once from the environment."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from services.common.settings import ServiceSettings, load_settings


class Settings(ServiceSettings):
    campaign_journey_table: str = Field(alias="CAMPAIGN_JOURNEY_TABLE_NAME", min_length=3)
    segment_table: str = Field(alias="SEGMENT_TABLE_NAME", min_length=3)


@cache
def get_settings() -> Settings:
    return load_settings(Settings)
