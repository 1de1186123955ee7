"""Settings: one object, read from ATELIER_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only key: signing and encryption with it protect nothing, which is
# why any other environment refuses to start while it is in use.
DEV_SECRET_KEY = "atelier-development-secret-key-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ATELIER_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("./data")
    database_url: str | None = None
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)

    host: str = "127.0.0.1"
    port: int = 8000

    session_ttl_hours: int = Field(default=24 * 14, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    page_size_default: int = Field(default=50, ge=1, le=500)
    page_size_max: int = Field(default=200, ge=1, le=1000)
    # Postponing "last used" writes keeps authenticated reads read-only.
    api_key_touch_interval_seconds: int = Field(default=60, ge=0)
    # Seconds a verified token is trusted without asking the database again (per process;
    # logout and revocation evict at once in the process that handles them). 0 = off.
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    db_pool_size: int = Field(default=8, ge=1)
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if self.env == "production":
            key = self.secret_key.get_secret_value()
            if key == DEV_SECRET_KEY or len(key) < 32:
                raise ValueError(
                    "ATELIER_SECRET_KEY must be set to a random value of at least 32 "
                    "characters outside development (try: python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))')"
                )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'atelier.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
