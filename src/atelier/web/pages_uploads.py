"""The uploads pages: the user's files (``/uploads``), a project's files
(``/projects/{id}/uploads``), one file with its extracted text (``/uploads/{id}``), and
the delete form.

Lists and the preview read through the uploads service with the caller's access checked
as the API checks it (another user's file, or a project they cannot read, is the 404
page). Files are sent by the page's script straight to ``POST /api/v1/uploads`` (with
the session cookie and the page's CSRF token), so that the browser can show upload
progress; the script then asks ``/uploads/{id}/row`` for the new row, rendered by the
same template as the list, and follows its status until processing ends.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.core.deps import DB
from atelier.core.errors import AtelierError, InvalidInput, NotFound
from atelier.core.storage import Storage
from atelier.projects.access import Need, ProjectAccess, access_level, load_project, require
from atelier.projects.models import Project
from atelier.uploads import service
from atelier.uploads.models import Upload, UploadStatus
from atelier.web import upload_views as views
from atelier.web.artifact_loading import crumbs as project_crumbs
from atelier.web.cursors import cursor_or_none
from atelier.web.flash import FormText, Notices, back, notice_of
from atelier.web.pages_projects import ago
from atelier.web.paging import page_url
from atelier.web.session import WebUser, csrf_ok
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)

UPLOADS_PAGE = 20
# Characters of extracted text per preview window: a few screens, not a whole book.
TEXT_WINDOW = 5000
SEARCH_MAX = 500

NOTICES: Notices = {
    "deleted": ("ok", "File deleted."),
    "already-deleted": ("warn", "That file had already been deleted."),
    "expired": ("error", "The form expired. Please try again."),
}

_LISTED = {value for value, _ in views.STATUS_FILTERS if value}
# Where the delete form may send people back to (never an address taken as it is).
_RETURN = re.compile(r"^/(uploads|projects/[0-9a-f-]{36}/uploads)$")


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def _can_manage(upload: Upload, user: Principal, project: ProjectAccess | None) -> bool:
    """As ``DELETE /api/v1/uploads/{id}`` allows: the uploader, or whoever manages the
    project it belongs to."""
    return upload.user_id == user.id or (project is not None and project.level >= Need.MANAGE)


# ------------------------------------------------------------------ lists
@router.get("/uploads", response_class=HTMLResponse)
async def my_uploads(
    request: Request,
    user: WebUser,
    session: DB,
    q: str = "",
    status: str = "",
    cursor: str | None = None,
    msg: str | None = None,
) -> Response:
    return await _list_page(
        request, session, user, project=None, q=q, status=status, cursor=cursor, msg=msg
    )


@router.get("/projects/{project_id}/uploads", response_class=HTMLResponse)
async def project_uploads(
    request: Request,
    project_id: uuid.UUID,
    user: WebUser,
    session: DB,
    q: str = "",
    status: str = "",
    cursor: str | None = None,
    msg: str | None = None,
) -> Response:
    access = await load_project(session, user=user, project_id=project_id, need=Need.READ)
    return await _list_page(
        request, session, user, project=access, q=q, status=status, cursor=cursor, msg=msg
    )


async def _list_page(
    request: Request,
    session: AsyncSession,
    user: Principal,
    *,
    project: ProjectAccess | None,
    q: str,
    status: str,
    cursor: str | None,
    msg: str | None,
) -> Response:
    # Query values are read leniently: an edited address shows a page, never an error.
    q = " ".join(q.split())[:SEARCH_MAX]
    status = status if status in _LISTED else ""
    cursor = cursor_or_none(cursor)
    path = f"/projects/{project.project.id}/uploads" if project else "/uploads"
    search_error = None
    try:
        rows, more = await service.list_uploads(
            session,
            user=user,
            cursor=cursor,
            limit=UPLOADS_PAGE,
            project_id=project.project.id if project else None,
            status=UploadStatus(status) if status else None,
            q=q or None,
        )
    except InvalidInput as refused:
        # A search with no words in it: said next to the box, not as an error page.
        search_error = _message(refused)
        rows, more = [], None
    context: dict[str, Any] = {
        "nav": "uploads",
        "uploads": rows,
        "manageable": {row.id for row in rows if _can_manage(row, user, project)},
        "list_path": path,
        "next_url": page_url(path, q=q, status=status, cursor=more) if more else None,
        "ago": ago,
        **views.HELPERS,
    }
    if cursor and request.headers.get("HX-Request"):
        # "Load more" through htmx: only the next rows (and the next button, out of band).
        return render(request, "uploads/_rows.html", {**context, "partial": True})
    settings = request.app.state.settings
    context |= {
        "project": project.project if project else None,
        "crumbs": project_crumbs(project.project) if project else [],
        # A viewer of an organization's project reads its files but adds none.
        "can_upload": project is None or project.level >= Need.WRITE,
        "zone": views.zone_config(settings, str(project.project.id) if project else None),
        "accepted": views.accepted_names(settings),
        "max_size": views.max_size(settings),
        "q": q,
        "status": status,
        "statuses": views.STATUS_FILTERS,
        "filtered": bool(q or status),
        "search_error": search_error,
        "cursor": cursor,
        # Without the script, "Load more" opens the next page: this goes back to the first.
        "first_url": page_url(path, q=q, status=status) if cursor else None,
        "status_names": views.STATUSES,
        "flash": notice_of(NOTICES, msg),
    }
    return render(request, "uploads/list.html", context)


def _message(error: AtelierError) -> str:
    detail = error.detail
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return str(detail[0].get("message", ""))
    return str(detail or "")


@router.get("/uploads/{upload_id}/row", response_class=HTMLResponse)
async def upload_row(
    request: Request, upload_id: uuid.UUID, user: WebUser, session: DB
) -> Response:
    """One row of a list, for the script that adds a new upload to the page."""
    access = await service.load_upload(session, user=user, upload_id=upload_id)
    upload = access.upload
    return render(
        request,
        "uploads/_row.html",
        {
            "upload": upload,
            "manageable": {upload.id} if access.level >= Need.MANAGE else set(),
            "list_path": _return_path(request.query_params.get("list")),
            "ago": ago,
            **views.HELPERS,
        },
    )


# ------------------------------------------------------------------ one file
@router.get("/uploads/{upload_id}", response_class=HTMLResponse)
async def preview(
    request: Request,
    upload_id: uuid.UUID,
    user: WebUser,
    session: DB,
    offset: str = "",
    msg: str | None = None,
) -> Response:
    access = await service.load_upload(session, user=user, upload_id=upload_id)
    upload = access.upload
    project = await _readable_project(session, user, upload)
    list_path = f"/projects/{project.id}/uploads" if project else "/uploads"
    trail = (
        project_crumbs(project, ("Uploads", list_path)) if project else [("Uploads", "/uploads")]
    )
    start = int(offset) if offset.isascii() and offset.isdigit() else 0
    text, text_note = await _text_window(session, upload, start)
    return render(
        request,
        "uploads/preview.html",
        {
            "nav": "uploads",
            "upload": upload,
            "crumbs": trail,
            "list_path": list_path,
            "facts": views.facts(upload),
            "can_manage": access.level >= Need.MANAGE,
            "text": text,
            "text_note": text_note,
            "status_names": views.STATUSES,
            "flash": notice_of(NOTICES, msg),
            **views.HELPERS,
        },
    )


async def _readable_project(
    session: AsyncSession, user: Principal, upload: Upload
) -> Project | None:
    """The upload's project, when this user may open it (its breadcrumbs link there)."""
    if upload.project_id is None:
        return None
    project = await session.get(Project, upload.project_id)
    if project is None or project.deleted_at is not None:
        return None
    level = await access_level(
        session, user, owner_id=project.owner_id, organization_id=project.organization_id
    )
    return project if level is not None else None


