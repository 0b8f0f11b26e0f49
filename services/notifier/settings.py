"""notifier settings, read from the environment by the service's bootstrap."""

from pydantic import Field

from services.common.settings import ServiceSettings


class Settings(ServiceSettings):
    topic_arn: str = Field(alias="NOTIFICATION_TOPIC_ARN", pattern=r"^arn:aws[a-z-]*:sns:")
    idempotency_table: str = Field(alias="IDEMPOTENCY_TABLE_NAME", min_length=3)
    # How long a sent notification is remembered, so a late duplicate stays silent.
    remember_seconds: int = Field(default=7 * 24 * 3600, alias="NOTIFICATION_MEMORY_SECONDS")
