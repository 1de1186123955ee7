"""The example pack's pages: its project page and one page of its own."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.projects.access import ProjectAccess
from tests.packs.example.api import count_notes

router = APIRouter(include_in_schema=False)


@router.get("/example/about", response_class=HTMLResponse)
async def about() -> HTMLResponse:
    return HTMLResponse("<h1>About the example pack</h1>")


async def project_page(request: Request, session: AsyncSession, access: ProjectAccess) -> Response:
    count = await count_notes(session, access.project.id)
    name = escape(access.project.name)
    return HTMLResponse(f"<h1>{name}</h1><p>{count} example notes</p>")
