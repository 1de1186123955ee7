"""AI provider configurations and the audit row of every AI call."""

from __future__ import annotations

import enum
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from atelier.core.db import Base, CreatedMixin, IdMixin, TimestampMixin, str_enum


class ProviderKind(enum.StrEnum):
    ANTHROPIC = "anthropic"
    OPENAI = "openai"
    CUSTOM = "custom"  # any OpenAI-compatible server: vLLM, Ollama, llama.cpp
    LOCAL = "local"  # the embedded GGUF model


class GenerationStatus(enum.StrEnum):
    SUCCESS = "success"
    ERROR = "error"
    TIMEOUT = "timeout"


class AIProviderConfig(IdMixin, TimestampMixin, Base):
    """Seed 001 AIProviderConfig, per user and optionally shared with an organization."""

    __tablename__ = "ai_provider_configs"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    provider: Mapped[ProviderKind] = mapped_column(str_enum(ProviderKind, "provider_kind"))
    label: Mapped[str] = mapped_column(String(100))
    # "v1:<key id>:<base64 nonce+ciphertext>", AES-256-GCM bound to owner and provider.
    api_key_encrypted: Mapped[str | None] = mapped_column(Text)
    # Masked form for display (sk-…abcd), so lists never decrypt anything.
    api_key_hint: Mapped[str | None] = mapped_column(String(32))
    default_model: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str | None] = mapped_column(String(2048))
    is_default: Mapped[bool] = mapped_column(default=False)
    # Per-config options: price overrides (USD per million tokens), timeout, threads.
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (
        Index("ix_ai_provider_configs_user_id", "user_id"),
        Index("ix_ai_provider_configs_organization_id", "organization_id"),
        # At most one default per user.
        Index(
            "uq_ai_provider_configs_one_default",
            "user_id",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )


class AIGeneration(IdMixin, CreatedMixin, Base):
    """Seed 001 AIGeneration: one row per provider call, failed ones included."""

    __tablename__ = "ai_generations"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Copied from the project at call time so budgets sum per organization cheaply.
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE")
    )
    artifact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("artifacts.id", ondelete="SET NULL")
    )
    stage_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stages.id", ondelete="SET NULL"))
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    provider_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ai_provider_configs.id", ondelete="SET NULL")
    )
    # The chat a reply (or its title) was written for; kept when the chat is deleted.
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL")
    )
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str] = mapped_column(String(200))
    prompt_template: Mapped[str] = mapped_column(String(200))
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    total_tokens: Mapped[int] = mapped_column(default=0)
    estimated_cost: Mapped[Decimal] = mapped_column(Numeric(14, 6), default=Decimal(0))
    duration_ms: Mapped[int] = mapped_column(default=0)
    status: Mapped[GenerationStatus] = mapped_column(
        str_enum(GenerationStatus, "generation_status")
    )
    error_message: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        Index("ix_ai_generations_user_created", "user_id", "created_at"),
        Index("ix_ai_generations_project_created", "project_id", "created_at"),
        Index("ix_ai_generations_org_created", "organization_id", "created_at"),
        Index("ix_ai_generations_artifact_id", "artifact_id"),
        Index("ix_ai_generations_conversation_id", "conversation_id"),
    )


# Registers the hook that counts new AIGeneration rows into the usage counters, wherever
# they are written (it needs the class above, hence the import at the end).
from atelier.ai import usage_rollup  # noqa: E402, F401
