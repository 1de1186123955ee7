"""/templates and /projects/{id}/save-as-template."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from atelier.accounts.deps import CurrentUser
from atelier.core.deps import DB
from atelier.core.openapi import error_responses
from atelier.projects import templates
from atelier.projects.access import ProjectRead
from atelier.projects.models import TemplateCategory
from atelier.projects.template_schemas import SaveAsTemplate, TemplateList, TemplateOut

router = APIRouter(tags=["templates"])


@router.get("/templates", response_model=TemplateList)
async def list_templates(
    user: CurrentUser,
    session: DB,
    pack: Annotated[str | None, Query(max_length=32)] = None,
    category: TemplateCategory | None = None,
) -> TemplateList:
    """Built-in templates first, then your own. Create a project from one with
    ``POST /api/v1/projects {"name": ..., "template_id": ...}``."""
    rows = await templates.list_templates(session, user=user, pack=pack, category=category)
    return TemplateList(items=[TemplateOut.model_validate(t) for t in rows])


@router.get("/templates/{template_id}", response_model=TemplateOut)
async def get_template(template_id: uuid.UUID, user: CurrentUser, session: DB) -> TemplateOut:
    row = await templates.get_template(session, user=user, template_id=template_id)
    return TemplateOut.model_validate(row)


@router.delete(
    "/templates/{template_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(409),
)
async def delete_template(template_id: uuid.UUID, user: CurrentUser, session: DB) -> Response:
    await templates.delete_template(session, user=user, template_id=template_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/projects/{project_id}/save-as-template",
    status_code=status.HTTP_201_CREATED,
    response_model=TemplateOut,
    responses=error_responses(409),
)
async def save_as_template(body: SaveAsTemplate, access: ProjectRead, session: DB) -> TemplateOut:
    """Your own template from a pipeline project: each stage's user input is kept."""
    row = await templates.save_as_template(
        session, user=access.user, project=access.project, **body.model_dump()
    )
    return TemplateOut.model_validate(row)
