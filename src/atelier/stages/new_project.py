"""Creating a project: the row, then its pack's stages (the first one active)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.projects import service
from atelier.projects.models import Project
from atelier.stages.pipeline import create_stages


async def create_project(session: AsyncSession, *, user: Principal, **fields: Any) -> Project:
    """``projects.service.add_project``'s fields; a pipeline pack's project also gets its
    stages, with the inputs its template gives."""
    project, stage_defaults = await service.add_project(session, user=user, **fields)
    await create_stages(session, project=project, user_id=user.id, stage_defaults=stage_defaults)
    return project
