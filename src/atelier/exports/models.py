"""Seed 001 ExportPackage: one exported Software Design Package and its validation result."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from atelier.core.db import Base, IdMixin, JSONType, str_enum, utcnow


class PackageFormat(enum.StrEnum):
    ZIP = "zip"
    FOLDER = "folder"


class ValidationStatus(enum.StrEnum):
    VALID = "valid"
    WARNINGS = "warnings"
    ERRORS = "errors"


class ExportPackage(IdMixin, Base):
    __tablename__ = "export_packages"

    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    format: Mapped[PackageFormat] = mapped_column(str_enum(PackageFormat, "package_format"))
    validation_status: Mapped[ValidationStatus] = mapped_column(
        str_enum(ValidationStatus, "validation_status")
    )
    validation_messages: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    # A key of the storage interface (atelier.core.storage), not an absolute path.
    file_path: Mapped[str] = mapped_column(String(500))
    file_size_bytes: Mapped[int]
    file_count: Mapped[int] = mapped_column(default=0)
    # SHA-256 of manifest.json: two exports with the same digest have identical files.
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    exported_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_export_packages_project_exported", "project_id", "exported_at"),)
