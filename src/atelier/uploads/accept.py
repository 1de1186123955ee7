"""Take one upload request from the stream to a stored file and a queued job.

Each check answers before anything is kept: too large (413, with the limit), over the
user's quota (413), empty (422), a type the kind does not accept (415, naming the
accepted ones), an image that is a decompression bomb or out of the kind's dimensions
(422), a project the user may not write to (404/403). The bytes go to storage before
the record's transaction commits; if the commit fails they are removed again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import limits
from atelier.accounts.metering import owners_of
from atelier.accounts.principal import Principal
from atelier.config import Settings
from atelier.core.errors import AtelierError, InvalidInput, field_error
from atelier.core.ids import new_id
from atelier.core.storage import Storage
from atelier.jobs.deps import wake
from atelier.projects.access import Need, load_project
from atelier.uploads import service, sniff
from atelier.uploads.images import ImageRejected, check_image
from atelier.uploads.kind_spec import UploadKind
from atelier.uploads.kinds import all_kinds, largest_limit, resolve_kind
from atelier.uploads.models import Upload
from atelier.uploads.names import safe_filename
from atelier.uploads.receive import PayloadTooLarge, Received, receive_upload

QUOTA_CODE = "storage_quota_exceeded"


class UnsupportedType(AtelierError):
    status_code = 415
    code = "unsupported_type"


def _limit_for(settings: Settings, remaining: int) -> Callable[[dict[str, str]], tuple[int, str]]:
    """The file's limit while it streams: the kind's (if the form named it before the
    file; else the largest kind's, and the kind's own is checked after), or what is left
    of the quota when that is less."""

    def limit_for(fields: dict[str, str]) -> tuple[int, str]:
        kind = all_kinds(settings).get(fields.get("kind") or "file")
        kind_limit = kind.max_bytes if kind is not None else largest_limit(settings)
        if remaining < kind_limit:
            return remaining, QUOTA_CODE
        return kind_limit, "file_too_large"

    return limit_for


def _quota_error(settings: Settings, used: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        {
            "quota_bytes": settings.upload_quota_bytes,
            "used_bytes": used,
            "message": "this file would take your uploads past your storage quota; "
            "delete some uploads first",
        },
        code=QUOTA_CODE,
    )


async def accept_upload(
    request: Request,
    *,
    session: AsyncSession,
    user: Principal,
    settings: Settings,
    storage: Storage,
) -> Upload:
    used = await service.used_bytes(session, user.id)
    remaining = max(0, settings.upload_quota_bytes - used)
    received = await receive_upload(
        request.stream(),
        content_type=request.headers.get("content-type"),
        temp_dir=settings.data_dir / "tmp",
        limit_for=_limit_for(settings, remaining),
    )
    try:
        return await keep_received(
            received,
            session=session,
            user=user,
            settings=settings,
            storage=storage,
            used=used,
            notify=wake(request.app.state.jobs),
        )
    finally:
        received.discard()


async def keep_received(
    received: Received,
    *,
    session: AsyncSession,
    user: Principal,
    settings: Settings,
    storage: Storage,
    used: int | None = None,
    notify: Callable[[], None] | None = None,
) -> Upload:
    """Check a received file, store it and add its record and job (committed). The
    caller owns ``received.path`` (the request removes its temporary file; the CLI
    passes the user's own file)."""
    if used is None:
        used = await service.used_bytes(session, user.id)
    if received.path is None:
        raise field_error("body.file", "required: the file, as a multipart part named 'file'")
    kind = resolve_kind(settings, received.fields.get("kind") or None)
    if received.size > kind.max_bytes:
        raise PayloadTooLarge(
            {"limit_bytes": kind.max_bytes, "message": f"the file is over {kind.max_bytes} bytes"},
            code="file_too_large",
        )
    if received.size == 0:
        raise InvalidInput(
            [{"field": "body.file", "message": "the file is empty"}], code="empty_file"
        )
    if used + received.size > settings.upload_quota_bytes:
        raise _quota_error(settings, used)
    project_id = _project_id(received.fields.get("project_id"))
    organization_id = None
    if project_id is not None:
        access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
        organization_id = access.project.organization_id
    mime = await asyncio.to_thread(sniff.sniff, received.path, received.original_name)
    _check_type(kind, mime)
    meta: dict[str, object] = {}
    if mime in sniff.IMAGE_TYPES:
        try:
            width, height = await asyncio.to_thread(
                check_image,
                received.path,
                max_pixels=settings.upload_max_image_pixels,
                min_side=kind.min_side,
                max_side=kind.max_side or settings.upload_max_image_side,
            )
        except ImageRejected as rejected:
            raise InvalidInput(
                [{"field": "body.file", "message": rejected.message}], code=rejected.code
            ) from None
        meta.update(width=width, height=height)
    # The plan's upload allowance (402) before the file is stored; it is counted with
    # the upload's row below, and checked again there (another upload may have come in
    # meanwhile). Counting here would hold SQLite's write lock through the storage write.
    owners = owners_of(user.id, organization_id)
    upload_bytes = {"upload_bytes": received.size}
    await limits.check(session, owners=owners, adding=upload_bytes, settings=settings)
    upload_id = new_id()
    filename = safe_filename(received.original_name)
    key = service.storage_key(user.id, upload_id, "original")
    assert mime is not None
    await asyncio.to_thread(storage.put_file, key, received.path)
    upload = Upload(
        id=upload_id,
        filename=filename,
        original_name=received.original_name[:1024],
        path=key,
        size=received.size,
        mime_type=mime,
        kind=kind.key,
        sha256=received.sha256,
        user_id=user.id,
        project_id=project_id,
        meta=meta or None,
    )
    try:
        await limits.charge(
            session,
            user_id=user.id,
            organization_id=organization_id,
            amounts=upload_bytes,
            settings=settings,
        )
        await service.add_upload(session, upload=upload, queue=settings.job_queue, notify=notify)
        await session.commit()
    except BaseException:
        await session.rollback()
        await asyncio.to_thread(storage.delete, key)
        raise
    return upload


def _project_id(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise field_error("body.project_id", "not a project id (a UUID)") from None


def _check_type(kind: UploadKind, mime: str | None) -> None:
    if mime is not None and mime in kind.content_types:
        return
    found = mime or "a type Atelier cannot read"
    raise UnsupportedType(
        {
            "message": f"{found} is not accepted for {kind.label.lower()} uploads",
            "found": mime,
            "accepted": list(kind.content_types),
        }
    )