async def _text_window(
    session: AsyncSession, upload: Upload, offset: int
) -> tuple[dict[str, Any] | None, str | None]:
    """A window of the extracted text, or why there is none (in words)."""
    if not upload.status.settled:
        return None, "The text is being extracted; it shows here when processing ends."
    if upload.status != UploadStatus.COMPLETED:
        return None, None  # failed or deleted: the page says so already
    try:
        window = await service.read_text(session, upload=upload, offset=offset, limit=TEXT_WINDOW)
    except NotFound:
        return None, "No text was found in this file."
    except AtelierError as error:  # gone or still processing, between the checks above
        return None, _message(error) or None
    if window["offset"] >= window["total_chars"] and window["total_chars"]:
        # An edited ?offset= past the end: the start, rather than an empty window.
        window = await service.read_text(session, upload=upload, offset=0, limit=TEXT_WINDOW)
    if not window["total_chars"]:
        return None, "No text was found in this file."
    window["end"] = window["offset"] + len(window["text"])
    return window, None


# ------------------------------------------------------------------ delete
@router.post("/uploads/{upload_id}/delete")
async def delete_upload(
    request: Request,
    upload_id: uuid.UUID,
    user: WebUser,
    session: DB,
    csrf_token: FormText = "",
    next: FormText = "",
) -> Response:
    """As ``DELETE /api/v1/uploads/{id}``: the record stays as DELETED, its bytes and
    text go. Someone else's file is the 404 page."""
    target = _return_path(next)
    access = await service.load_upload(session, user=user, upload_id=upload_id)
    if not csrf_ok(request, csrf_token):
        return back(f"/uploads/{upload_id}", "expired")
    # The project's readers and writers may see the file, not delete it: the 403 page.
    require(access.level, Need.MANAGE)
    upload = access.upload
    if upload.status == UploadStatus.DELETED:
        return back(target, "already-deleted")
    keys = await service.mark_deleted(session, upload=upload)
    await session.commit()
    # After the commit, as the API does: a failed commit leaves a live file's bytes alone.
    storage = _storage(request)
    for key in keys:
        await asyncio.to_thread(storage.delete, key)
    return back(target, "deleted")


def _return_path(value: str | None) -> str:
    return value if value and _RETURN.match(value) else "/uploads"
