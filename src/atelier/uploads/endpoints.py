"""``/api/v1/uploads``: files in (streamed, sniffed, limited), their text and images out."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from atelier.accounts.deps import CurrentUser
from atelier.config import Settings
from atelier.core.deps import DB
from atelier.core.errors import NotFound
from atelier.core.openapi import error_responses
from atelier.core.pagination import Page
from atelier.core.storage import Storage
from atelier.projects.access import Need, load_project
from atelier.uploads import service
from atelier.uploads.accept import accept_upload
from atelier.uploads.kinds import all_kinds
from atelier.uploads.models import UploadStatus
from atelier.uploads.schemas import UploadKindOut, UploadOut, UploadTextOut
from atelier.uploads.sniff import IMAGE_TYPES, SUPPORTED

router = APIRouter(prefix="/uploads", tags=["uploads"])

# Served inline: images a browser shows as images whatever their bytes say (nosniff).
INLINE_TYPES = IMAGE_TYPES
TEXT_PAGE_DEFAULT = 20_000
TEXT_PAGE_MAX = 200_000

_MULTIPART: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "project_id": {"type": "string", "format": "uuid"},
                        "kind": {
                            "type": "string",
                            "description": "an upload kind (GET /api/v1/uploads/kinds); "
                            "default 'file'",
                        },
                    },
                }
            }
        },
    }
}


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/kinds", response_model=list[UploadKindOut])
async def list_kinds(request: Request, user: CurrentUser) -> list[UploadKindOut]:
    """The kinds of file this instance accepts, with their types and limits."""
    return [
        UploadKindOut(
            key=kind.key,
            label=kind.label,
            max_bytes=kind.max_bytes,
            content_types=list(kind.content_types),
            min_side=kind.min_side,
            max_side=kind.max_side,
        )
        for kind in all_kinds(_settings(request)).values()
    ]


@router.post(
    "",
    status_code=201,
    response_model=UploadOut,
    openapi_extra=_MULTIPART,
    responses=error_responses(
        404,
        413,
        415,
        s404="project_not_found: no such project among those you can see",
        s413="file_too_large (with the limit) or storage_quota_exceeded",
        s415="unsupported_type: the accepted types are named",
    ),
)
async def create_upload(
    request: Request, response: Response, user: CurrentUser, session: DB
) -> UploadOut:
    """Upload one file (multipart field ``file``; optional ``project_id`` and ``kind``).
    The record comes back at once with status PENDING; its processing (text extraction,
    OCR, thumbnail) runs as a job: follow ``job_id``, or poll the record."""
    upload = await accept_upload(
        request,
        session=session,
        user=user,
        settings=_settings(request),
        storage=_storage(request),
    )
    response.headers["Location"] = f"/api/v1/uploads/{upload.id}"
    return UploadOut.of(upload)


@router.get("", response_model=Page[UploadOut], responses=error_responses(404))
async def list_uploads(
    request: Request,
    user: CurrentUser,
    session: DB,
    project_id: uuid.UUID | None = None,
    status: UploadStatus | None = None,
    mime_type: Annotated[
        str | None, Query(max_length=127, description="e.g. application/pdf, or image/*")
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=500, description="words the extracted text must all contain"),
    ] = None,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Page[UploadOut]:
    """Your uploads, newest first; with ``project_id``, the project's uploads (anyone's,
    for members of its organization)."""
    settings = _settings(request)
    size = min(limit or settings.page_size_default, settings.page_size_max)
    if project_id is not None:
        await load_project(session, user=user, project_id=project_id, need=Need.READ)
    rows, next_cursor = await service.list_uploads(
        session,
        user=user,
        cursor=cursor,
        limit=size,
        project_id=project_id,
        status=status,
        mime_type=mime_type,
        q=q,
    )
    return Page(items=[UploadOut.of(row, full=False) for row in rows], next_cursor=next_cursor)


@router.get("/{upload_id}", response_model=UploadOut, responses=error_responses(404))
async def get_upload(upload_id: uuid.UUID, user: CurrentUser, session: DB) -> UploadOut:
    access = await service.load_upload(session, user=user, upload_id=upload_id)
    return UploadOut.of(access.upload)


def _disposition(kind: str, name: str) -> str:
    fallback = name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def _stream(storage: Storage, key: str, media_type: str, disposition: str) -> Response:
    try:
        chunks = storage.iter_chunks(key)
    except FileNotFoundError:
        raise NotFound("the file is no longer in storage", code="upload_file_missing") from None
    return StreamingResponse(
        iterate_in_threadpool(chunks),
        media_type=media_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            # Even if a browser were talked into rendering it, nothing in it may run.
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


@router.get(
    "/{upload_id}/content",
    response_class=Response,
    responses={
        200: {
            "content": {mime: {} for mime in SUPPORTED},
            "description": "the file, in the type sniffed when it was uploaded",
        },
        **error_responses(404, 410),
    },
)
async def download_upload(
    request: Request, upload_id: uuid.UUID, user: CurrentUser, session: DB
) -> Response:
    """The stored bytes: images inline, everything else as an attachment."""
    upload = (await service.load_upload(session, user=user, upload_id=upload_id)).upload
    if upload.status == UploadStatus.DELETED:
        raise service.Gone("the upload was deleted")
    inline = upload.mime_type in INLINE_TYPES
    disposition = _disposition("inline" if inline else "attachment", upload.filename)
    return _stream(_storage(request), upload.path, upload.mime_type, disposition)


@router.get(
    "/{upload_id}/thumbnail",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "a PNG at most 320 px a side"},
        **error_responses(404, 410),
    },
)
async def upload_thumbnail(
    request: Request, upload_id: uuid.UUID, user: CurrentUser, session: DB
) -> Response:
    upload = (await service.load_upload(session, user=user, upload_id=upload_id)).upload
    if upload.status == UploadStatus.DELETED:
        raise service.Gone("the upload was deleted")
    if upload.thumbnail_path is None:
        raise NotFound(
            "no thumbnail: only processed images have one", code="upload_thumbnail_not_found"
        )
    name = f"{Path(upload.filename).stem}-thumbnail.png"
    return _stream(
        _storage(request), upload.thumbnail_path, "image/png", _disposition("inline", name)
    )


@router.get(
    "/{upload_id}/text", response_model=UploadTextOut, responses=error_responses(404, 409, 410)
)
async def upload_text(
    upload_id: uuid.UUID,
    user: CurrentUser,
    session: DB,
    offset: Annotated[int, Query(ge=0, description="first character")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=TEXT_PAGE_MAX, description="characters in this window")
    ] = TEXT_PAGE_DEFAULT,
    page: Annotated[
        int | None, Query(ge=1, description="start at this page (documents with pages)")
    ] = None,
) -> UploadTextOut:
    """The extracted text, a window at a time (``next_offset`` gives the next one)."""
    upload = (await service.load_upload(session, user=user, upload_id=upload_id)).upload
    if page is not None:
        offset = await service.page_offset(session, upload=upload, page=page)
    return UploadTextOut(
        **await service.read_text(session, upload=upload, offset=offset, limit=limit)
    )


@router.delete("/{upload_id}", status_code=204, responses=error_responses(404, 410))
async def delete_upload(
    request: Request, upload_id: uuid.UUID, user: CurrentUser, session: DB
) -> Response:
    """Status DELETED; the stored bytes and the text are removed (the record stays)."""
    upload = (
        await service.load_upload(session, user=user, upload_id=upload_id, need=Need.MANAGE)
    ).upload
    if upload.status == UploadStatus.DELETED:
        raise service.Gone("the upload is already deleted")
    keys = await service.mark_deleted(session, upload=upload)
    await session.commit()
    storage = _storage(request)
    # After the commit: a failed commit leaves the bytes of a live record alone.
    for key in keys:
        await asyncio.to_thread(storage.delete, key)
    return Response(status_code=204)
