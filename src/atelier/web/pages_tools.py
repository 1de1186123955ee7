"""The tool form that starts an artifact: ``/projects/{id}/tools/{key}/new``.

Any project's page links here (a general project's tool cards, the tools a pack's
project page offers): a project may start an artifact with a tool of its own pack or a general one.
Pipeline stage tools have their own pages (their pack's).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from atelier.ai.tools import Tool, load_tools
from atelier.core.deps import DB
from atelier.core.errors import NotFound
from atelier.projects.access import Need, load_project
from atelier.projects.catalog import DEFAULT_PACK
from atelier.projects.models import Project
from atelier.web.artifact_loading import project_url
from atelier.web.session import WebUser
from atelier.web.tool_form import ToolForm, render_tool_form, submit_tool_form, usable_providers

router = APIRouter(include_in_schema=False)


def _usable_tool(project: Project, key: str) -> Tool:
    """A tool a project can start an artifact with here: its own pack's or a general one
    (pipeline stage tools have their own pages)."""
    tool = load_tools().get(key)
    if tool is None or tool.pack not in (project.pack, DEFAULT_PACK):
        raise NotFound(f"no tool named {key!r} for this project", code="tool_not_found")
    return tool


def _new_form(project: Project, tool: Tool) -> ToolForm:
    return ToolForm(
        project=project,
        tool=tool,
        action=f"/projects/{project.id}/tools/{tool.key}/new",
        title=f"New {tool.title.lower()}",
        intro=tool.description,
        submit="Generate",
        cancel_url=project_url(project),
        crumbs=[("Projects", "/projects"), (project.name, project_url(project))],
        name="",
        name_default=tool.title,
    )


@router.get("/projects/{project_id}/tools/{tool_key}/new", response_class=HTMLResponse)
async def new_artifact_form(
    request: Request, project_id: uuid.UUID, tool_key: str, user: WebUser, session: DB
) -> Response:
    access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    form = _new_form(access.project, _usable_tool(access.project, tool_key))
    form.providers = await usable_providers(session, user)
    return render_tool_form(request, form)


@router.post("/projects/{project_id}/tools/{tool_key}/new", response_class=HTMLResponse)
async def create_artifact(
    request: Request, project_id: uuid.UUID, tool_key: str, user: WebUser, session: DB
) -> Response:
    access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    form = _new_form(access.project, _usable_tool(access.project, tool_key))
    return await submit_tool_form(request, session, user, form)
