"""The example pack's pages: its project page with a form (the engine's form helper), and
one page of its own. Its templates and stylesheet come from its own folders."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.core.deps import DB
from atelier.projects.access import Need, ProjectAccess, load_project
from atelier.web.form_page import form_fields, read_form
from atelier.web.session import WebUser
from atelier.web.templating import render
from tests.packs.example.api import NoteIn, count_notes
from tests.packs.example.models import notes

router = APIRouter(include_in_schema=False)


@router.get("/example/about", response_class=HTMLResponse)
async def about() -> HTMLResponse:
    return HTMLResponse("<h1>About the example pack</h1>")


async def project_page(
    request: Request,
    session: AsyncSession,
    access: ProjectAccess,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    context = {
        "project": access.project,
        "count": await count_notes(session, access.project.id),
        "fields": form_fields(NoteIn, values, errors),
    }
    return render(request, "example/project.html", context, status=422 if errors else 200)


@router.post("/example/projects/{project_id}/notes", response_class=HTMLResponse)
async def add_note(request: Request, project_id: uuid.UUID, user: WebUser, session: DB) -> Response:
    access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    sent = await read_form(request, NoteIn)
    if sent.data is None:
        return await project_page(request, session, access, values=sent.values, errors=sent.errors)
    await session.execute(insert(notes).values(project_id=access.project.id, text=sent.data.text))
    return RedirectResponse(f"/projects/{project_id}", status_code=303)
