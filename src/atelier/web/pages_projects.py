"""Pages of the web UI: the projects dashboard (being built)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from atelier.core.deps import DB
from atelier.projects import service
from atelier.web.session import WebUser
from atelier.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/projects", response_class=HTMLResponse)
async def projects(request: Request, user: WebUser, session: DB) -> Response:
    rows, _ = await service.list_projects(session, user=user, cursor=None, limit=50)
    return render(request, "projects/list.html", {"projects": rows, "nav": "projects"})
