"""POST /projects (a project with its stages) and PATCH /projects/{id} (its AI provider
must be one the user may use)."""

from __future__ import annotations

from fastapi import APIRouter, status

from atelier.accounts.deps import CurrentUser
from atelier.ai import service as ai_service
from atelier.core.deps import DB
from atelier.core.errors import NotFound, field_error
from atelier.core.openapi import error_responses
from atelier.projects import service
from atelier.projects.access import ProjectWrite
from atelier.projects.schemas import ProjectCreate, ProjectOut, ProjectUpdate
from atelier.stages.new_project import create_project

router = APIRouter(prefix="/projects", tags=["projects"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProjectOut)
async def create(body: ProjectCreate, user: CurrentUser, session: DB) -> ProjectOut:
    project = await create_project(session, user=user, **body.model_dump())
    return ProjectOut.model_validate(project)


@router.patch("/{project_id}", response_model=ProjectOut, responses=error_responses(409))
async def update(body: ProjectUpdate, access: ProjectWrite, session: DB) -> ProjectOut:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("ai_provider_id") is not None:
        try:
            await ai_service.load_config(
                session, user=access.user, config_id=changes["ai_provider_id"]
            )
        except NotFound:
            raise field_error(
                "body.ai_provider_id", "no such AI provider among those you can use"
            ) from None
    project = await service.update_project(session, access=access, changes=changes)
    return ProjectOut.model_validate(project)
