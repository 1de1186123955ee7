"""Uploads: who may see them, create, list, read their text, delete."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.core.db import utcnow
from atelier.core.errors import AtelierError, NotFound, field_error
from atelier.core.pagination import next_cursor, paginate_query
from atelier.jobs import service as jobs
from atelier.projects.access import Need, access_level, require
from atelier.projects.models import Project
from atelier.uploads.models import Upload, UploadStatus, UploadText
from atelier.uploads.search import matching_ids

PROCESS_JOB = "upload.process"


class Gone(AtelierError):
    status_code = 410
    code = "upload_deleted"


class StillProcessing(AtelierError):
    status_code = 409
    code = "upload_processing"


@dataclass(frozen=True, slots=True)
class UploadAccess:
    upload: Upload
    level: Need


def storage_key(user_id: uuid.UUID, upload_id: uuid.UUID, name: str) -> str:
    """Keys are ours, never the client's name: one folder per upload."""
    return f"uploads/{user_id}/{upload_id}/{name}"


async def used_bytes(session: AsyncSession, user_id: uuid.UUID) -> int:
    """What the user's uploads take in storage now (deleted ones no longer count)."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Upload.size), 0)).where(
            Upload.user_id == user_id, Upload.status != UploadStatus.DELETED
        )
    )
    return int(total or 0)


async def add_upload(
    session: AsyncSession,
    *,
    upload: Upload,
    queue: str,
    notify: Callable[[], None] | None,
) -> Upload:
    """The record and its processing job (on the instance's queue), in the caller's
    transaction."""
    session.add(upload)
    await session.flush()
    job = await jobs.enqueue(
        session,
        user_id=upload.user_id,
        kind=PROCESS_JOB,
        payload={"upload_id": str(upload.id)},
        project_id=upload.project_id,
        queue=queue,
        notify=notify,
    )
    upload.job_id = job.id
    await session.flush()
    return upload


async def load_upload(
    session: AsyncSession, *, user: Principal, upload_id: uuid.UUID, need: Need = Need.READ
) -> UploadAccess:
    """The uploader may do anything with an upload; others reach it through its project,
    by their role there. Anyone else gets 404."""
    upload = await session.get(Upload, upload_id)
    if upload is None:
        raise NotFound("no such upload", code="upload_not_found")
    level: Need | None = Need.MANAGE if upload.user_id == user.id else None
    if level is None and upload.project_id is not None:
        project = await session.get(Project, upload.project_id)
        if project is not None and project.deleted_at is None:
            level = await access_level(
                session, user, owner_id=project.owner_id, organization_id=project.organization_id
            )
    if level is None:
        raise NotFound("no such upload", code="upload_not_found")
    require(level, need)
    return UploadAccess(upload=upload, level=level)


async def list_uploads(
    session: AsyncSession,
    *,
    user: Principal,
    cursor: str | None,
    limit: int,
    project_id: uuid.UUID | None = None,
    status: UploadStatus | None = None,
    mime_type: str | None = None,
    q: str | None = None,
) -> tuple[list[Upload], str | None]:
    """The user's own uploads; with ``project_id``, the project's (checked by the caller)
    whoever uploaded them. Deleted ones only when asked for by status."""
    query = select(Upload)
    if project_id is not None:
        query = query.where(Upload.project_id == project_id)
    else:
        query = query.where(Upload.user_id == user.id)
    if status is not None:
        query = query.where(Upload.status == status)
    else:
        query = query.where(Upload.status != UploadStatus.DELETED)
    if mime_type:
        query = query.where(
            Upload.mime_type.startswith(mime_type[:-1])
            if mime_type.endswith("/*")
            else Upload.mime_type == mime_type
        )
    if q:
        dialect = session.get_bind().dialect.name
        query = query.where(Upload.id.in_(matching_ids(dialect, q)))
    query = paginate_query(
        query, created_col=Upload.created_at, id_col=Upload.id, cursor=cursor, limit=limit
    )
    rows = list((await session.scalars(query)).all())
    return rows[:limit], next_cursor(rows, limit)


async def read_text(
    session: AsyncSession, *, upload: Upload, offset: int, limit: int
) -> dict[str, Any]:
    """A window of the extracted text, with where the next one starts."""
    if upload.status == UploadStatus.DELETED:
        raise Gone("the upload was deleted; its text went with it")
    row = await session.get(UploadText, upload.id)
    if row is None:
        if upload.status in (UploadStatus.PENDING, UploadStatus.PROCESSING):
            raise StillProcessing("the upload is still being processed; follow its job")
        raise NotFound("no text was extracted from this upload", code="upload_text_not_found")
    content = row.content
    window = content[offset : offset + limit]
    end = offset + len(window)
    starts = row.page_starts or []
    return {
        "upload_id": str(upload.id),
        "offset": offset,
        "text": window,
        "total_chars": len(content),
        "next_offset": end if end < len(content) else None,
        "pages": len(starts) or None,
        # Which page the window starts on (1-based), for documents with pages.
        "page": (sum(1 for start in starts if start <= offset) or None) if starts else None,
        "page_starts": starts or None,
    }


async def page_offset(session: AsyncSession, *, upload: Upload, page: int) -> int:
    """Where page ``page`` (1-based) starts in the extracted text."""
    row = await session.get(UploadText, upload.id)
    starts = (row.page_starts if row is not None else None) or []
    if not starts:
        raise field_error("query.page", "this upload's text has no pages")
    if page > len(starts):
        raise field_error("query.page", f"the document has {len(starts)} pages")
    return starts[page - 1]


async def mark_deleted(session: AsyncSession, *, upload: Upload) -> list[str]:
    """Status DELETED and the text gone; the storage keys to remove after the commit."""
    keys = [upload.path]
    if upload.thumbnail_path:
        keys.append(upload.thumbnail_path)
    text_row = await session.get(UploadText, upload.id)
    if text_row is not None:
        await session.delete(text_row)
    upload.status = UploadStatus.DELETED
    upload.updated_at = utcnow()
    await session.flush()
    return keys
