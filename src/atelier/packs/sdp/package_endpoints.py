"""/projects/{id}/exports, /exports/{id}, /projects/import: Software Design Packages.

The software design pack's API routes (``PackSpec.api_routers``); storing, listing and
reading back a package is the engine's (``atelier.exports.packages``), what is in one
the pack's (``package_files``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from atelier.accounts.deps import CurrentUser
from atelier.core.deps import DB, Paging
from atelier.core.errors import Conflict, InvalidInput, NotFound
from atelier.core.openapi import error_response, error_responses
from atelier.core.pagination import Page
from atelier.core.schemas import InputModel, OutputModel
from atelier.core.storage import Storage
from atelier.exports import packages
from atelier.exports.models import ExportPackage, PackageFormat, ValidationStatus
from atelier.exports.service import filename_stem
from atelier.projects.access import Need, ProjectWrite, load_project
from atelier.projects.schemas import ProjectOut
from atelier.stages import pipeline

router = APIRouter(tags=["packages"])


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


StorageDep = Annotated[Storage, Depends(_storage)]


class ExportIn(InputModel):
    format: PackageFormat = PackageFormat.ZIP


class ExportOut(OutputModel):
    id: uuid.UUID
    project_id: uuid.UUID
    format: PackageFormat
    validation_status: ValidationStatus
    validation_messages: list[dict[str, Any]] | None
    file_size_bytes: int
    file_count: int
    manifest_sha256: str
    exported_at: dt.datetime
    download_url: str = ""

    @classmethod
    def of(cls, row: ExportPackage) -> ExportOut:
        return cls.model_validate(row).model_copy(
            update={"download_url": f"/api/v1/exports/{row.id}/download"}
        )


@router.post(
    "/projects/{project_id}/exports",
    status_code=status.HTTP_201_CREATED,
    response_model=ExportOut,
    responses=error_responses(409),
)
async def create_export(
    access: ProjectWrite, session: DB, storage: StorageDep, body: ExportIn | None = None
) -> ExportOut:
    """Render, validate and store the project's Software Design Package. The validation
    result is in the answer; download the package from ``download_url``."""
    if pipeline.pipeline_of(access.project) is None:
        raise Conflict("only software design (sdp) projects export packages", code="no_stages")
    row = await packages.create_export(
        session,
        project=access.project,
        user=access.user,
        format=(body or ExportIn()).format,
        storage=storage,
    )
    return ExportOut.of(row)


@router.get("/projects/{project_id}/exports", response_model=Page[ExportOut])
async def list_exports(
    project_id: uuid.UUID, user: CurrentUser, session: DB, page: Paging
) -> Page[ExportOut]:
    """The project's exports, newest first."""
    access = await load_project(session, user=user, project_id=project_id)
    rows, cursor = await packages.list_exports(
        session, project=access.project, cursor=page.cursor, limit=page.limit
    )
    return Page(items=[ExportOut.of(r) for r in rows], next_cursor=cursor)


async def _load_export(
    session: DB, user: CurrentUser, export_id: uuid.UUID, need: Need = Need.READ
) -> ExportPackage:
    row = await session.get(ExportPackage, export_id)
    if row is None:
        raise NotFound("no such export", code="export_not_found")
    try:
        await load_project(session, user=user, project_id=row.project_id, need=need)
    except NotFound:
        raise NotFound("no such export", code="export_not_found") from None
    return row


@router.get("/exports/{export_id}", response_model=ExportOut)
async def get_export(export_id: uuid.UUID, user: CurrentUser, session: DB) -> ExportOut:
    return ExportOut.of(await _load_export(session, user, export_id))


@router.get(
    "/exports/{export_id}/download",
    response_class=Response,
    responses={
        200: {
            "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "the package",
        }
    },
)
async def download_export(
    export_id: uuid.UUID, user: CurrentUser, session: DB, storage: StorageDep
) -> Response:
    row = await _load_export(session, user, export_id)
    project = await load_project(session, user=user, project_id=row.project_id)
    data = await asyncio.to_thread(packages.package_zip, row, storage)
    stamp = row.exported_at.strftime("%Y%m%d-%H%M%S")
    name = f"{filename_stem(project.project.name)}-sdp-{stamp}.zip"
    return Response(
        content=data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.delete("/exports/{export_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_export(
    export_id: uuid.UUID, user: CurrentUser, session: DB, storage: StorageDep
) -> Response:
    """Delete an export and its stored files (the project and its stages stay)."""
    row = await _load_export(session, user, export_id, Need.WRITE)
    await packages.delete_export(session, export=row, storage=storage)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/projects/import",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectOut,
    responses={
        **error_responses(400, s400="a multipart form that cannot be parsed"),
        422: error_response(
            422,
            "not an exported package (`invalid_package`: `detail` says why), or no file sent",
            any_detail=True,
        ),
    },
    openapi_extra={
        "requestBody": {
            "content": {
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
            "required": True,
        }
    },
)
async def import_project(request: Request, user: CurrentUser, session: DB) -> ProjectOut:
    """A new project from an exported package: send the zip as the request body
    (``Content-Type: application/zip``) or as the ``file`` field of a multipart form."""
    data = await _upload(request)
    settings = request.app.state.settings
    project = await packages.import_package(
        session, user=user, data=data, max_unpacked=settings.max_import_unpacked_bytes
    )
    return ProjectOut.model_validate(project)


async def _upload(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidInput([{"field": "body.file", "message": "attach the package's zip"}])
        return await upload.read()
    data = await request.body()
    if not data:
        raise InvalidInput([{"field": "body", "message": "send the package's zip as the body"}])
    return data
