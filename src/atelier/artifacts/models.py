"""Artifacts (seed 000 "models") and their versions (seed 001 StageOutput)."""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from atelier.core.db import Base, CreatedMixin, IdMixin, SoftDeleteMixin, TimestampMixin, str_enum


class ArtifactStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Derivation(enum.StrEnum):
    CREATED = "created"
    DUPLICATED = "duplicated"
    EDITED_INPUTS = "edited_inputs"
    CONTINUED = "continued"
    MERGED = "merged"


class VersionFormat(enum.StrEnum):
    JSON = "json"
    MD = "md"
    SQL = "sql"
    YAML = "yaml"


class GeneratedBy(enum.StrEnum):
    AI = "ai"
    HUMAN = "human"
    # Compiled deterministically from other outputs (e.g. SQL from the data model).
    SYSTEM = "system"


class Artifact(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "artifacts"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stage_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stages.id", ondelete="SET NULL"))
    type: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[ArtifactStatus] = mapped_column(
        str_enum(ArtifactStatus, "artifact_status"), default=ArtifactStatus.DRAFT
    )
    input_data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    output_data: Mapped[dict[str, Any] | None]
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("artifacts.id", ondelete="SET NULL")
    )
    derivation: Mapped[Derivation] = mapped_column(
        str_enum(Derivation, "derivation"), default=Derivation.CREATED
    )
    # Highest version number handed out; bumping it is the per-artifact lock that
    # keeps concurrent edits' version numbers unique and gapless.
    latest_version: Mapped[int] = mapped_column(default=0)

    __table_args__ = (
        Index("ix_artifacts_project_created", "project_id", "created_at"),
        Index("ix_artifacts_user_id", "user_id"),
        Index("ix_artifacts_parent_id", "parent_id"),
        Index("ix_artifacts_stage_id", "stage_id"),
    )


class ArtifactVersion(IdMixin, CreatedMixin, Base):
    __tablename__ = "artifact_versions"

    artifact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("artifacts.id", ondelete="CASCADE"))
    version: Mapped[int]
    format: Mapped[VersionFormat] = mapped_column(
        str_enum(VersionFormat, "version_format"), default=VersionFormat.JSON
    )
    content: Mapped[str] = mapped_column(Text)
    generated_by: Mapped[GeneratedBy] = mapped_column(str_enum(GeneratedBy, "generated_by"))
    ai_generation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ai_generations.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    is_active: Mapped[bool] = mapped_column(default=False)
    # The quality checks' report on an AI answer: {score, checked, rules_version,
    # findings: [{rule, path, message}]}; None for versions nobody checked.
    quality: Mapped[dict[str, Any] | None] = mapped_column(default=None)

    __table_args__ = (
        UniqueConstraint("artifact_id", "version"),
        # At most one active version per artifact, enforced by the database itself.
        Index(
            "uq_artifact_versions_one_active",
            "artifact_id",
            unique=True,
            sqlite_where=text("is_active"),
            postgresql_where=text("is_active"),
        ),
    )
