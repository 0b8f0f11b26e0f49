"""catalog-writer settings, read from the environment by the service's bootstrap."""

from pydantic import Field

from services.common.settings import ServiceSettings


class Settings(ServiceSettings):
    campaign_journey_table: str = Field(alias="CAMPAIGN_JOURNEY_TABLE_NAME", min_length=3)
    segment_table: str = Field(alias="SEGMENT_TABLE_NAME", min_length=3)
    # The catalog's mirror for Athena: objects under <prefix><table>/ in this bucket.
    mirror_bucket: str = Field(alias="CATALOG_MIRROR_BUCKET_NAME", min_length=3)
    mirror_prefix: str = Field(
        default="catalog/", alias="CATALOG_MIRROR_PREFIX", pattern=r"^([A-Za-z0-9_.-]+/)+$"
    )
