"""Projects, their pipeline stages, and the templates projects start from."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atelier.core.db import Base, CreatedMixin, IdMixin, SoftDeleteMixin, TimestampMixin, str_enum


class Phase(enum.StrEnum):
    DISCOVER = "discover"
    DEFINE = "define"
    DEVELOP = "develop"
    DELIVER = "deliver"


class ProjectStatus(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ARCHIVED = "archived"
    SUSPENDED = "suspended"


class StageStatus(enum.StrEnum):
    LOCKED = "locked"
    ACTIVE = "active"
    GENERATING = "generating"
    REVIEW = "review"
    COMPLETE = "complete"


class TemplateCategory(enum.StrEnum):
    SAAS = "saas"
    API = "api"
    LANDING = "landing"
    MOBILE = "mobile"
    CLI = "cli"
    FULLSTACK = "fullstack"
    OTHER = "other"


class Project(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    """Union of the project records of seeds 000, 001 and 002."""

    __tablename__ = "projects"

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    # An installed pack's key (projects.catalog): a string, so that a pack needs no schema
    # change to be installed. Migration 0007 dropped the CHECK of the closed enum.
    pack: Mapped[str] = mapped_column(String(32), default="general")
    phase: Mapped[Phase] = mapped_column(str_enum(Phase, "phase"), default=Phase.DISCOVER)
    status: Mapped[ProjectStatus] = mapped_column(
        str_enum(ProjectStatus, "project_status"), default=ProjectStatus.ACTIVE
    )
    current_stage: Mapped[int | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    # The language answers are written in (ai/quality/scripts.py LANGUAGES); None: the
    # owner's preference, else English.
    language: Mapped[str | None] = mapped_column(String(16))
    ai_provider_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ai_provider_configs.id", ondelete="SET NULL")
    )
    template_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("templates.id", ondelete="SET NULL")
    )

    __table_args__ = (
        UniqueConstraint("owner_id", "slug"),
        Index("ix_projects_owner_created", "owner_id", "created_at"),
        Index("ix_projects_organization_id", "organization_id"),
    )


class Stage(IdMixin, TimestampMixin, Base):
    """Seed 001 Stage: one step of a project's pipeline."""

    __tablename__ = "stages"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    stage_number: Mapped[int]
    stage_name: Mapped[str] = mapped_column(String(64))
    stage_label: Mapped[str] = mapped_column(String(100))
    status: Mapped[StageStatus] = mapped_column(
        str_enum(StageStatus, "stage_status"), default=StageStatus.LOCKED
    )
    data: Mapped[dict[str, Any] | None]
    user_input: Mapped[str | None] = mapped_column(Text)
    # Set when an earlier stage changed after this one was completed.
    needs_review: Mapped[bool] = mapped_column(default=False)
    validated_at: Mapped[dt.datetime | None]
    completed_at: Mapped[dt.datetime | None]
    # The stage's latest generation job. While it is queued or running the stage shows as
    # "generating"; once it ends, whatever way (even a crash), ``status`` is what remains,
    # so a stage can never be stuck in "generating".
    # No foreign key: jobs already point at artifacts and artifacts at stages, and a cycle
    # of keys would complicate every insert; a job that is gone reads as "not generating".
    job_id: Mapped[uuid.UUID | None]

    __table_args__ = (UniqueConstraint("project_id", "stage_number"),)


class Template(IdMixin, CreatedMixin, Base):
    """Seed 001 Template: pre-filled stage data cloned into a new project."""

    __tablename__ = "templates"

    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    pack: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[TemplateCategory] = mapped_column(
        str_enum(TemplateCategory, "template_category"), default=TemplateCategory.OTHER
    )
    icon: Mapped[str | None] = mapped_column(String(64))
    stage_defaults: Mapped[dict[str, Any]] = mapped_column(default=dict)
    is_built_in: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (Index("ix_templates_owner_id", "owner_id"),)
