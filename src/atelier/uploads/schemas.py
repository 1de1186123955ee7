"""What the uploads API answers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, Field

from atelier.uploads.models import Upload, UploadStatus

# Metadata keys left out of lists: the OCR words of a large image run into megabytes.
HEAVY_METADATA = ("analysisResult",)


class UploadOut(BaseModel):
    id: uuid.UUID
    filename: str = Field(description="the stored name (sanitized)")
    original_name: str = Field(description="the name the client sent")
    path: str = Field(description="the storage key")
    size: int = Field(description="bytes")
    mime_type: str = Field(description="sniffed from the bytes")
    kind: str
    sha256: str
    status: UploadStatus
    failure_reason: str | None = None
    user_id: uuid.UUID
    project_id: uuid.UUID | None = None
    job_id: uuid.UUID | None = Field(
        default=None, description="the processing job: GET /api/v1/jobs/{id}/events follows it"
    )
    metadata: dict[str, Any] | None = Field(
        default=None,
        description="pages, words, language, charset; for images width, height, "
        "dominantColors and analysisResult (text.fullText, text.words with boxes)",
    )
    has_thumbnail: bool = False
    processed_at: dt.datetime | None = None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, upload: Upload, *, full: bool = True) -> UploadOut:
        meta = upload.meta
        if meta is not None and not full:
            meta = {key: value for key, value in meta.items() if key not in HEAVY_METADATA}
        return cls(
            id=upload.id,
            filename=upload.filename,
            original_name=upload.original_name,
            path=upload.path,
            size=upload.size,
            mime_type=upload.mime_type,
            kind=upload.kind,
            sha256=upload.sha256,
            status=upload.status,
            failure_reason=upload.failure_reason,
            user_id=upload.user_id,
            project_id=upload.project_id,
            job_id=upload.job_id,
            metadata=meta,
            has_thumbnail=upload.thumbnail_path is not None,
            processed_at=upload.processed_at,
            created_at=upload.created_at,
            updated_at=upload.updated_at,
        )


class UploadTextOut(BaseModel):
    upload_id: uuid.UUID
    offset: int
    text: str
    total_chars: int
    next_offset: int | None = Field(description="where the next window starts; null at the end")
    pages: int | None = None
    page: int | None = Field(default=None, description="the page the window starts on (1-based)")
    page_starts: list[int] | None = Field(
        default=None, description="the character offset where each page starts"
    )


class UploadKindOut(BaseModel):
    key: str
    label: str
    max_bytes: int
    content_types: list[str]
    min_side: int | None = None
    max_side: int | None = None
