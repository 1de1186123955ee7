"""The processing job of an upload: text out of the file, OCR for images and scans, a
thumbnail for images. Runs on the in-process runner (SQLite) or any `atelier worker`
(PostgreSQL): it needs only the database and the storage, both shared.

A file the extractors cannot read (corrupt, password-protected) ends FAILED with a
reason in words; the record and the bytes stay. A crash mid-way leaves the upload
PROCESSING and the job is taken back and run again by the runner.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path
from typing import Any

import structlog

from atelier.core.child_pool import ChildDied, ChildTimedOut
from atelier.core.db import session_scope, utcnow
from atelier.core.storage import Storage
from atelier.jobs.models import Job
from atelier.jobs.runner import JobControl, JobFailed
from atelier.jobs.tasks import task
from atelier.uploads.extract import Extracted, ExtractionFailed, ExtractOptions
from atelier.uploads.isolated import extract_isolated
from atelier.uploads.models import Upload, UploadStatus, UploadText
from atelier.uploads.service import PROCESS_JOB, storage_key

log = structlog.get_logger("atelier.uploads")

STOPPED_REASON = (
    "processing stopped before it finished, more than once; the file may be too large or "
    "damaged to read"
)


@task(PROCESS_JOB)
async def process_upload(services: Any, job_id: uuid.UUID, control: JobControl) -> dict[str, Any]:
    settings = services.settings
    storage: Storage = services.storage
    async with session_scope(services.maker) as session:
        job = await session.get(Job, job_id)
        upload = await session.get(Upload, uuid.UUID(job.payload["upload_id"])) if job else None
        if upload is None or upload.status == UploadStatus.DELETED:
            return {"skipped": "the upload is gone"}
        if job is not None and job.attempts >= job.max_attempts > 1:
            # Every earlier run died mid-way (a restart, or a file that brings its
            # process down): the last one says so instead of trying again.
            upload.status = UploadStatus.FAILED
            upload.failure_reason = STOPPED_REASON
            upload.processed_at = utcnow()
            failed_early = True
        else:
            failed_early = False
            upload.status = UploadStatus.PROCESSING
        upload.updated_at = utcnow()
        path_key, mime, upload_id, user_id = (
            upload.path,
            upload.mime_type,
            upload.id,
            upload.user_id,
        )
    if failed_early:
        raise JobFailed("upload_unreadable", STOPPED_REASON)
    await control.emit("progress", {"stage": "download", "fraction": 0.0})
    options = ExtractOptions(
        max_ocr_pages=settings.upload_ocr_max_pages,
        max_image_pixels=settings.upload_max_image_pixels,
    )

    async def progress(fraction: float, stage: str) -> None:
        await control.emit("progress", {"stage": stage, "fraction": round(fraction, 3)})

    temp_dir = settings.data_dir / "tmp"
    await asyncio.to_thread(temp_dir.mkdir, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=temp_dir, prefix="process-") as folder:
        local = Path(folder) / "original"
        await asyncio.to_thread(storage.download, path_key, local)
        reason: str | None = None
        try:
            extracted = await extract_isolated(
                local,
                mime,
                options,
                limit_seconds=settings.upload_processing_timeout_seconds,
                progress=progress,
            )
        except ExtractionFailed as failed:
            reason = failed.reason
        except ChildTimedOut:
            reason = (
                f"reading the file took longer than "
                f"{settings.upload_processing_timeout_seconds:g} s and was stopped"
            )
        except ChildDied:
            reason = "the file stopped the program reading it; it may be damaged"
        except Exception as error:  # a parser's own error on a malformed file
            log.warning("upload_extraction_crashed", upload_id=str(upload_id), error=repr(error))
            reason = f"the file could not be read ({type(error).__name__}); it may be damaged"
    if reason is not None:
        await _fail(services, upload_id, reason)
        raise JobFailed("upload_unreadable", reason)
    thumbnail_key = None
    if extracted.thumbnail_png is not None:
        thumbnail_key = storage_key(user_id, upload_id, "thumbnail.png")
        await asyncio.to_thread(storage.put, thumbnail_key, extracted.thumbnail_png)
    return await _complete(services, control, upload_id, extracted, thumbnail_key)


async def _complete(
    services: Any,
    control: JobControl,
    upload_id: uuid.UUID,
    extracted: Extracted,
    thumbnail_key: str | None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "upload_id": str(upload_id),
        "characters": len(extracted.text),
        "pages": extracted.metadata.get("pages"),
        "words": extracted.metadata.get("words"),
    }
    async with session_scope(services.maker) as session:
        upload = await session.get(Upload, upload_id)
        if upload is None or upload.status == UploadStatus.DELETED:
            # Deleted while it was processed: keep nothing of it.
            if thumbnail_key is not None:
                await asyncio.to_thread(services.storage.delete, thumbnail_key)
            return {"skipped": "the upload was deleted while it was processed"}
        existing = await session.get(UploadText, upload_id)
        if existing is not None:
            existing.content = extracted.text
            existing.page_starts = extracted.page_starts
        else:
            session.add(
                UploadText(
                    upload_id=upload_id,
                    content=extracted.text,
                    page_starts=extracted.page_starts,
                )
            )
        upload.meta = {**(upload.meta or {}), **extracted.metadata}
        upload.thumbnail_path = thumbnail_key
        upload.status = UploadStatus.COMPLETED
        upload.failure_reason = None
        upload.processed_at = utcnow()
        upload.updated_at = upload.processed_at
        await control.succeed_in(session, result)
    return result


async def _fail(services: Any, upload_id: uuid.UUID, reason: str) -> None:
    async with session_scope(services.maker) as session:
        upload = await session.get(Upload, upload_id)
        if upload is None or upload.status == UploadStatus.DELETED:
            return
        upload.status = UploadStatus.FAILED
        upload.failure_reason = reason
        upload.processed_at = utcnow()
        upload.updated_at = upload.processed_at
