"""/projects: list, read, delete and restore (create and change: ``api/projects.py``)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from atelier.accounts.deps import CurrentUser
from atelier.core.deps import DB, Paging
from atelier.core.openapi import error_responses
from atelier.core.pagination import Page
from atelier.projects import service
from atelier.projects.access import Need, ProjectRead, ProjectWrite, load_project, require
from atelier.projects.catalog import PackKey
from atelier.projects.models import Phase, ProjectStatus
from atelier.projects.schemas import ProjectOut

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("", response_model=Page[ProjectOut])
async def list_projects(
    user: CurrentUser,
    session: DB,
    page: Paging,
    pack: Annotated[PackKey | None, Query()] = None,
    status: ProjectStatus | None = None,
    phase: Phase | None = None,
    organization_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=200, description="name contains")] = None,
    deleted: Annotated[bool, Query(description="list your deleted projects instead")] = False,
) -> Page[ProjectOut]:
    projects, cursor = await service.list_projects(
        session,
        user=user,
        cursor=page.cursor,
        limit=page.limit,
        pack=pack,
        status=status,
        phase=phase,
        organization_id=organization_id,
        search=q,
        deleted=deleted,
    )
    return Page(items=[ProjectOut.model_validate(p) for p in projects], next_cursor=cursor)


@router.get("/{project_id}", response_model=ProjectOut)
async def get_project(access: ProjectRead) -> ProjectOut:
    return ProjectOut.model_validate(access.project)


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(access: ProjectWrite, session: DB) -> Response:
    require(access.level, Need.MANAGE)
    await service.soft_delete(session, project=access.project)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{project_id}/restore", response_model=ProjectOut, responses=error_responses(409))
async def restore_project(project_id: uuid.UUID, user: CurrentUser, session: DB) -> ProjectOut:
    access = await load_project(
        session, user=user, project_id=project_id, need=Need.MANAGE, include_deleted=True
    )
    project = await service.restore(session, project=access.project)
    return ProjectOut.model_validate(project)
