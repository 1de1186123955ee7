"""The Upload record (seed 002 ``uploads``) and the text extracted from it."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from atelier.core.db import Base, IdMixin, JSONType, TimestampMixin, str_enum


class UploadStatus(enum.StrEnum):
    PENDING = "PENDING"  # stored, waiting for its processing job
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"  # processing failed; the record and the bytes stay
    DELETED = "DELETED"  # the bytes are gone; the record stays as a trace

    @property
    def settled(self) -> bool:
        return self in (UploadStatus.COMPLETED, UploadStatus.FAILED, UploadStatus.DELETED)


class Upload(IdMixin, TimestampMixin, Base):
    __tablename__ = "uploads"

    # The stored name (sanitized); ``original_name`` is what the client sent.
    filename: Mapped[str] = mapped_column(String(255))
    original_name: Mapped[str] = mapped_column(String(1024))
    # A key of the storage interface (atelier.core.storage), not a file system path.
    path: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(BigInteger)
    # Sniffed from the bytes; the client's Content-Type is not trusted.
    mime_type: Mapped[str] = mapped_column(String(127))
    # The upload kind (the engine's or a pack's ``UploadKind``) whose limits applied.
    kind: Mapped[str] = mapped_column(String(64), default="file")
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[UploadStatus] = mapped_column(
        str_enum(UploadStatus, "upload_status"), default=UploadStatus.PENDING
    )
    # Why processing failed, in words a user can act on.
    failure_reason: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL")
    )
    # The processing job (GET /jobs/{id}/events follows it).
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    # Pages, words, language, image dimensions, OCR words (seed 003's analysisResult shape).
    # ``metadata`` is taken by SQLAlchemy's declarative base, hence the attribute name.
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    # Storage key of the thumbnail, for images.
    thumbnail_path: Mapped[str | None] = mapped_column(String(500))
    processed_at: Mapped[dt.datetime | None]

    __table_args__ = (
        Index("ix_uploads_user_id", "user_id"),
        Index("ix_uploads_status", "status"),
        Index("ix_uploads_user_created", "user_id", "created_at"),
        Index("ix_uploads_project_id", "project_id"),
    )


class UploadText(Base):
    """The extracted text of an upload, one row, apart from the record so that lists and
    gets never read it. Full-text search: an FTS5 table on SQLite, a tsvector column
    with a GIN index on PostgreSQL (both made by migration 0009, see ``search``)."""

    __tablename__ = "upload_texts"

    upload_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[str] = mapped_column(Text)
    # Character offsets where each page starts (PDFs), so the text can be paged by page.
    page_starts: Mapped[list[int] | None] = mapped_column(JSONType, default=None)
