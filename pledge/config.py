"""Settings read from the environment (prefix ``PLEDGE_``), validated once per process."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-insecure-change-me"  # noqa: S105 - refused outside development
VAR_DIR = Path("var")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TEST = "test"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLEDGE_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    database_url: str = f"sqlite:///{VAR_DIR / 'pledge.db'}"
    secret_key: str = DEV_SECRET_KEY
    # The site's name in page titles and the header; a brand, so never translated.
    site_name: str = "Suara Kita"
    # Absolute origin used in share links when the app sits behind a proxy.
    public_url: str | None = None

    ratelimit_enabled: bool = True
    ratelimit_storage: str = "memory://"
    # Generous per-IP limits: many young supporters share one carrier IP (CGNAT).
    ratelimit_sign: str = "300/minute"
    ratelimit_login: str = "30/minute"  # per IP address
    ratelimit_login_email: str = "10/15 minutes"  # per account, from anywhere

    # Counter rows per tally key; more shards keep PostgreSQL writers off one row.
    tally_shards: int = Field(default=0, ge=0, le=64)
    # How long a process may serve a count before reading the tallies again.
    tally_cache_seconds: float = Field(default=1.0, ge=0)

    max_form_bytes: int = 64 * 1024

    @model_validator(mode="after")
    def _refuse_dev_secret(self) -> Settings:
        weak = self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32
        if self.env == Environment.PRODUCTION and weak:
            raise ValueError(
                "PLEDGE_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production (for example: python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def shards(self) -> int:
        if self.tally_shards:
            return self.tally_shards
        return 1 if self.is_sqlite else 8

    @property
    def secure_cookies(self) -> bool:
        return self.env == Environment.PRODUCTION


@lru_cache
def get_settings() -> Settings:
    return Settings()
