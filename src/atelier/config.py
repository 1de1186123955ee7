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

    # "k2=secret,k1=secret": the first encrypts, all decrypt (see atelier.core.crypto).
    encryption_keys: SecretStr | None = None

    host: str = "127.0.0.1"
    port: int = 8000

    session_ttl_hours: int = Field(default=24 * 14, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Software design packages: the largest zip `POST /projects/import` accepts, and how
    # much it may hold once unpacked (a zip bomb stops there).
    max_import_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    max_import_unpacked_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    # Files the app keeps (uploads, export packages); default: <data_dir>/storage.
    storage_dir: Path | None = None
    # Object storage instead of the folder: "s3://bucket/prefix" (atelier.core.storage_s3),
    # with the endpoint of any S3-compatible server, its region and keys.
    storage_url: str | None = Field(default=None, pattern=r"^s3://[^/]+(/.*)?$")
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    # Uploads (atelier.uploads): the size limit of the engine's kinds, per-kind overrides
    # as JSON ('{"screenshot": 5000000}'), each user's storage quota, and the largest
    # image (pixels in all, against decompression bombs; pixels on the longest side).
    upload_max_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    upload_kind_max_bytes: dict[str, int] = Field(default_factory=dict)
    upload_quota_bytes: int = Field(default=1024 * 1024 * 1024, ge=0)
    upload_max_image_pixels: int = Field(default=100_000_000, ge=1)
    upload_max_image_side: int = Field(default=20_000, ge=1)
    # Pages of a PDF that get OCR when they have no text layer (0: none).
    upload_ocr_max_pages: int = Field(default=50, ge=0)
    # Reading one file (text extraction, OCR) that takes longer is stopped: FAILED.
    upload_processing_timeout_seconds: float = Field(default=600.0, gt=0)
    page_size_default: int = Field(default=50, ge=1, le=500)
    page_size_max: int = Field(default=200, ge=1, le=1000)
    # Login throttling (atelier.accounts.throttle): failures before a client address or
    # an account is locked out (0 turns that limit off), the first lockout, doubling per
    # further failure up to each cap, and how long failures are remembered.
    login_address_max_failures: int = Field(default=5, ge=0)
    login_account_max_failures: int = Field(default=10, ge=0)
    login_lockout_seconds: float = Field(default=60.0, gt=0)
    login_address_lockout_max_seconds: float = Field(default=3600.0, gt=0)
    login_account_lockout_max_seconds: float = Field(default=900.0, gt=0)
    login_failure_window_seconds: float = Field(default=900.0, gt=0)
    # Seconds a refused login (429: locked out, or too many hashing at once) waits before
    # it is answered, so that a client retrying at once cannot spin the server. 0 = none.
    login_refusal_delay_seconds: float = Field(default=1.0, ge=0, le=60)
    # Password hashes computed at once (default: half the cores, at least 1), and logins
    # or signups allowed to wait for one; more are refused with 429 (core/security.py).
    password_hash_concurrency: int | None = Field(default=None, ge=1, le=256)
    password_hash_queue: int = Field(default=16, ge=0, le=10_000)
    # Postponing "last used" writes keeps authenticated reads read-only.
    api_key_touch_interval_seconds: int = Field(default=60, ge=0)
    # Seconds a verified token is trusted without asking the database again (per process;
    # logout and revocation evict at once in the process that handles them). 0 = off.
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    # AI engine: the instance default provider (used when neither the project nor the
    # user chose one). "local" runs the embedded GGUF model; no key needed.
    ai_provider: Literal["anthropic", "openai", "custom", "local"] = "local"
    ai_model: str | None = None
    ai_base_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    custom_api_key: SecretStr | None = None
    # A catalog name (atelier models list) or a path to any GGUF file.
    local_model: str = "qwen2.5-coder-1.5b-instruct"
    local_threads: int | None = None
    # Memory the embedded model may use to keep its state after a prompt's shared start
    # (system prompt, schema), so the next call of the same tool skips evaluating it.
    local_prompt_cache_mb: int = Field(default=512, ge=0, le=65536)
    # How the embedded model writes an answer: "one_shot" (the whole schema at once) or
    # "sections" (one call per part, each with only its own schema; ai/sections.py).
    # Unset: the mode measured best for the model (its catalog entry; bench/quality.py).
    local_generation_mode: Literal["one_shot", "sections"] | None = None
    ai_timeout_seconds: float = Field(default=180.0, gt=0)
    # The embedded model decodes on the CPU: a large schema takes minutes on 2 cores.
    local_timeout_seconds: float = Field(default=900.0, gt=0)
    # Calls per generation: the first answer plus repairs after schema errors.
    generation_max_attempts: int = Field(default=3, ge=1, le=10)
    # Extra calls per generation that send the quality checks' findings back to the model
    # (ai/quality): 0 keeps the first schema-valid answer with its findings.
    quality_repair_attempts: int = Field(default=1, ge=0, le=3)
    # Chat replies (atelier.conversations): the most tokens a reply may have (at most a
    # quarter of the model's window is kept for it), a cap on the window a chat prompt
    # may fill (None: the model's own; a CPU model answers sooner with a shorter
    # prompt), and whether the first exchange names the conversation.
    # The shared secret of the billing webhook (POST /api/v1/billing/webhook); unset: the
    # webhook refuses every event. Events signed longer ago than the tolerance are stale.
    billing_webhook_secret: SecretStr | None = None
    billing_webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    # Days a PAST_DUE subscription keeps its plan after its period ended (accounts/lifecycle).
    past_due_grace_days: int = Field(default=7, ge=0, le=365)
    chat_reply_max_tokens: int = Field(default=1024, ge=16, le=32_000)
    chat_context_window: int | None = Field(default=None, ge=256)
    chat_auto_title: bool = True
    # Transport retries per call on 429, 5xx and connection errors.
    provider_max_retries: int = Field(default=3, ge=0, le=10)
    job_concurrency: int = Field(default=32, ge=1, le=1024)
    # Generations of one process doing their database work (before and after the
    # provider call) at the same time. The rest wait their turn off the event loop's
    # queue, so that a burst of generations finishing together does not stall API
    # requests behind it (see ai/generation.py).
    job_step_concurrency: int = Field(default=4, ge=1, le=1024)
    # A PDF export that takes longer is given up (503) and its renderer process killed.
    pdf_timeout_seconds: float = Field(default=600.0, gt=0)
    # Days the streamed text (progress events) of finished jobs is kept; 0 keeps it for
    # ever. The jobs, their results and their other events stay.
    job_progress_keep_days: float = Field(default=30.0, ge=0)
    # Seconds without a heartbeat before a running job counts as abandoned.
    # At least a few heartbeats (every 2 s), or a live job could be taken back.
    job_stale_seconds: float = Field(default=60.0, ge=5)
    # Run jobs inside the server process. Off when `atelier worker` processes do it.
    run_jobs_in_process: bool = True
    # PostgreSQL: the procrastinate queue this instance's jobs go through (instances
    # sharing one database keep apart by using different queues).
    job_queue: str = Field(default="atelier", min_length=1, max_length=64)
    # The plan catalogue (accounts/plans.py): JSON {"PLAN": {"metric": {"period": limit}}};
    # a plan named here replaces its defaults. Empty: the defaults.
    plans: str = ""
    # The older setting, still honoured over the catalogue: monthly AI limits of the plans
    # it names, "PLAN=tokens:usd,..." (0 = unlimited).
    plan_limits: str = ""
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

    def encryption_key_list(self) -> list[tuple[str, str]]:
        from atelier.core.crypto import parse_key_spec

        if self.encryption_keys is not None:
            return parse_key_spec(self.encryption_keys.get_secret_value())
        return [("k0", self.secret_key.get_secret_value())]

    @property
    def resolved_storage_dir(self) -> Path:
        return self.storage_dir or self.data_dir / "storage"

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
